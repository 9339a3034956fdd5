package notification

import (
	"strings"
	"time"
)

// dateTimeLayouts are the date-time forms notifications carry, tried in
// order: iCalendar basic form (CalendarServer, Cyrus's CS: form, Bedework),
// RFC 3339 (the drafts' examples, Cyrus's DAV: form), each with or without
// a zone; a value without a zone is read as UTC.
var dateTimeLayouts = []string{
	"20060102T150405Z0700",
	"20060102T150405",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
}

// dateLayouts are the date-only forms.
var dateLayouts = []string{
	"20060102",
	"2006-01-02",
}

// parseTime reads a date-time or date value; dateOnly reports a date
// without a time (midnight UTC). The result is always in UTC, zero when s is
// in none of the forms.
func parseTime(s string) (t time.Time, dateOnly bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || len(s) > 64 {
		return time.Time{}, false
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), false
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseTimeIn reads a date-time value whose zone is given apart, as an
// iCalendar TZID (Bedework's deleted-next-instance tzid attribute). A value
// with its own zone or offset keeps it. When tzid names no zone this system
// knows, a floating value is not guessed at: the result is zero.
func parseTimeIn(s, tzid string) (t time.Time, dateOnly bool) {
	t, dateOnly = parseTime(s)
	if t.IsZero() || dateOnly || tzid == "" || hasZone(s) {
		return t, dateOnly
	}
	loc, ok := loadLocation(tzid)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC(), false
}

// hasZone reports whether a date-time value carries "Z" or an offset.
func hasZone(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexByte(s, 'T')
	if i < 0 {
		return false
	}
	return strings.ContainsAny(s[i:], "Z+-")
}

// loadLocation loads an IANA zone named by an iCalendar TZID, accepting only
// plain zone names (no paths) so that input cannot steer file lookups.
func loadLocation(tzid string) (*time.Location, bool) {
	tzid = strings.TrimPrefix(strings.TrimSpace(tzid), "/")
	if tzid == "" || tzid == "Local" || len(tzid) > 64 || strings.Contains(tzid, "..") {
		return nil, false
	}
	for _, r := range tzid {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9',
			r == '/', r == '_', r == '-', r == '+':
		default:
			return nil, false
		}
	}
	loc, err := time.LoadLocation(tzid)
	if err != nil {
		return nil, false
	}
	return loc, true
}
