package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// rule is one RRULE, read and checked so that rrule-go cannot loop
// forever or allocate without bound on it.
type rule struct {
	opt      rrule.ROption // FREQ, INTERVAL, COUNT, WKST and BY* parts
	until    civil
	hasUntil bool
	// never: the rule yields no instance besides DTSTART (COUNT=0, or
	// BY* parts that no time can meet).
	never bool
}

const (
	// maxInterval bounds INTERVAL (a million seconds is 11 days).
	maxInterval = 1_000_000
	// maxPeriodCandidates bounds the instances one period of a rule can
	// hold (days in the period times BYHOUR x BYMINUTE x BYSECOND): rrule-go
	// builds each period's list whole before handing out the first.
	maxPeriodCandidates = 200_000
	// maxYear is rrule-go's last year: it iterates until then when a rule
	// matches nothing more (see walls).
	maxYear = 9999
)

// parseRule reads an RRULE value. It is laxer than rrule-go where real
// clients are (lower case, a trailing ";", X- parts, RSCALE=GREGORIAN) and
// stricter where rrule-go would misbehave (see librarybugs_test.go).
func parseRule(value string) (*rule, error) {
	value = strings.ToUpper(strings.TrimSpace(value))
	value = strings.TrimPrefix(value, "RRULE:")
	r := &rule{}
	var keep []string
	for _, part := range strings.Split(value, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("bad RRULE part %q", part)
		}
		switch {
		case k == "UNTIL":
			c, err := parseCivil(v)
			if err != nil {
				return nil, fmt.Errorf("RRULE UNTIL: %w", err)
			}
			r.until, r.hasUntil = c, true
		case k == "COUNT":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad RRULE COUNT %q", v)
			}
			if n == 0 { // rrule-go reads COUNT=0 as no count at all
				r.never = true
			}
			keep = append(keep, part)
		case k == "INTERVAL":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxInterval {
				return nil, fmt.Errorf("bad RRULE INTERVAL %q", v)
			}
			keep = append(keep, part)
		case k == "RSCALE":
			if v != "GREGORIAN" {
				return nil, fmt.Errorf("RRULE RSCALE %q not supported", v)
			}
		case k == "SKIP", strings.HasPrefix(k, "X-"):
			// RFC 7529 SKIP is only meaningful with a non-Gregorian
			// RSCALE; x-names carry nothing for expansion.
		case k == "BYEASTER", k == "DTSTART":
			// rrule-go extensions, not RFC 5545 (and BYEASTER indexes
			// out of range on large offsets).
			return nil, fmt.Errorf("RRULE part %s not supported", k)
		default:
			keep = append(keep, part)
		}
	}
	opt, err := rrule.StrToROption(strings.Join(keep, ";"))
	if err != nil {
		return nil, fmt.Errorf("bad RRULE %q: %w", value, err)
	}
	opt.Until = time.Time{}
	r.opt = *opt
	probe := r.opt
	probe.Dtstart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // never let it default to now
	if _, err := rrule.NewRRule(probe); err != nil {
		return nil, fmt.Errorf("bad RRULE %q: %w", value, err)
	}
	if err := r.checkDensity(); err != nil {
		return nil, err
	}
	if !r.monthDaysExist() || !r.trimSetPos() {
		r.never = true
	}
	return r, nil
}

// checkDensity refuses rules whose single period holds too many instances.
func (r *rule) checkDensity() error {
	n := func(l []int) int { return max(1, len(l)) }
	o := r.opt
	var per int
	switch o.Freq {
	case rrule.YEARLY:
		per = 366 * n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	case rrule.MONTHLY:
		per = 31 * n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	case rrule.WEEKLY:
		per = 7 * n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	case rrule.DAILY:
		per = n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	default:
		per = n(o.Byminute) * n(o.Bysecond)
	}
	if per > maxPeriodCandidates {
		return fmt.Errorf("RRULE too dense: up to %d instances in one period", per)
	}
	return nil
}

// monthDaysExist reports whether some BYMONTHDAY exists in some BYMONTH
// (FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30 has no instance, and rrule-go would
// look for one until the year 9999).
func (r *rule) monthDaysExist() bool {
	if len(r.opt.Bymonthday) == 0 || len(r.opt.Bymonth) == 0 {
		return true
	}
	for _, m := range r.opt.Bymonth {
		days := daysIn(time.Month(m), 2000) // a leap year: February has 29
		for _, d := range r.opt.Bymonthday {
			if d <= days && -d <= days {
				return true
			}
		}
	}
	return false
}

// trimSetPos drops the BYSETPOS values beyond the instances a period of a
// DAILY or finer rule can hold (they never match, and rrule-go would try
// every period until the year 9999: every second for FREQ=SECONDLY); it
// reports whether any remain (or there were none).
func (r *rule) trimSetPos() bool {
	o := &r.opt
	if len(o.Bysetpos) == 0 {
		return true
	}
	n := func(l []int) int { return max(1, len(l)) }
	var per int
	switch o.Freq {
	case rrule.DAILY:
		per = n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	case rrule.HOURLY:
		per = n(o.Byminute) * n(o.Bysecond)
	case rrule.MINUTELY:
		per = n(o.Bysecond)
	case rrule.SECONDLY:
		per = 1
	default:
		return true
	}
	var kept []int
	for _, p := range o.Bysetpos {
		if p <= per && -p <= per {
			kept = append(kept, p)
		}
	}
	o.Bysetpos = kept
	return len(kept) > 0
}

// reachable reports whether a sub-daily rule starting at this wall clock
// can ever meet its BYHOUR/BYMINUTE/BYSECOND parts. rrule-go steps
// INTERVAL units at a time until it meets them, and never stops when it
// cannot: FREQ=HOURLY;INTERVAL=24;BYHOUR=5 from 03:00 hangs.
func (r *rule) reachable(start time.Time) bool {
	o := r.opt
	var unit, check int // seconds per step; 1 hour, 2 +minute, 3 +second
	switch o.Freq {
	case rrule.HOURLY:
		unit, check = 3600, 1
	case rrule.MINUTELY:
		unit, check = 60, 2
	case rrule.SECONDLY:
		unit, check = 1, 3
	default:
		return true
	}
	if len(o.Byhour) == 0 && (check < 2 || len(o.Byminute) == 0) && (check < 3 || len(o.Bysecond) == 0) {
		return true
	}
	in := func(l []int, v int) bool {
		if len(l) == 0 {
			return true
		}
		for _, x := range l {
			if x == v {
				return true
			}
		}
		return false
	}
	perDay := 86400 / unit
	interval := max(1, o.Interval)
	g := gcd(interval%perDay, perDay)
	h, m, s := start.Clock()
	pos := (h*3600 + m*60 + s) / unit
	for p := pos % g; p < perDay; p += g {
		sec := p * unit
		if in(o.Byhour, sec/3600) &&
			(check < 2 || in(o.Byminute, sec/60%60)) &&
			(check < 3 || in(o.Bysecond, sec%60)) {
			return true
		}
	}
	return false
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// fastForward returns the latest start, no later than a whole period
// before target, from which the rule yields the same instances as from
// dtstart: dtstart moved by whole periods (weeks, days, hours, minutes,
// seconds on the wall clock; months or years when that keeps the day).
// It also returns the periods skipped. A rule with COUNT counts its
// instances from DTSTART: it is moved only when each period holds exactly
// one instance, so that the periods skipped are instances counted.
func (r *rule) fastForward(dtstart, target time.Time) (time.Time, int) {
	o := r.opt
	if (o.Count > 0 && !r.onePerPeriod()) || !target.After(dtstart) {
		return dtstart, 0
	}
	iv := int64(max(1, o.Interval))
	var p int64 // seconds
	switch o.Freq {
	case rrule.WEEKLY:
		p = iv * 7 * 86400
	case rrule.DAILY:
		p = iv * 86400
	case rrule.HOURLY:
		p = iv * 3600
	case rrule.MINUTELY:
		p = iv * 60
	case rrule.SECONDLY:
		p = iv
	default: // MONTHLY, YEARLY: by calendar months
		explicitDay := len(o.Bymonthday) > 0 || len(o.Byweekday) > 0 || len(o.Byyearday) > 0 || len(o.Byweekno) > 0
		if dtstart.Day() > 28 && !explicitDay {
			return dtstart, 0 // moving it by months would change its day
		}
		step := int(iv)
		if o.Freq == rrule.YEARLY {
			step *= 12
		}
		months := (target.Year()-dtstart.Year())*12 + int(target.Month()) - int(dtstart.Month()) - 1 - step
		if k := months / step; k > 0 {
			return dtstart.AddDate(0, k*step, 0), k
		}
		return dtstart, 0
	}
	// A whole period before target: rrule-go's first period from a start
	// inside a week is partial, and would place BYSETPOS wrong.
	if diff := target.Unix() - p - dtstart.Unix(); diff > p {
		return time.Unix(dtstart.Unix()+diff/p*p, 0).UTC(), int(diff / p)
	}
	return dtstart, 0
}

// onePerPeriod reports a rule with exactly one instance in each of its
// periods: no BY parts but one weekday for a weekly rule. (A weekly rule's
// first period, from DTSTART to the week's end, may hold none; so does
// the first period from a start moved by whole weeks, so the count still
// agrees. A monthly or yearly rule on a day some months lack is never
// moved: see fastForward.)
func (r *rule) onePerPeriod() bool {
	o := r.opt
	if len(o.Bysetpos)+len(o.Bymonth)+len(o.Bymonthday)+len(o.Byyearday)+len(o.Byweekno)+
		len(o.Byhour)+len(o.Byminute)+len(o.Bysecond) > 0 {
		return false
	}
	switch len(o.Byweekday) {
	case 0:
	case 1:
		if o.Freq != rrule.WEEKLY || o.Byweekday[0].N() != 0 {
			return false
		}
	default:
		return false
	}
	return true
}

// errBudget reports that expansion stopped at the iteration cap.
var errBudget = errors.New("iteration cap reached")

// walls returns the rule's instances as wall clocks (fake UTC), in order,
// from from less lookback through end, and through untilWall (the rule's
// own UNTIL, inclusive) when it is set. Each rrule-go step costs one unit
// of *budget; at zero it stops with errBudget.
//
// Two tricks keep rrule-go's work bounded. The rule starts from a period
// boundary shortly before from, not from DTSTART, when that gives the
// same instances (see fastForward). And the whole expansion is shifted by
// a multiple of 400 years (the Gregorian calendar repeats exactly) so that
// end falls in the last four centuries before 9999: rrule-go, when a rule
// matches nothing more, only stops at the year 9999.
func (r *rule) walls(dtstart, from, end, untilWall time.Time, lookback time.Duration, budget *int) (out []time.Time, err error) {
	if r.never || end.Before(dtstart) || !r.reachable(dtstart) {
		return nil, nil
	}
	from = from.Add(-lookback)
	start, skipped := r.fastForward(dtstart, from)
	opt := r.opt
	if opt.Count > 0 {
		if opt.Count -= skipped; opt.Count <= 0 {
			return nil, nil
		}
	}
	shift := 0
	if y := end.Year(); y < maxYear-1 {
		shift = (maxYear - 1 - y) / 400 * 400
	}
	opt.Dtstart = start.AddDate(shift, 0, 0)
	endShifted := end.AddDate(shift, 0, 0)
	// Always an UNTIL: without one rrule-go stops 292 years after DTSTART.
	opt.Until = endShifted.Add(24 * time.Hour)
	if !untilWall.IsZero() {
		if untilWall.Before(start) {
			return nil, nil
		}
		if u := untilWall.AddDate(shift, 0, 0); u.Before(opt.Until) {
			opt.Until = u
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rrule-go: %v", p)
		}
	}()
	rr, err := rrule.NewRRule(opt)
	if err != nil {
		return nil, err
	}
	next := rr.Iterator()
	for {
		if *budget <= 0 {
			return out, errBudget
		}
		*budget--
		t, ok := next()
		if !ok || t.After(endShifted) {
			return out, nil
		}
		if t = t.AddDate(-shift, 0, 0); !t.Before(from) {
			out = append(out, t)
		}
	}
}
