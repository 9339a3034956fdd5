package change

import "time"

// maxTransitions bounds the changes of UTC offset sameZone walks: two a
// year in zones with daylight time, so 50 years of a series (about 100µs
// of work, only when a series changed zones).
const maxTransitions = 100

// sameZone reports whether a and b give every instant from from on the
// same UTC offset, as far as maxTransitions offset changes of either
// reach: a TZID renamed to an equivalent zone (Europe/Berlin for W.
// Europe Standard Time, or a VTIMEZONE for its IANA name) leaves a
// series' instances where they were. Zones of one name are the same
// zone: package calendar resolves a TZID that names an IANA zone to that
// zone, never to a VTIMEZONE of that name.
func sameZone(a, b *time.Location, from time.Time) bool {
	if a == b || a.String() == b.String() {
		return true
	}
	t := from
	for range maxTransitions {
		ta, tb := t.In(a), t.In(b)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		if oa != ob {
			return false
		}
		_, endA := ta.ZoneBounds()
		_, endB := tb.ZoneBounds()
		switch {
		case endA.IsZero() && endB.IsZero():
			return true
		case endA.IsZero() || (!endB.IsZero() && endB.Before(endA)):
			t = endB
		default:
			t = endA
		}
	}
	return true
}
