package alarm_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/calendar/alarm"
)

// The reminders of a daily stand-up in New York over the weekend daylight
// time starts: 10 minutes before 09:00 local on both sides. The Saturday
// instance was moved (an override, with its own alarm), Sunday's
// was declined, and Thunderbird recorded Friday's reminder as dismissed.
func ExampleCompute() {
	data := []byte("BEGIN:VCALENDAR\r\n" +
		"BEGIN:VEVENT\r\n" +
		"UID:standup\r\n" +
		"SUMMARY:Stand-up\r\n" +
		"DTSTART;TZID=Eastern Standard Time:20240308T090000\r\n" +
		"DURATION:PT15M\r\n" +
		"RRULE:FREQ=DAILY;COUNT=4\r\n" +
		"X-MOZ-LASTACK:20240308T135100Z\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\n" +
		"BEGIN:VEVENT\r\n" +
		"UID:standup\r\n" +
		"SUMMARY:Stand-up (late)\r\n" +
		"RECURRENCE-ID;TZID=Eastern Standard Time:20240309T090000\r\n" +
		"DTSTART;TZID=Eastern Standard Time:20240309T110000\r\n" +
		"DURATION:PT15M\r\n" +
		"BEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT1H\r\nATTENDEE:mailto:fred@example.org\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\n" +
		"BEGIN:VEVENT\r\n" +
		"UID:standup\r\n" +
		"SUMMARY:Stand-up\r\n" +
		"RECURRENCE-ID;TZID=Eastern Standard Time:20240310T090000\r\n" +
		"DTSTART;TZID=Eastern Standard Time:20240310T090000\r\n" +
		"DURATION:PT15M\r\n" +
		"ATTENDEE;PARTSTAT=DECLINED:mailto:fred@example.org\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\n" +
		"END:VCALENDAR\r\n")
	ny, _ := time.LoadLocation("America/New_York")
	obj, err := calendar.Parse(data, calendar.ParseOptions{DefaultLocation: ny})
	if err != nil {
		fmt.Println(err)
		return
	}
	from := time.Date(2024, 3, 8, 0, 0, 0, 0, time.UTC)
	r := alarm.Compute(obj, from, from.Add(7*24*time.Hour), alarm.Options{
		Principal: []string{"mailto:fred@example.org"},
		WrittenAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	})
	for _, in := range r.Instances {
		skip := "rings"
		if in.Skip != "" {
			skip = "skip: " + string(in.Skip)
		}
		fmt.Printf("%s %-7s %-15s instance %s  %s\n", in.Trigger.In(ny).Format("Mon 15:04 MST"),
			in.Action, in.Summary, in.RecurrenceID, skip)
	}
	// Output:
	// Fri 08:50 EST DISPLAY Stand-up        instance 20240308T140000Z  skip: acknowledged
	// Sat 10:00 EST EMAIL   Stand-up (late) instance 20240309T140000Z  rings
	// Sun 08:50 EDT DISPLAY Stand-up        instance 20240310T130000Z  skip: declined
	// Mon 08:50 EDT DISPLAY Stand-up        instance 20240311T130000Z  rings
}
