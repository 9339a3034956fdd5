package calendar_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// A weekly meeting written by Exchange: Windows time zone names, a
// comma-separated EXDATE, one instance moved. The instances keep 14:00 in
// Berlin across the end of daylight time.
func ExampleParse() {
	data := []byte("BEGIN:VCALENDAR\r\n" +
		"BEGIN:VEVENT\r\n" +
		"UID:jour-fixe\r\n" +
		"SUMMARY:Jour fixe\r\n" +
		"DTSTART;TZID=W. Europe Standard Time:20241001T140000\r\n" +
		"DTEND;TZID=W. Europe Standard Time:20241001T150000\r\n" +
		"RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TU\r\n" +
		"EXDATE;TZID=W. Europe Standard Time:20241008T140000,20241015T140000\r\n" +
		"END:VEVENT\r\n" +
		"BEGIN:VEVENT\r\n" +
		"UID:jour-fixe\r\n" +
		"SUMMARY:Jour fixe (moved)\r\n" +
		"RECURRENCE-ID;TZID=W. Europe Standard Time:20241022T140000\r\n" +
		"DTSTART;TZID=W. Europe Standard Time:20241023T160000\r\n" +
		"DTEND;TZID=W. Europe Standard Time:20241023T170000\r\n" +
		"END:VEVENT\r\n" +
		"END:VCALENDAR\r\n")
	obj, err := calendar.Parse(data, calendar.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	from := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	x := obj.Expand(from, from.AddDate(0, 3, 0), calendar.ExpandOptions{})
	for _, o := range x.Occurrences {
		fmt.Printf("%s  %s  (%s)  instance %s\n", o.Start.Format("Mon 2006-01-02 15:04 MST"),
			o.Start.UTC().Format("15:04Z"), o.Component.Summary, o.RecurrenceID.ID())
	}
	// Output:
	// Tue 2024-10-01 14:00 CEST  12:00Z  (Jour fixe)  instance 20241001T120000Z
	// Wed 2024-10-23 16:00 CEST  14:00Z  (Jour fixe (moved))  instance 20241022T120000Z
	// Tue 2024-10-29 14:00 CET  13:00Z  (Jour fixe)  instance 20241029T130000Z
	// Tue 2024-11-05 14:00 CET  13:00Z  (Jour fixe)  instance 20241105T130000Z
}

// Nominal durations: a day before 09:00 on the day daylight time starts
// is 09:00 the day before, not 24 hours earlier.
func ExampleDuration_AddTo() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2024, 3, 31, 9, 0, 0, 0, berlin)
	for _, s := range []string{"-P1D", "-PT24H"} {
		d, _ := calendar.ParseDuration(s)
		fmt.Println(s, d.AddTo(start).Format("2006-01-02 15:04 MST"))
	}
	// Output:
	// -P1D 2024-03-30 09:00 CET
	// -PT24H 2024-03-30 08:00 CET
}
