package change

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// words is the series' rules in words, "" when it has none.
func (r *recurrence) words() string {
	parts := make([]string, 0, len(r.rules))
	for _, rule := range r.rules {
		parts = append(parts, r.ruleWords(rule))
	}
	return strings.Join(parts, "; and ")
}

// ruleWords writes a simple rule as a person would ("weekly on Tuesday",
// "every 2 months on the last Friday, 10 times", "yearly on 3 March,
// until Fri 31 Dec 2027"); any other as its canonical RRULE value.
func (r *recurrence) ruleWords(rule calendar.Rule) string {
	what, ok := r.frequencyWords(rule)
	if !ok || rule.Never {
		return rule.String()
	}
	if rule.Count > 0 {
		if rule.Count == 1 {
			what += ", once"
		} else {
			what += ", " + strconv.Itoa(rule.Count) + " times"
		}
	}
	if u := rule.Until; !u.IsZero() {
		day := u.Time
		if !u.Date {
			day = u.In(r.loc)
		}
		what += ", until " + day.Format(dateLayout)
	}
	return what
}

// frequencyWords is the rule without COUNT and UNTIL in words; ok is
// false when it is not simple.
func (r *recurrence) frequencyWords(rule calendar.Rule) (string, bool) {
	if len(rule.ByYearDay)+len(rule.ByWeekNo)+len(rule.ByHour)+len(rule.ByMinute)+
		len(rule.BySecond)+len(rule.BySetPos) > 0 {
		return "", false
	}
	every := func(one, unit string) string {
		if rule.Interval <= 1 {
			return one
		}
		return "every " + strconv.Itoa(rule.Interval) + " " + unit
	}
	anchor := r.anchor
	switch rule.Freq {
	case "DAILY":
		if len(rule.ByMonth)+len(rule.ByMonthDay) > 0 {
			return "", false
		}
		s := every("daily", "days")
		if len(rule.ByDay) == 0 {
			return s, true
		}
		days, ok := weekdays(rule.ByDay)
		return s + " on " + days, ok
	case "WEEKLY":
		if len(rule.ByMonth)+len(rule.ByMonthDay) > 0 {
			return "", false
		}
		byDay := rule.ByDay
		if len(byDay) == 0 {
			byDay = []calendar.WeekdayNum{{Day: anchor.Weekday()}}
		}
		days, ok := weekdays(byDay)
		return every("weekly", "weeks") + " on " + days, ok
	case "MONTHLY":
		if len(rule.ByMonth) > 0 {
			return "", false
		}
		on, ok := monthDay(rule, anchor)
		return every("monthly", "months") + " on " + on, ok
	case "YEARLY":
		month := anchor.Month()
		switch len(rule.ByMonth) {
		case 0:
			if len(rule.ByDay)+len(rule.ByMonthDay) > 0 {
				return "", false
			}
		case 1:
			month = time.Month(rule.ByMonth[0])
		default:
			return "", false
		}
		if len(rule.ByDay) == 0 && len(rule.ByMonthDay) == 0 {
			return every("yearly", "years") + " on " + strconv.Itoa(anchor.Day()) + " " + month.String(), true
		}
		on, ok := monthDay(rule, anchor)
		if strings.HasPrefix(on, "day ") {
			return every("yearly", "years") + " on " + strings.TrimPrefix(on, "day ") + " " + month.String(), ok
		}
		return every("yearly", "years") + " on " + on + " of " + month.String(), ok
	}
	return "", false
}

// monthDay is the day of the month a monthly (or yearly) rule names:
// "day 15", "days 1 and 15", "the last day", "the second Monday".
func monthDay(rule calendar.Rule, anchor time.Time) (string, bool) {
	switch {
	case len(rule.ByDay) > 0 && len(rule.ByMonthDay) > 0:
		return "", false
	case len(rule.ByDay) == 1 && rule.ByDay[0].Nth != 0:
		n, ok := ordinal(rule.ByDay[0].Nth)
		return "the " + n + " " + rule.ByDay[0].Day.String(), ok
	case len(rule.ByDay) > 0:
		return "", false
	case len(rule.ByMonthDay) == 0:
		return "day " + strconv.Itoa(anchor.Day()), true
	case len(rule.ByMonthDay) == 1 && rule.ByMonthDay[0] == -1:
		return "the last day", true
	}
	days := slices.Compact(slices.Sorted(slices.Values(rule.ByMonthDay)))
	if len(days) > 4 || days[0] < 1 {
		return "", false
	}
	names := make([]string, len(days))
	for i, n := range days {
		names[i] = strconv.Itoa(n)
	}
	if len(days) == 1 {
		return "day " + names[0], true
	}
	return "days " + and(names), true
}

// weekdays names plain BYDAY days, Monday first: "Tuesday", "Monday and
// Thursday", "weekdays"; ok is false for an nth day.
func weekdays(byDay []calendar.WeekdayNum) (string, bool) {
	var seen [7]bool
	for _, d := range byDay {
		if d.Nth != 0 {
			return "", false
		}
		seen[d.Day%7] = true
	}
	if seen[time.Monday] && seen[time.Tuesday] && seen[time.Wednesday] && seen[time.Thursday] &&
		seen[time.Friday] && !seen[time.Saturday] && !seen[time.Sunday] {
		return "weekdays", true
	}
	var names []string
	for i := range 7 {
		if day := time.Weekday((i + 1) % 7); seen[day] {
			names = append(names, day.String())
		}
	}
	return and(names), true
}

// ordinal is "first" … "fifth", or "last" for -1.
func ordinal(n int) (string, bool) {
	switch n {
	case -1:
		return "last", true
	case 1, 2, 3, 4, 5:
		return [...]string{"first", "second", "third", "fourth", "fifth"}[n-1], true
	}
	return "", false
}

// and joins names as "a", "a and b", "a, b and c".
func and(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
