package calendar

import (
	"strings"
	"sync"
	"time"

	ical "github.com/emersion/go-ical"
)

// zones resolves the TZIDs of one calendar object.
type zones struct {
	def    *time.Location             // the caller's default location, may be nil
	vtz    map[string]*ical.Component // the object's VTIMEZONEs by TZID
	cache  map[string]*time.Location  // resolved TZIDs; nil value: unresolved
	builds int                        // VTIMEZONEs built
	warn   *warnings
}

// Per object: distinct TZIDs looked up, VTIMEZONEs built (each may take
// a few milliseconds). Real objects have one to three.
const (
	maxTZIDs  = 64
	maxBuilds = 8
)

// lookup finds the zone a TZID names: an IANA name (also behind the path
// prefixes some clients add, "/mozilla.org/20050126_1/Europe/Berlin"),
// then a Windows zone name ("W. Europe Standard Time"), then the object's
// own VTIMEZONE with that TZID. When nothing resolves it warns and
// returns the default location, or UTC when there is none (warning again):
// never UTC without saying so.
func (z *zones) lookup(tzid string) *time.Location {
	if loc, ok := z.cache[tzid]; ok {
		if loc != nil {
			return loc
		}
		return z.fallback()
	}
	if len(z.cache) >= maxTZIDs {
		z.warn.add(WarnUnknownZone, "more than %d TZIDs: the others read in the default location", maxTZIDs)
		return z.fallback()
	}
	loc := ianaZone(tzid)
	if loc == nil {
		if name, ok := windowsZones[strings.TrimSpace(tzid)]; ok {
			loc = ianaZone(name)
		}
	}
	if loc == nil {
		if c := z.vtz[tzid]; c != nil && z.builds < maxBuilds {
			z.builds++
			var err error
			if loc, err = vtimezoneLocation(tzid, c); err != nil {
				z.warn.add(WarnBadTimeZone, "VTIMEZONE %q: %v", tzid, err)
				loc = nil
			}
		}
	}
	if z.cache == nil {
		z.cache = make(map[string]*time.Location)
	}
	z.cache[tzid] = loc
	if loc == nil {
		z.warn.add(WarnUnknownZone, "TZID %q is no IANA zone, no Windows zone and has no usable VTIMEZONE: read in the default location", tzid)
		return z.fallback()
	}
	return loc
}

// fallbackQuiet is the default location, or UTC, without a warning.
func (z *zones) fallbackQuiet() *time.Location {
	if z.def != nil {
		return z.def
	}
	return time.UTC
}

// fallback is the default location, or UTC with a warning.
func (z *zones) fallback() *time.Location {
	if z.def != nil {
		return z.def
	}
	z.warn.add(WarnNoDefaultZone, "no default location for a floating, all-day or unresolved time: read as UTC")
	return time.UTC
}

// ianaZone loads an IANA zone by name, trying the trailing one to three
// path segments of a prefixed name. Only plain zone names reach
// time.LoadLocation, so input cannot steer it to other files, and "Local"
// (the server's own zone) is refused.
func ianaZone(tzid string) *time.Location {
	tzid = strings.TrimSpace(tzid)
	if len(tzid) > 128 {
		return nil
	}
	if loc := loadIANA(tzid); loc != nil {
		return loc
	}
	if !strings.Contains(tzid, "/") {
		return nil
	}
	parts := strings.Split(strings.Trim(tzid, "/"), "/")
	for n := 3; n >= 1; n-- {
		if n > len(parts) {
			continue
		}
		if loc := loadIANA(strings.Join(parts[len(parts)-n:], "/")); loc != nil {
			return loc
		}
	}
	return nil
}

func loadIANA(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") ||
		strings.HasPrefix(name, "/") {
		return nil
	}
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9',
			r == '/', r == '_', r == '-', r == '+':
		default:
			return nil
		}
	}
	if loc, ok := ianaCache.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	ianaCache.Store(name, loc)
	return loc
}

// ianaCache holds the zones loaded so far (time.LoadLocation reads a file
// each time). Only names that loaded are kept, so it is bounded by the
// zone database.
var ianaCache sync.Map
