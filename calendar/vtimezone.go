package calendar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// A VTIMEZONE becomes a real *time.Location, written as TZif data (RFC
// 8536) for time.LoadLocationFromTZData, so that everything downstream
// (recurrence, nominal durations, formatting) treats it like any IANA
// zone. The usual pair of open-ended yearly rules ("the last Sunday of
// March") becomes the TZif footer, a POSIX TZ rule that Go applies to any
// year; other onsets are computed (from 1970, with rrule-go) up to
// vtzLastYear, after which the last observance stays in effect.
const (
	vtzFirstYear       = 1970
	vtzLastYear        = 2200
	maxObservances     = 32
	maxTransitions     = 4000
	maxOnsetsPerObserv = 2000
)

type observance struct {
	dst      bool
	start    civil // local time, in the offset before the onset
	from, to int   // UTC offsets in seconds, before and after the onset
	name     string
	rule     *rule
	rdates   []civil
}

// vtimezoneLocation builds the zone a VTIMEZONE describes. Identical
// VTIMEZONEs (most objects of a calendar carry the same one) are built once.
func vtimezoneLocation(tzid string, c *ical.Component) (*time.Location, error) {
	obs, key, err := readObservances(c)
	if err != nil {
		return nil, err
	}
	key = tzid + "\x00" + key
	vtzCache.Lock()
	loc, ok := vtzCache.m[key]
	vtzCache.Unlock()
	if ok {
		return loc, nil
	}
	loc, err = buildLocation(tzid, obs)
	if err != nil {
		return nil, err
	}
	vtzCache.Lock()
	if len(vtzCache.m) >= 512 {
		clear(vtzCache.m)
	}
	vtzCache.m[key] = loc
	vtzCache.Unlock()
	return loc, nil
}

var vtzCache = struct {
	sync.Mutex
	m map[string]*time.Location
}{m: make(map[string]*time.Location)}

// readObservances reads the STANDARD and DAYLIGHT parts, and returns a
// canonical text of them for the cache key.
func readObservances(c *ical.Component) ([]observance, string, error) {
	var obs []observance
	var key strings.Builder
	for _, child := range c.Children {
		if child.Name != "STANDARD" && child.Name != "DAYLIGHT" {
			continue
		}
		if len(obs) == maxObservances {
			return nil, "", errors.New("too many observances")
		}
		o := observance{dst: child.Name == "DAYLIGHT"}
		get := func(name string) string {
			if p := child.Props.Get(name); p != nil {
				return strings.TrimSpace(p.Value)
			}
			return ""
		}
		var err error
		if o.start, err = parseCivil(get(ical.PropDateTimeStart)); err != nil {
			return nil, "", fmt.Errorf("%s DTSTART: %w", child.Name, err)
		}
		if o.from, err = parseUTCOffset(get(ical.PropTimezoneOffsetFrom)); err != nil {
			return nil, "", fmt.Errorf("%s TZOFFSETFROM: %w", child.Name, err)
		}
		if o.to, err = parseUTCOffset(get(ical.PropTimezoneOffsetTo)); err != nil {
			return nil, "", fmt.Errorf("%s TZOFFSETTO: %w", child.Name, err)
		}
		o.name = abbreviation(get(ical.PropTimezoneName), o.to)
		if v := get(ical.PropRecurrenceRule); v != "" {
			if o.rule, err = parseRule(v); err != nil {
				return nil, "", fmt.Errorf("%s: %w", child.Name, err)
			}
			if o.rule.opt.Freq != rrule.YEARLY {
				return nil, "", fmt.Errorf("%s: RRULE %s: only yearly rules make sense for a time zone", child.Name, v)
			}
		}
		for _, p := range child.Props.Values(ical.PropRecurrenceDates) {
			for _, v := range strings.Split(p.Value, ",") {
				d, err := parseCivil(v)
				if err != nil {
					return nil, "", fmt.Errorf("%s RDATE: %w", child.Name, err)
				}
				o.rdates = append(o.rdates, d)
			}
		}
		fmt.Fprintf(&key, "%s|%v|%d|%d|%s|%s|%s;", child.Name, o.start, o.from, o.to, o.name,
			get(ical.PropRecurrenceRule), fmt.Sprint(o.rdates))
		obs = append(obs, o)
	}
	if len(obs) == 0 {
		return nil, "", errors.New("no STANDARD or DAYLIGHT")
	}
	return obs, key.String(), nil
}

// parseUTCOffset reads "+0100", "-0500" or "+053000" as seconds.
func parseUTCOffset(s string) (int, error) {
	if (len(s) != 5 && len(s) != 7) || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	if len(s) == 5 {
		n *= 100
	}
	h, m, sec := n/10000, n/100%100, n%100
	if h > 18 || m > 59 || sec > 59 {
		return 0, fmt.Errorf("UTC offset %q out of range", s)
	}
	off := h*3600 + m*60 + sec
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// abbreviation is a TZNAME fit for TZif (short printable ASCII), else
// the offset written as "+0100".
func abbreviation(name string, off int) string {
	ok := name != "" && len(name) <= 16
	for _, r := range name {
		if r <= ' ' || r > '~' {
			ok = false
		}
	}
	if ok {
		return name
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d%02d", sign, off/3600, off/60%60)
}

type transition struct {
	when int64 // Unix seconds
	typ  int
}

type zoneType struct {
	off  int
	dst  bool
	name string
}

// buildLocation computes the onsets of every observance and loads them.
func buildLocation(tzid string, obs []observance) (*time.Location, error) {
	types := []zoneType{{}} // type 0: before the first onset, filled below
	typeOf := func(t zoneType) int {
		for i, x := range types[1:] {
			if x == t {
				return i + 1
			}
		}
		types = append(types, t)
		return len(types) - 1
	}
	begin := time.Date(vtzFirstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(vtzLastYear, 1, 1, 0, 0, 0, 0, time.UTC)
	footer, byFooter := posixRule(obs)
	var tx []transition
	var first *observance
	var firstWhen int64
	for i := range obs {
		o := &obs[i]
		onsets := []time.Time{o.start.wall()}
		if o.rule != nil && !byFooter[i] {
			var untilWall time.Time
			if o.rule.hasUntil {
				untilWall = o.rule.until.wall()
				if o.rule.until.utc {
					untilWall = untilWall.Add(time.Duration(o.from) * time.Second)
				}
			}
			budget := maxOnsetsPerObserv
			walls, err := o.rule.walls(o.start.wall(), begin, last, untilWall, 0, &budget)
			if err != nil && !errors.Is(err, errBudget) {
				return nil, err
			}
			onsets = append(onsets, walls...)
		}
		for _, d := range o.rdates {
			onsets = append(onsets, d.wall())
		}
		typ := typeOf(zoneType{off: o.to, dst: o.dst, name: o.name})
		for _, w := range onsets {
			when := w.Unix() - int64(o.from)
			tx = append(tx, transition{when: when, typ: typ})
			if first == nil || when < firstWhen {
				first, firstWhen = o, when
			}
		}
		if len(tx) > maxTransitions {
			return nil, errors.New("too many transitions")
		}
	}
	if len(types) > 255 {
		return nil, errors.New("too many distinct offsets")
	}
	types[0] = zoneType{off: first.from, dst: false, name: abbreviation("", first.from)}
	sort.SliceStable(tx, func(i, j int) bool { return tx[i].when < tx[j].when })
	tx = dedupTransitions(tx)
	return time.LoadLocationFromTZData(tzid, tzif(types, tx, footer))
}

// posixRule writes the POSIX TZ rule (RFC 8536 section 3.3) for a
// VTIMEZONE whose STANDARD and DAYLIGHT observances each end with one
// open-ended "FREQ=YEARLY;BYMONTH=m;BYDAY=nDD" rule, and says which
// observances it covers; "" when the rules are not that simple.
func posixRule(obs []observance) (string, map[int]bool) {
	std, dst := -1, -1
	for i := range obs {
		r := obs[i].rule
		if r == nil || r.hasUntil || r.opt.Count > 0 {
			continue
		}
		if _, _, _, ok := simpleYearly(r); !ok {
			return "", nil
		}
		p := &std
		if obs[i].dst {
			p = &dst
		}
		if *p >= 0 {
			return "", nil
		}
		*p = i
	}
	if std < 0 || dst < 0 {
		return "", nil
	}
	name := func(o *observance) string {
		n := o.name
		ok := len(n) >= 3
		for _, c := range n {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-') {
				ok = false
			}
		}
		if !ok {
			n = abbreviation("", o.to)
		}
		return "<" + n + ">"
	}
	offset := func(sec int) string { // POSIX counts west of Greenwich as positive
		sign := ""
		if sec = -sec; sec < 0 {
			sign, sec = "-", -sec
		}
		return fmt.Sprintf("%s%d:%02d:%02d", sign, sec/3600, sec/60%60, sec%60)
	}
	when := func(o *observance) string {
		m, w, d, _ := simpleYearly(o.rule)
		return fmt.Sprintf("M%d.%d.%d/%d:%02d:%02d", m, w, d, o.start.hour, o.start.minute, o.start.second)
	}
	s, d := &obs[std], &obs[dst]
	return name(s) + offset(s.to) + name(d) + offset(d.to) + "," + when(d) + "," + when(s),
		map[int]bool{std: true, dst: true}
}

// simpleYearly reads "FREQ=YEARLY;BYMONTH=m;BYDAY=nDD" as POSIX's month,
// week (5: the last) and day (0: Sunday).
func simpleYearly(r *rule) (month, week, day int, ok bool) {
	o := r.opt
	if o.Freq != rrule.YEARLY || o.Interval > 1 || len(o.Bymonth) != 1 || len(o.Byweekday) != 1 ||
		len(o.Bymonthday)+len(o.Byyearday)+len(o.Byweekno)+len(o.Bysetpos)+len(o.Byhour)+len(o.Byminute)+len(o.Bysecond) > 0 {
		return 0, 0, 0, false
	}
	n := o.Byweekday[0].N()
	switch {
	case n >= 1 && n <= 5:
		week = n
	case n == -1:
		week = 5
	default:
		return 0, 0, 0, false
	}
	return o.Bymonth[0], week, (o.Byweekday[0].Day() + 1) % 7, true
}

// dedupTransitions keeps one transition per instant (the last listed).
func dedupTransitions(tx []transition) []transition {
	out := tx[:0]
	for _, t := range tx {
		if n := len(out); n > 0 && out[n-1].when == t.when {
			out[n-1] = t
			continue
		}
		out = append(out, t)
	}
	return out
}

// tzif encodes a version 2 TZif file with 64-bit transition times and a
// footer rule for the times after the last. Its version 1 block is a
// minimal valid placeholder, which readers of version 2 skip.
func tzif(types []zoneType, tx []transition, footer string) []byte {
	var chars []byte
	idx := make([]byte, len(types))
	for i, t := range types {
		at := bytes.Index(chars, append([]byte(t.name), 0))
		if at < 0 {
			at = len(chars)
			chars = append(append(chars, t.name...), 0)
		}
		idx[i] = byte(min(at, 255))
	}
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.BigEndian, v) }
	header := func(counts ...uint32) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		for _, c := range counts { // isut, isstd, leap, time, type, char
			put(c)
		}
	}
	header(0, 0, 0, 0, 1, 1)
	b.Write([]byte{0, 0, 0, 0, 0, 0, 0})
	header(0, 0, 0, uint32(len(tx)), uint32(len(types)), uint32(len(chars)))
	for _, t := range tx {
		put(t.when)
	}
	for _, t := range tx {
		b.WriteByte(byte(t.typ))
	}
	for i, t := range types {
		put(int32(t.off))
		if t.dst {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
		b.WriteByte(idx[i])
	}
	b.Write(chars)
	b.WriteString("\n" + footer + "\n")
	return b.Bytes()
}
