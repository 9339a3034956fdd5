package message_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
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
