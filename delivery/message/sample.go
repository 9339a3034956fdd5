package message

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// Sample returns a notification of type typ with every field set (the
// Reminder for a reminder only, the Update and a task's Due for a
// calendar update only), which a renderer renders each of its
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
	if sc := sampleScheduling(typ); sc != nil {
		n.Scheduling, n.DTStamp = sc, schedulingSampleTime
	}
	if u := sampleUpdate(typ); u != nil {
		n.Update = u
		n.DTStamp = time.Date(2025, 12, 20, 8, 0, 0, 0, time.UTC)
		if u.Component == "todo" {
			n.Event.Due = time.Date(2026, 1, 2, 17, 0, 0, 0, time.UTC)
		}
	}
	return n
}

// sampleUpdate is the Update of a sample calendar update (nil for another
// type): each kind of change its component has.
func sampleUpdate(typ notifyd.NotificationType) *notifyd.Update {
	comp, action, _ := strings.Cut(string(typ), "-")
	if !IsUpdate(typ) {
		return nil
	}
	u := &notifyd.Update{Component: comp, Action: action, By: notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"}}
	if comp == "calendar" {
		u.Fields = []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Old name", To: "Work"},
			{Field: notifyd.FieldDescription, From: "Before", To: "After"}}
		return u
	}
	u.Object, u.UID, u.RecurrenceID, u.TimeZone = "/calendars/fred/work/e.ics", "e1", "20260101T090000Z", "Europe/Paris"
	at := func(day, hour int) time.Time { return time.Date(2026, 1, day, hour, 0, 0, 0, time.UTC) }
	u.Fields = []notifyd.FieldChange{
		{Field: notifyd.FieldStart, FromTime: at(1, 9), ToTime: at(1, 10)},
		{Field: notifyd.FieldEnd, FromTime: at(1, 10), ToTime: at(1, 11)},
		{Field: notifyd.FieldSummary, From: "Old title", To: "Event"},
		{Field: notifyd.FieldLocation, From: "Old room", To: "Room"},
		{Field: notifyd.FieldStatus, From: "TENTATIVE", To: "CONFIRMED"},
		{Field: notifyd.FieldRecurrence, From: "weekly", To: "daily"},
		{Field: notifyd.FieldDescription, From: "Before", To: "After"},
		{Field: "priority", From: "1", To: "2"},
	}
	if comp == "todo" {
		u.Fields = append(u.Fields[2:],
			notifyd.FieldChange{Field: notifyd.FieldDue, FromTime: at(1, 17), ToTime: at(2, 17)},
			notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true", ToTime: at(1, 12)})
	}
	return u
}

// IsUpdate reports whether typ is a calendar update: an event, task or
// calendar created, modified or deleted.
func IsUpdate(typ notifyd.NotificationType) bool {
	switch typ {
	case notifyd.TypeEventCreated, notifyd.TypeEventModified, notifyd.TypeEventDeleted,
		notifyd.TypeTodoCreated, notifyd.TypeTodoModified, notifyd.TypeTodoDeleted,
		notifyd.TypeCalendarCreated, notifyd.TypeCalendarModified, notifyd.TypeCalendarDeleted:
		return true
	}
	return false
}
