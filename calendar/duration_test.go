package calendar

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Duration
		text string
	}{
		{"-PT15M", Duration{Time: -15 * time.Minute}, "-PT15M"},
		{"PT0S", Duration{}, "PT0S"},
		{"-PT0S", Duration{}, "PT0S"},
		{"P1D", Duration{Days: 1}, "P1D"},
		{"-P2W", Duration{Days: -14}, "-P14D"},
		{"+P1DT2H30M", Duration{Days: 1, Time: 2*time.Hour + 30*time.Minute}, "P1DT2H30M"},
		{"-P0DT15H0M0S", Duration{Time: -15 * time.Hour}, "-PT15H"}, // Google's form
		{"p1w2d", Duration{Days: 9}, "P9D"},                         // lax: case, weeks with days
		{"PT1H0M5S", Duration{Time: time.Hour + 5*time.Second}, "PT1H5S"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.text {
			t.Errorf("%q: String %q, want %q", tc.in, got.String(), tc.text)
		}
	}
	for _, s := range []string{"", "P", "PT", "-P", "15M", "PT15", "P1H", "PT1D", "P1DT", "PTT1H", "P1D2", "PT1000000000S", "P99999D", "P-1D"} {
		if d, err := ParseDuration(s); err == nil {
			t.Errorf("%q: accepted as %+v", s, d)
		}
	}
}

// Days are nominal: a day before 09:00 is 09:00 the day before, across a
// change of daylight time, where 24 hours would be 08:00 or 10:00.
func TestDurationNominalAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		zone, start, dur, want string
	}{
		{"Europe/Berlin", "2024-03-31T09:00", "-P1D", "2024-03-30T09:00"},
		{"Europe/Berlin", "2024-10-27T09:00", "-P1D", "2024-10-26T09:00"},
		{"America/New_York", "2024-03-10T09:00", "-P1D", "2024-03-09T09:00"},
		{"America/New_York", "2024-11-03T09:00", "-P1W", "2024-10-27T09:00"},
		{"Europe/Berlin", "2024-03-31T09:00", "-PT24H", "2024-03-30T08:00"}, // exact
		{"Europe/Berlin", "2024-03-31T09:00", "-P1DT1H", "2024-03-30T08:00"},
		{"Europe/Berlin", "2024-04-01T02:30", "-P1D", "2024-03-31T03:30"}, // lands in the gap
	} {
		loc := mustLoad(t, tc.zone)
		start := inZone(utc(tc.start), loc)
		d, err := ParseDuration(tc.dur)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AddTo(start).In(loc).Format("2006-01-02T15:04"); got != tc.want {
			t.Errorf("%s %s %s: got %s, want %s", tc.zone, tc.start, tc.dur, got, tc.want)
		}
	}
}
