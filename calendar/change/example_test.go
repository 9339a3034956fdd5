package change_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/calendar/change"
)

// Fred moves Tuesday's jour fixe to the afternoon and renames it; his
// client also bumps SEQUENCE and DTSTAMP and rewrites the time in UTC,
// which nobody sees. Then he cancels the 19 May instance only.
func ExampleDiff() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	v1 := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:jf\r\nDTSTAMP:20260501T120000Z\r\nSEQUENCE:0\r\n" +
		"SUMMARY:Jour fixe\r\nDTSTART;TZID=Europe/Berlin:20260512T100000\r\nDURATION:PT1H\r\n" +
		"RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	v2 := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:jf\r\nDTSTAMP:20260502T090000Z\r\nSEQUENCE:1\r\n" +
		"SUMMARY:Jour fixe (Q2)\r\nDTSTART:20260512T120000Z\r\nDTEND:20260512T130000Z\r\n" +
		"RRULE:FREQ=WEEKLY;UNTIL=20260630T215959Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	v3 := v2[:len(v2)-len("END:VCALENDAR\r\n")] + "BEGIN:VEVENT\r\nUID:jf\r\n" +
		"RECURRENCE-ID:20260519T120000Z\r\nSUMMARY:Jour fixe (Q2)\r\nSTATUS:CANCELLED\r\n" +
		"DTSTART:20260519T120000Z\r\nDTEND:20260519T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	parse := func(s string) *calendar.Object {
		obj, err := calendar.Parse([]byte(s), calendar.ParseOptions{DefaultLocation: berlin})
		if err != nil {
			panic(err)
		}
		return obj
	}
	opts := change.Options{Location: berlin, Object: "/dav/cal/fred/work/jf.ics"}
	for _, step := range [][2]string{{v1, v2}, {v2, v3}, {v3, v3}} {
		for _, u := range change.Diff(parse(step[0]), parse(step[1]), opts) {
			fmt.Printf("%s %s %q\n", u.Component, u.Action, u.RecurrenceID)
			for _, f := range u.Fields {
				if !f.ToTime.IsZero() {
					fmt.Printf("  %s: %s → %s\n", f.Field, f.FromTime.In(berlin).Format("Mon 15:04"), f.ToTime.In(berlin).Format("Mon 15:04"))
				} else {
					fmt.Printf("  %s: %q → %q\n", f.Field, f.From, f.To)
				}
			}
		}
	}
	// Output:
	// event modified ""
	//   start: Tue 10:00 → Tue 14:00
	//   end: Tue 11:00 → Tue 15:00
	//   summary: "Jour fixe" → "Jour fixe (Q2)"
	//   recurrence: "weekly on Tuesday" → "weekly on Tuesday, until Tue 30 Jun 2026"
	// event modified "20260519T120000Z"
	//   status: "CONFIRMED" → "CANCELLED"
}
