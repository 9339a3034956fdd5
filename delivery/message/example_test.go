package message_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// The same moment for an email (long style) and an SMS (short style), in
// the recipient's language and zone.
func ExampleNewTimeFormat() {
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	fmt.Println(message.NewTimeFormat(message.Long, "en", "en", paris).DateTime(start))
	fmt.Println(message.NewTimeFormat(message.Short, "fr", "fr", paris).DateTime(start))
	// Output:
	// Tuesday 1 December 2026, 16:00 CET
	// mar. 1er déc. 2026 16h00 CET
}

// A move as an email (long style) and an SMS (short style) write it: the
// two times in the recipient's zone, the day said once when it is the
// same; the brief form for texts that must be short.
func ExampleCleaner_Update() {
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	n := &notifyd.Notification{Type: notifyd.TypeEventModified, DTStamp: at(1, 8),
		Event: &notifyd.Event{Summary: "Team meeting", Start: at(9, 13), End: at(9, 14)},
		Update: &notifyd.Update{By: notifyd.Person{CommonName: "Fred"}, Fields: []notifyd.FieldChange{
			{Field: notifyd.FieldStart, FromTime: at(8, 9), ToTime: at(9, 13)},
			{Field: notifyd.FieldEnd, FromTime: at(8, 10), ToTime: at(9, 14)},
			{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"}}}}
	for _, style := range []message.Style{message.Long, message.Short} {
		tf := message.NewTimeFormat(style, "en", "en", paris)
		v := message.Cleaner{}.View(n, "", "", "Work", tf, "en", "en")
		for _, c := range v.Update.Changes {
			fmt.Printf("%s: %s → %s (%s)\n", c.Kind, c.From, c.To, c.Brief)
		}
	}
	// Output:
	// moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00 CET (Wednesday 9 December 14:00)
	// location: Room 1 → Room 2 (Room 2)
	// moved: Tue 8 Dec 2026 10:00 → Wed 9 Dec 2026 14:00 CET (Wed 9 Dec 14:00)
	// location: Room 1 → Room 2 (Room 2)
}

// Five notifications held for a digest come to two entries: a meeting
// moved twice is one move from its first time to its last, an event
// created and deleted inside the window is nothing, and a sharing
// invitation stays as it came.
func ExampleCollapse() {
	work := notifyd.Collection{Href: "/calendars/team/work/", DisplayName: "Work"}
	at := func(hour int) time.Time { return time.Date(2026, 12, 9, hour, 0, 0, 0, time.UTC) }
	moved := func(from, to int) *notifyd.Notification {
		return &notifyd.Notification{Type: notifyd.TypeEventModified, Calendar: work,
			Event: &notifyd.Event{UID: "standup", Summary: "Standup", Start: at(to)},
			Update: &notifyd.Update{Action: "modified", UID: "standup", Fields: []notifyd.FieldChange{
				{Field: notifyd.FieldStart, FromTime: at(from), ToTime: at(to)}}}}
	}
	update := func(typ notifyd.NotificationType, uid string) *notifyd.Notification {
		return &notifyd.Notification{Type: typ, Calendar: work, Event: &notifyd.Event{UID: uid, Summary: "Draft"},
			Update: &notifyd.Update{UID: uid}}
	}
	d := message.Collapse([]delivery.DigestItem{
		{DeliveryID: "d1", Notification: moved(9, 10)},
		{DeliveryID: "d2", Notification: update(notifyd.TypeEventCreated, "draft")},
		{DeliveryID: "d3", Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, Calendar: work,
			From: notifyd.Person{CommonName: "Fred"}}},
		{DeliveryID: "d4", Notification: moved(10, 11)},
		{DeliveryID: "d5", Notification: update(notifyd.TypeEventDeleted, "draft")},
	})
	for _, g := range d.Groups {
		fmt.Printf("%s (%d entries)\n", g.Name, len(g.Entries))
		for _, e := range g.Entries {
			fmt.Printf("  %s %v", e.Notification.Type, e.DeliveryIDs)
			if u := e.Notification.Update; u != nil {
				for _, f := range u.Fields {
					fmt.Printf(" %s %s → %s", f.Field, f.FromTime.Format("15:04"), f.ToTime.Format("15:04"))
				}
			}
			fmt.Println()
		}
	}
	fmt.Println("undone:", d.Undone)
	// Output:
	// Work (2 entries)
	//   event-modified [d1 d4] start 09:00 → 11:00
	//   share-invite [d3]
	// undone: [d2 d5]
}
