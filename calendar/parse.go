package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// ParseOptions are the caller's settings for Parse.
type ParseOptions struct {
	// DefaultLocation reads floating times and all-day dates, and any TZID
	// nothing else resolves: the calendar's calendar-timezone (RFC 4791
	// section 5.2.2), else the subscriber's time zone. When nil such times
	// are read as UTC, with a WarnNoDefaultZone warning.
	DefaultLocation *time.Location
}

// Limits on input, so that parsing stays cheap whatever the input.
const (
	// MaxObjectSize is the largest resource Parse reads.
	MaxObjectSize = 4 << 20
	// maxDepth bounds nested components (VCALENDAR, VEVENT, VALARM is 3).
	maxDepth = 8
	// maxParamCost bounds the sum of the squared lengths of parameter
	// values: go-ical builds each value a byte at a time, in quadratic
	// time (a 64 KiB value takes over a second).
	maxParamCost = 1 << 26
	// maxComponents bounds the VEVENT/VTODO components of one object.
	maxComponents = 2000
)

// ErrNoComponent is the error of Parse for a VCALENDAR that holds no VEVENT
// or VTODO (a calendar's properties alone, or only time zones).
var ErrNoComponent = errors.New("no VEVENT or VTODO in the calendar object")

// Parse reads one calendar object resource: a VCALENDAR with one VEVENT
// or VTODO master, its RECURRENCE-ID overrides and its VTIMEZONEs.
//
// Bad iCalendar is an error, never a panic: no VCALENDAR, no VEVENT or
// VTODO, no UID, a syntax error, or input beyond the limits above. Parts
// that can be left out (a bad property, a VTIMEZONE, an RRULE that cannot
// be read) are, with a Warning on the Object.
func Parse(data []byte, opts ParseOptions) (*Object, error) {
	cal, err := decode(data)
	if err != nil {
		return nil, err
	}
	return build(cal, opts)
}

// decode reads a VCALENDAR within the limits above; bad input is an
// error, never a panic.
func decode(data []byte) (cal *ical.Calendar, err error) {
	if len(data) > MaxObjectSize {
		return nil, fmt.Errorf("calendar object of %d bytes is over the %d limit", len(data), MaxObjectSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Outlook's BOM
	if err := precheck(data); err != nil {
		return nil, err
	}
	func() {
		defer func() {
			if p := recover(); p != nil { // go-ical panics on some bad parameters
				err = fmt.Errorf("bad iCalendar: %v", p)
			}
		}()
		cal, err = ical.NewDecoder(bytes.NewReader(data)).Decode()
	}()
	if err != nil {
		return nil, fmt.Errorf("bad iCalendar: %w", err)
	}
	return cal, nil
}

// precheck walks the unfolded content lines once to refuse what would make
// go-ical slow or deep before it runs.
func precheck(data []byte) error {
	depth, cost := 0, 0
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		name, rest := line, []byte(nil)
		if i := bytes.IndexAny(line, ";:"); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		switch {
		case bytes.EqualFold(name, []byte("BEGIN")):
			if depth++; depth > maxDepth {
				return fmt.Errorf("bad iCalendar: components nested over %d deep", maxDepth)
			}
		case bytes.EqualFold(name, []byte("END")):
			depth--
		}
		if len(rest) > 0 && rest[0] == ';' {
			cost += paramCost(rest)
			if cost > maxParamCost {
				return errors.New("bad iCalendar: parameter values too long")
			}
		}
	}
	return nil
}

// nextLine returns the first unfolded content line and the rest.
func nextLine(data []byte) (line, rest []byte) {
	var buf []byte // only for a folded line, appended to: linear in its length
	for {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		folded := len(data) > 0 && (data[0] == ' ' || data[0] == '\t')
		if buf == nil && !folded {
			return l, data
		}
		buf = append(buf, l...)
		if !folded {
			return buf, data
		}
		data = data[1:]
	}
}

// paramCost is the sum of the squared lengths of the parameter values in
// the ";..." part of a content line, split as go-ical splits them: a name
// up to "=", then values, quoted or ending at ";", "," or ":".
func paramCost(s []byte) int {
	cost, i := 0, 0
	for i < len(s) && s[i] == ';' {
		eq := bytes.IndexByte(s[i:], '=')
		if eq < 0 {
			return cost
		}
		i += eq + 1
		for {
			n := 0
			if i < len(s) && s[i] == '"' {
				end := bytes.IndexByte(s[i+1:], '"')
				if end < 0 {
					return cost + (len(s)-i)*(len(s)-i)
				}
				n, i = end, i+end+2
			} else {
				end := bytes.IndexAny(s[i:], ";,:")
				if end < 0 {
					end = len(s) - i
				}
				n, i = end, i+end
			}
			cost += n * n
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			break
		}
	}
	return cost
}

// build turns the decoded VCALENDAR into an Object.
func build(cal *ical.Calendar, opts ParseOptions) (*Object, error) {
	var w warnings
	p := &parser{zones: zones{def: opts.DefaultLocation, vtz: map[string]*ical.Component{}, warn: &w}, warn: &w}
	var comps []*ical.Component
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompTimezone:
			if id := c.Props.Get(ical.PropTimezoneID); id != nil {
				if _, dup := p.zones.vtz[id.Value]; !dup {
					p.zones.vtz[id.Value] = c
				}
			}
		case ical.CompEvent, ical.CompToDo:
			if len(comps) == maxComponents {
				return nil, fmt.Errorf("more than %d components", maxComponents)
			}
			comps = append(comps, c)
		}
	}
	if len(comps) == 0 {
		return nil, ErrNoComponent
	}
	obj := &Object{Kind: KindEvent}
	if comps[0].Name == ical.CompToDo {
		obj.Kind = KindTask
	}
	uid := comps[0].Props.Get(ical.PropUID)
	if uid == nil || strings.TrimSpace(uid.Value) == "" {
		return nil, errors.New("calendar object has no UID")
	}
	obj.UID = strings.TrimSpace(uid.Value)
	seen := map[string]bool{}
	for _, c := range comps {
		if c.Name != comps[0].Name {
			w.add(WarnIgnored, "a %s beside %s components", c.Name, comps[0].Name)
			continue
		}
		if u := c.Props.Get(ical.PropUID); u == nil || strings.TrimSpace(u.Value) != obj.UID {
			w.add(WarnIgnored, "a %s with another UID", c.Name)
			continue
		}
		comp := p.component(c, obj.Kind)
		if c.Props.Get(ical.PropRecurrenceID) == nil {
			if obj.Master != nil {
				w.add(WarnIgnored, "a second master %s", c.Name)
				continue
			}
			obj.Master = comp
			continue
		}
		if comp.RecurrenceID.IsZero() {
			continue // unreadable RECURRENCE-ID, warned
		}
		if id := comp.RecurrenceID.ID(); seen[id] {
			w.add(WarnIgnored, "a second override for RECURRENCE-ID %s", id)
			continue
		} else {
			seen[id] = true
		}
		obj.Overrides = append(obj.Overrides, comp)
	}
	sort.Slice(obj.Overrides, func(i, j int) bool {
		return obj.Overrides[i].RecurrenceID.Before(obj.Overrides[j].RecurrenceID.Time)
	})
	obj.Warnings = w.list
	return obj, nil
}
