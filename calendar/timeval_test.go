package calendar

import (
	"testing"
	"time"
)

// A wall time in a DST gap or overlap reads as RFC 5545 section 3.3.5
// says, in zones east and west of UTC, north and south.
func TestInZoneGapAndOverlap(t *testing.T) {
	for _, tc := range []struct {
		zone string
		wall string
		want string // UTC
		why  string
	}{
		{"Europe/Berlin", "2024-03-31T02:30", "2024-03-31T01:30", "gap: offset before it, 03:30 CEST"},
		{"America/New_York", "2024-03-10T02:30", "2024-03-10T07:30", "gap: offset before it, 03:30 EDT"},
		{"Europe/Berlin", "2024-10-27T02:30", "2024-10-27T00:30", "overlap: first, CEST"},
		{"America/New_York", "2024-11-03T01:30", "2024-11-03T05:30", "overlap: first, EDT"},
		{"Australia/Sydney", "2024-04-07T02:30", "2024-04-06T15:30", "overlap: first, AEDT"},
		{"Australia/Sydney", "2024-10-06T02:30", "2024-10-05T16:30", "gap: offset before it, 03:30 AEDT"},
		{"Europe/Berlin", "2024-07-01T09:00", "2024-07-01T07:00", "summer"},
		{"America/New_York", "2024-01-15T09:00", "2024-01-15T14:00", "winter"},
		{"UTC", "2024-03-31T02:30", "2024-03-31T02:30", "UTC"},
	} {
		got := inZone(utc(tc.wall), mustLoad(t, tc.zone))
		if g := got.UTC().Format("2006-01-02T15:04"); g != tc.want {
			t.Errorf("%s %s (%s): got %s, want %s", tc.zone, tc.wall, tc.why, g, tc.want)
		}
		if got.Location().String() != tc.zone {
			t.Errorf("%s %s: result in %s", tc.zone, tc.wall, got.Location())
		}
	}
}

func TestParseCivil(t *testing.T) {
	for _, s := range []string{"20240310", "20240310T090000", "20240310t090000z", "20240229", "20241231T235960"} {
		if _, err := parseCivil(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "2024031", "20240230", "20241310", "20240310T250000", "20240310T090000+0100",
		"20240310X090000", "2024-03-10", "20240310T0900", "00000101", "2024031aT090000"} {
		if c, err := parseCivil(s); err == nil {
			t.Errorf("%q: accepted as %+v", s, c)
		}
	}
}

func TestTimeID(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	if got := (Time{}).ID(); got != "" {
		t.Errorf("zero: %q", got)
	}
	if got := (Time{Time: time.Date(2024, 3, 10, 0, 0, 0, 0, berlin), Date: true}).ID(); got != "20240310" {
		t.Errorf("date: %q", got)
	}
	if got := (Time{Time: time.Date(2024, 3, 10, 10, 0, 0, 0, berlin)}).ID(); got != "20240310T090000Z" {
		t.Errorf("date-time: %q", got)
	}
}
