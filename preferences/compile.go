package preferences

import (
	"fmt"
	"slices"
	"time"

	"github.com/notifyd/notifyd"
)

// Limits on what a subscription's preferences may say.
const (
	// MaxQuietPeriods caps the periods of a quiet-hours schedule.
	MaxQuietPeriods = 14
	// MinFreeHoursPerWeek is the time a quiet-hours schedule must leave
	// for delivery every week: held notifications must be released.
	MinFreeHoursPerWeek = 4
	// MaxPause is how far ahead a pause may end.
	MaxPause = 366 * 24 * time.Hour
	// MaxThrottle caps a throttle's Max.
	MaxThrottle = 1000
)

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Plan is a subscription's preferences ready for Decide: parsed, in the
// subscription's time zone, under its system's policy. Build one per
// subscription version and keep it; Decide does not allocate.
type Plan struct {
	loc         *time.Location
	policy      Policy
	pausedUntil time.Time
	quiet       []quietPeriod
	base        methodPlan
	// channels are the per-channel plans, by index in notifyd.Channels.
	channels [4]*methodPlan
}

type quietPeriod struct {
	days     uint8 // bit i: time.Weekday(i)
	from, to int   // minutes since midnight; to > from (the next day's added)
}

type digestKind uint8

const (
	digestImmediate digestKind = iota
	digestWindow
	digestDaily
)

type methodPlan struct {
	digest digestKind
	window int64 // seconds, digestWindow
	at     int   // minutes, digestDaily
	max    int   // throttle; 0 is none
	per    int64 // seconds
	bypass []notifyd.NotificationType
}

// Validate checks p as a client wrote it at now, and returns what is wrong
// with it, each field a JSON Pointer from p (such as "/digest/window"),
// or nil. A pause must end after now and within MaxPause.
func Validate(p *notifyd.Preferences, now time.Time) notifyd.ValidationError {
	_, errs := compile(p, time.UTC, Policy{})
	if p != nil && !p.PausedUntil.IsZero() {
		switch {
		case !p.PausedUntil.After(now):
			errs = append(errs, notifyd.FieldError{Field: "/paused_until", Detail: "is in the past; a pause must end in the future"})
		case p.PausedUntil.After(now.Add(MaxPause)):
			errs = append(errs, notifyd.FieldError{Field: "/paused_until", Detail: "is more than 366 days ahead"})
		}
	}
	return errs
}

// Compile readies p (nil: no preferences) for Decide in the time zone loc
// under policy. It fails only on preferences Validate refuses (other than
// a pause already over, which is simply over).
func Compile(p *notifyd.Preferences, loc *time.Location, policy Policy) (*Plan, error) {
	plan, errs := compile(p, loc, policy)
	if len(errs) > 0 {
		return nil, errs
	}
	return plan, nil
}

func compile(p *notifyd.Preferences, loc *time.Location, policy Policy) (*Plan, notifyd.ValidationError) {
	plan := &Plan{loc: loc, policy: policy}
	if p == nil {
		return plan, nil
	}
	var errs notifyd.ValidationError
	bad := func(field, detail string) { errs = append(errs, notifyd.FieldError{Field: field, Detail: detail}) }
	plan.pausedUntil = p.PausedUntil
	compileMethod(&plan.base, p.Digest, p.Throttle, nil, "", bad)
	plan.quiet = compileQuiet(p.QuietHours, bad)
	seen := make(map[notifyd.Channel]bool)
	for i, c := range p.ChannelOrder {
		at := fmt.Sprintf("/channel_order/%d", i)
		switch {
		case !c.Valid():
			bad(at, "must be one of email, sms, im, webhook")
		case seen[c]:
			bad(at, fmt.Sprintf("%q is listed twice", c))
		}
		seen[c] = true
	}
	for _, c := range notifyd.Channels { // in a stable order, for stable errors
		cp, ok := p.Channels[c]
		if !ok {
			continue
		}
		mp := plan.base // what the channel does not say, it inherits
		compileMethod(&mp, cp.Digest, cp.Throttle, cp.QuietHoursBypass, "/channels/"+string(c), bad)
		plan.channels[channelIndex(c)] = &mp
	}
	for c := range p.Channels {
		if !c.Valid() {
			bad("/channels/"+string(c), "is not a channel: use email, sms, im or webhook")
		}
	}
	return plan, errs
}

// compileMethod parses a digest and a throttle (each nil: mp's is kept)
// and a bypass list into mp; at is the JSON Pointer of the object holding
// them ("" or a channel's).
func compileMethod(mp *methodPlan, d *notifyd.Digest, t *notifyd.Throttle, bypass []notifyd.NotificationType, at string, bad func(string, string)) {
	if d != nil {
		*mp = withDigest(*mp, d, at+"/digest", bad)
	}
	if t != nil {
		if t.Max < 1 || t.Max > MaxThrottle {
			bad(at+"/throttle/max", fmt.Sprintf("must be from 1 to %d", MaxThrottle))
		}
		per, err := parsePeriod(t.Per)
		if err != nil {
			bad(at+"/throttle/per", err.Error())
		}
		mp.max, mp.per = t.Max, per
		if t.Max < 1 || per == 0 {
			mp.max = 0
		}
	}
	seen := make(map[notifyd.NotificationType]bool)
	for i, ty := range bypass {
		f := fmt.Sprintf("%s/quiet_hours_bypass/%d", at, i)
		switch {
		case !ty.Valid():
			bad(f, fmt.Sprintf("%q is not a notification type", ty))
		case seen[ty]:
			bad(f, fmt.Sprintf("%q is listed twice", ty))
		}
		seen[ty] = true
	}
	mp.bypass = bypass
}

func withDigest(mp methodPlan, d *notifyd.Digest, at string, bad func(string, string)) methodPlan {
	mp.digest, mp.window, mp.at = digestImmediate, 0, 0
	switch d.Mode {
	case notifyd.DigestImmediate:
	case notifyd.DigestWindow:
		w, err := parsePeriod(d.Window)
		if d.Window == "" {
			bad(at+"/window", `is required with mode "window"`)
		} else if err != nil {
			bad(at+"/window", err.Error())
		}
		mp.digest, mp.window = digestWindow, w
	case notifyd.DigestDaily:
		m, err := parseClock(d.At, false)
		if d.At == "" {
			bad(at+"/at", `is required with mode "daily"`)
		} else if err != nil {
			bad(at+"/at", err.Error())
		}
		mp.digest, mp.at = digestDaily, m
	default:
		bad(at+"/mode", "must be immediate, window or daily")
	}
	if d.Window != "" && d.Mode != notifyd.DigestWindow {
		bad(at+"/window", `applies to mode "window" only`)
	}
	if d.At != "" && d.Mode != notifyd.DigestDaily {
		bad(at+"/at", `applies to mode "daily" only`)
	}
	if mp.digest == digestWindow && mp.window == 0 || mp.digest == digestDaily && d.At == "" {
		mp.digest = digestImmediate // invalid: reported above
	}
	return mp
}

func compileQuiet(periods []notifyd.QuietPeriod, bad func(string, string)) []quietPeriod {
	if len(periods) > MaxQuietPeriods {
		bad("/quiet_hours", fmt.Sprintf("has more than %d periods", MaxQuietPeriods))
		return nil
	}
	out := make([]quietPeriod, 0, len(periods))
	ok := true
	for i, p := range periods {
		at := fmt.Sprintf("/quiet_hours/%d", i)
		var q quietPeriod
		for j, name := range p.Days {
			wd, known := dayNames[name]
			switch {
			case !known:
				bad(fmt.Sprintf("%s/days/%d", at, j), `is not a day: use mon, tue, wed, thu, fri, sat or sun`)
				ok = false
			case q.days&(1<<wd) != 0:
				bad(fmt.Sprintf("%s/days/%d", at, j), fmt.Sprintf("%q is listed twice", name))
				ok = false
			}
			q.days |= 1 << wd
		}
		if len(p.Days) == 0 {
			q.days = 0x7f
		}
		from, err := parseClock(p.From, false)
		if err != nil {
			bad(at+"/from", err.Error())
			ok = false
		}
		to, err := parseClock(p.To, true)
		if err != nil {
			bad(at+"/to", err.Error())
			ok = false
		} else if to == from {
			bad(at+"/to", "is the same time as from: the period would be empty (00:00 to 24:00 is a whole day)")
			ok = false
		}
		if to <= from {
			to += minutesPerDay
		}
		q.from, q.to = from, to
		out = append(out, q)
	}
	if ok && len(out) > 0 && freeMinutes(out) < MinFreeHoursPerWeek*60 {
		bad("/quiet_hours", fmt.Sprintf("leaves less than %d hours a week outside quiet hours", MinFreeHoursPerWeek))
	}
	return out
}

// freeMinutes counts the minutes of a week (without clock changes) that
// no period covers.
func freeMinutes(periods []quietPeriod) int {
	const week = 7 * minutesPerDay
	type span struct{ from, to int }
	var spans []span
	for _, q := range periods {
		for wd := 0; wd < 7; wd++ {
			if q.days&(1<<wd) == 0 {
				continue
			}
			from, to := wd*minutesPerDay+q.from, wd*minutesPerDay+q.to
			if to > week { // Saturday night into Sunday morning
				spans = append(spans, span{0, to - week})
				to = week
			}
			spans = append(spans, span{from, to})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	quiet, end := 0, 0
	for _, s := range spans {
		if s.from > end {
			end = s.from
		}
		if s.to > end {
			quiet += s.to - end
			end = s.to
		}
	}
	return week - quiet
}

func channelIndex(c notifyd.Channel) int {
	for i, k := range notifyd.Channels {
		if k == c {
			return i
		}
	}
	return -1
}

// method returns the plan of the methods of channel c.
func (p *Plan) method(c notifyd.Channel) *methodPlan {
	if i := channelIndex(c); i >= 0 && p.channels[i] != nil {
		return p.channels[i]
	}
	return &p.base
}
