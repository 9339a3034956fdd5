package calendar

import (
	"fmt"
	"time"
)

// Kind is the type of component a calendar object holds; the values are
// the component types of a Sun ENS alarm ("comptype").
type Kind string

const (
	// KindEvent is a VEVENT.
	KindEvent Kind = "event"
	// KindTask is a VTODO.
	KindTask Kind = "task"
)

// Object is one calendar object resource: the master component and its
// overrides, all with one UID.
type Object struct {
	Kind Kind
	UID  string
	// Master is the component without RECURRENCE-ID. It is nil when the
	// resource holds only overrides (an attendee invited to some instances
	// of a series).
	Master *Component
	// Overrides are the components with a RECURRENCE-ID, by RecurrenceID.
	Overrides []*Component
	// Warnings are what Parse read with a guess or left out.
	Warnings []Warning
}

// Recurring reports whether the master has an RRULE or RDATE.
func (o *Object) Recurring() bool {
	return o.Master != nil && (len(o.Master.rules) > 0 || len(o.Master.rdates) > 0)
}

// Component is a VEVENT or VTODO: the master or one override.
type Component struct {
	// UID is the object's UID.
	UID string
	// RecurrenceID is zero for the master.
	RecurrenceID Time
	// ThisAndFuture reports RANGE=THISANDFUTURE on the RECURRENCE-ID. It is
	// read as an override of that one instance (with a warning).
	ThisAndFuture bool
	// Start is DTSTART; zero when absent (a task may have none).
	Start Time
	// End is DTEND for an event and DUE for a task, as written; zero when
	// absent (see Occurrence.End for the computed end).
	End Time
	// Duration is DURATION, when HasDuration.
	Duration    Duration
	HasDuration bool
	// Status is STATUS in upper case ("CANCELLED", "COMPLETED", ...).
	Status string
	// Completed reports a task that is done: STATUS:COMPLETED, a
	// COMPLETED date, or PERCENT-COMPLETE:100.
	Completed bool

	Summary, Location, Description string
	Attendees                      []Attendee
	Alarms                         []Alarm

	// MozLastAck is Thunderbird's X-MOZ-LASTACK: alarms that triggered
	// at or before it were dismissed.
	MozLastAck time.Time
	// MozSnoozes are Thunderbird's X-MOZ-SNOOZE-TIME properties.
	MozSnoozes []MozSnooze

	task   bool
	rules  []*rule
	rdates []rdate
	ex     exclusions
}

// exclusions are the EXDATEs, in sets: an object may list thousands.
type exclusions struct {
	instants map[int64]bool
	// dates are the DATE EXDATEs: they remove a timed series' instances
	// on that date too.
	dates map[[3]int]bool
	// allDates are every EXDATE's date in the default location, for an
	// all-day series.
	allDates map[[3]int]bool
	// loc is the default location the DATE EXDATEs were read in.
	loc *time.Location
}

func dateKey(t time.Time) [3]int {
	y, m, d := t.Date()
	return [3]int{y, int(m), d}
}

func (e *exclusions) add(t Time, def *time.Location) {
	if e.instants == nil {
		e.instants, e.dates, e.allDates = map[int64]bool{}, map[[3]int]bool{}, map[[3]int]bool{}
		e.loc = def
	}
	if t.Date {
		e.dates[dateKey(t.Time)] = true
		e.allDates[dateKey(t.Time)] = true
		return
	}
	e.instants[t.Unix()] = true
	e.allDates[dateKey(t.In(def))] = true
}

// len is the number of EXDATE values.
func (e *exclusions) len() int { return len(e.instants) + len(e.dates) }

// Attendee is an ATTENDEE of the component.
type Attendee struct {
	// Address is the calendar user address as written ("mailto:...").
	Address string
	// PartStat is PARTSTAT in upper case, "NEEDS-ACTION" when absent.
	PartStat string
}

// MozSnooze is Thunderbird's snooze: the alarm rings again at Until.
type MozSnooze struct {
	// Instance is the recurrence instance X-MOZ-SNOOZE-TIME-<n> names (n
	// is its RECURRENCE-ID in microseconds since 1970, UTC; for a DATE or
	// floating instance, its wall clock read as UTC). Zero for the plain
	// X-MOZ-SNOOZE-TIME of a non-recurring component.
	Instance time.Time
	Until    time.Time
}

// Alarm is one VALARM.
type Alarm struct {
	// Action is ACTION in upper case: DISPLAY, EMAIL, AUDIO, or anything
	// else a client wrote (NONE, PROCEDURE, X-...).
	Action  string
	Trigger Trigger
	// Repeat is REPEAT: further rings Interval apart. It is 0 when REPEAT
	// came without DURATION (RFC 5545 wants both), and at most maxRepeat.
	Repeat   int
	Interval Duration
	// UID is the alarm's UID (RFC 9074), else Apple's X-WR-ALARMUID.
	UID string
	// Acknowledged is ACKNOWLEDGED (RFC 9074): the alarm rang or was
	// dismissed then.
	Acknowledged time.Time
	// RelatedTo are RELATED-TO properties; a snooze alarm (RFC 9074
	// section 7) has one with RELTYPE=SNOOZE naming the alarm it snoozes.
	RelatedTo []Relation
	// Attendees are an EMAIL alarm's recipients, as written.
	Attendees []string
	// Summary and Description are the alarm's own texts (an EMAIL
	// alarm's subject and body, a DISPLAY alarm's text).
	Summary, Description string
	// Proximity is RFC 9074 PROXIMITY (a location-based alarm), upper case.
	Proximity string
}

// Trigger is a TRIGGER: a duration relative to the start or the end of
// an instance, or an absolute time.
type Trigger struct {
	// At is an absolute trigger; zero for a relative one.
	At time.Time
	// Offset is a relative trigger's duration.
	Offset Duration
	// RelatedEnd reports RELATED=END.
	RelatedEnd bool
}

// Relation is a RELATED-TO property.
type Relation struct {
	UID string
	// Type is RELTYPE in upper case, "PARENT" when absent.
	Type string
}

type rdate struct {
	at  Time
	end Time // a PERIOD's end, else zero
}

// WarningCode classifies a Warning.
type WarningCode string

// The warnings.
const (
	// WarnUnknownZone: a TZID that names no IANA zone, no Windows zone and
	// no usable VTIMEZONE; its times were read in the default location.
	WarnUnknownZone WarningCode = "unknown-zone"
	// WarnNoDefaultZone: a floating or all-day time (or an unknown TZID)
	// with no default location: read as UTC.
	WarnNoDefaultZone WarningCode = "no-default-zone"
	// WarnBadTimeZone: a VTIMEZONE that could not be used.
	WarnBadTimeZone WarningCode = "bad-vtimezone"
	// WarnBadProperty: a property that could not be read, left out.
	WarnBadProperty WarningCode = "bad-property"
	// WarnBadRule: an RRULE that could not be read or is not supported;
	// the master recurs by its RDATEs only.
	WarnBadRule WarningCode = "bad-rule"
	// WarnThisAndFuture: RANGE=THISANDFUTURE read as one instance.
	WarnThisAndFuture WarningCode = "this-and-future"
	// WarnIgnored: a component left out (another UID, a second master, a
	// VTODO beside VEVENTs, a duplicate override).
	WarnIgnored WarningCode = "ignored"
	// WarnTruncated: expansion stopped at the iteration cap.
	WarnTruncated WarningCode = "truncated"
)

// Warning is something read with a guess or left out. None stops the
// object from being used; the caller logs them.
type Warning struct {
	Code   WarningCode
	Detail string
}

// String is the warning as "code: detail", for logs.
func (w Warning) String() string { return string(w.Code) + ": " + w.Detail }

// maxWarnings bounds the warnings kept for one object.
const maxWarnings = 32

type warnings struct {
	list []Warning
	seen map[Warning]bool
}

func (w *warnings) add(code WarningCode, format string, args ...any) {
	x := Warning{Code: code, Detail: fmt.Sprintf(format, args...)}
	if w.seen[x] || len(w.list) >= maxWarnings {
		return
	}
	if w.seen == nil {
		w.seen = make(map[Warning]bool)
	}
	w.seen[x] = true
	w.list = append(w.list, x)
}
