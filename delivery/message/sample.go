package message

import (
	"time"

	"github.com/notifyd/notifyd"
)

// Sample returns a notification of type typ with every field set (the
// Reminder for a reminder only), which a renderer renders each of its
// templates with when it loads them, so that a template that parses but
// cannot run is reported at start.
func Sample(typ notifyd.NotificationType) *notifyd.Notification {
	n := &notifyd.Notification{
		Type:     typ,
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
		Calendar: notifyd.Collection{Href: "/calendars/fred/work/", DisplayName: "Work"},
		Access:   "read-write",
		Status:   "accepted",
		Summary:  "Summary",
		Event: &notifyd.Event{Href: "/calendars/fred/work/e.ics", Summary: "Event", Location: "Room",
			Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)},
		Changes: []notifyd.Change{{Kind: "updated", Href: "/calendars/fred/work/e.ics", Properties: []string{"DTSTART"}},
			{Kind: "created", Summary: "Other", By: notifyd.Person{CommonName: "Wilma"}}},
		Fields: map[string]string{"field": "value"},
	}
	if typ == notifyd.TypeReminder {
		n.Reminder = &notifyd.Reminder{Calendar: "/calendars/fred/work/", Object: "/calendars/fred/work/e.ics",
			UID: "e1", RecurrenceID: "20260101T100000Z", AlarmID: "a1", Component: "event", Action: "DISPLAY",
			Text: "Alarm", Description: "Description\nof the event", Trigger: time.Date(2026, 1, 1, 9, 45, 0, 0, time.UTC),
			TimeZone: "Europe/Paris", LateSeconds: 60, Snooze: true}
	}
	return n
}
