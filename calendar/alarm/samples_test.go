package alarm

import (
	"testing"
)

// The real-world samples ring what their users set.
func TestSamples(t *testing.T) {
	paris := loc(t, "Europe/Paris")
	for _, tc := range []struct {
		file, from, to string
		want           []string
	}{
		// Thunderbird, weekly at 10:00 Berlin, -PT15M: the 11 March ring
		// dismissed (X-MOZ-LASTACK), the 18 March one snoozed to 08:55Z
		// (X-MOZ-SNOOZE-TIME-<instance>), then 08:45Z and after daylight
		// time starts, 07:45Z.
		{"thunderbird-weekly.ics", "2024-03-05T00:00", "2024-04-03T00:00", []string{
			"2024-03-11T08:45 DISPLAY skip=acknowledged",
			"2024-03-18T08:45 DISPLAY skip=snoozed",
			"2024-03-18T08:55 DISPLAY snooze",
			"2024-03-25T08:45 DISPLAY",
			"2024-04-01T07:45 DISPLAY",
		}},
		// Apple: the default alarm acknowledged and snoozed (RFC 9074), its
		// snooze rings; ACTION:NONE (Apple's placeholder) is left out.
		{"apple-snooze.ics", "2024-11-01T00:00", "2024-12-01T00:00", []string{
			"2024-11-05T13:45 AUDIO skip=acknowledged",
			"2024-11-05T13:55 AUDIO snooze",
		}},
		// Exchange: Windows zone names, a comma EXDATE with TZID, a moved
		// override with its own -PT30M alarm, across the end of daylight time.
		{"exchange-weekly.ics", "2024-09-01T00:00", "2024-12-01T00:00", []string{
			"2024-10-01T11:45 DISPLAY",
			"2024-10-23T13:30 DISPLAY",
			"2024-10-29T12:45 DISPLAY",
			"2024-11-05T12:45 DISPLAY",
		}},
		// Outlook: a zone known only by its VTIMEZONE, across the start of
		// daylight time in America.
		{"outlook-custom-zone.ics", "2024-03-01T00:00", "2024-04-01T00:00", []string{
			"2024-03-08T13:50 DISPLAY",
			"2024-03-09T13:50 DISPLAY",
			"2024-03-10T12:50 DISPLAY",
			"2024-03-11T12:50 DISPLAY",
			"2024-03-12T12:50 DISPLAY",
		}},
		// Google: an all-day birthday in the calendar's zone (Paris): the
		// display alarm at 09:00 the day before, the email at midnight.
		{"google-birthday.ics", "2024-03-01T00:00", "2025-04-01T00:00", []string{
			"2024-03-13T23:00 EMAIL",
			"2024-03-14T08:00 DISPLAY",
			"2025-03-13T23:00 EMAIL",
			"2025-03-14T08:00 DISPLAY",
		}},
		// Nextcloud Tasks: DUE only; RELATED=END and a START trigger both
		// relative to the DUE (17:00 Berlin).
		{"nextcloud-task-due.ics", "2024-10-01T00:00", "2024-11-01T00:00", []string{
			"2024-10-30T15:00 DISPLAY",
			"2024-10-30T15:50 DISPLAY",
		}},
		// Evolution wrote the alarm twice: it rings once.
		{"evolution-duplicates.ics", "2024-05-01T00:00", "2024-06-01T00:00", []string{
			"2024-05-15T09:45 DISPLAY",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := compute(t, testdata(t, tc.file), paris, tc.from, tc.to)
			wantRings(t, r, tc.want...)
			if r.Truncated {
				t.Error("truncated")
			}
		})
	}
}

// What each instance carries for delivery (Sun ENS: uid, rid, aid,
// comptype; the pop-up's summary, time and place).
func TestInstanceFields(t *testing.T) {
	r := compute(t, testdata(t, "exchange-weekly.ics"), nil, "2024-10-23T00:00", "2024-10-24T00:00")
	if len(r.Instances) != 1 {
		t.Fatalf("%d instances", len(r.Instances))
	}
	in := r.Instances[0]
	if in.UID[:16] != "040000008200E000" || in.RecurrenceID != "20241022T120000Z" || in.AlarmID[:7] != "sha256:" ||
		in.Kind != "event" || in.Action != Display || in.Summary != "Jour fixe (verschoben)" ||
		in.Location != "Raum Hamburg" || in.Text != "REMINDER" || in.Zone != "Europe/Berlin" || in.AllDay ||
		!in.Start.Equal(utc("2024-10-23T14:00")) || !in.End.Equal(utc("2024-10-23T15:00")) ||
		in.Start.Location().String() != "UTC" || len(in.Key) != 32 {
		t.Errorf("instance %+v", in)
	}
	r = compute(t, testdata(t, "google-birthday.ics"), loc(t, "Europe/Paris"), "2024-03-13T00:00", "2024-03-14T00:00")
	in = r.Instances[0]
	if !in.AllDay || in.RecurrenceID != "20240315" || in.Action != Email || len(in.EmailTo) != 1 || in.EmailTo[0] != "fred@example.org" {
		t.Errorf("birthday email %+v", in)
	}
	r = compute(t, testdata(t, "nextcloud-task-due.ics"), nil, "2024-10-01T00:00", "2024-11-01T00:00")
	in = r.Instances[0]
	if in.Kind != "task" || !in.Start.IsZero() || !in.End.Equal(utc("2024-10-30T16:00")) || in.RecurrenceID != "" {
		t.Errorf("task %+v", in)
	}
	if !hasWarning(r, WarnStartOnDue) {
		t.Errorf("warnings %v", r.Warnings)
	}
}
