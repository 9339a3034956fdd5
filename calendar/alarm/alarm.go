package alarm

import (
	"sort"
	"strings"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// Action is the ACTION of an alarm that rings.
type Action string

// The actions that ring.
const (
	Display Action = "DISPLAY"
	Email   Action = "EMAIL"
	Audio   Action = "AUDIO"
)

// Skip is why an instance does not ring; empty when it does.
type Skip string

// The reasons an instance does not ring (see the package documentation).
const (
	SkipCancelled Skip = "cancelled"
	SkipCompleted Skip = "completed"
	SkipDeclined  Skip = "declined"
	// SkipOtherRecipients: an EMAIL alarm addressed (its own ATTENDEEs)
	// to other people only.
	SkipOtherRecipients Skip = "other-recipients"
	SkipAcknowledged    Skip = "acknowledged"
	SkipSnoozed         Skip = "snoozed"
	SkipBeforeWritten   Skip = "before-written"
)

// DefaultMinInterval is Options.MinInterval when left 0: instances of a
// rule closer together than this get one reminder per 5 minutes at most
// (Cyrus's calendar_minimum_alarm_interval default).
const DefaultMinInterval = 5 * time.Minute

// Options are the caller's inputs to Compute.
type Options struct {
	// Principal are the principal's calendar user addresses (its
	// calendar-user-address-set: "mailto:fred@example.org", ...), to find
	// its ATTENDEE (declined instances), keep only its addresses in an
	// EMAIL alarm's recipients and skip an EMAIL alarm addressed to
	// others only. Compared case-insensitively, with or without
	// "mailto:". None: nothing is declined, and every EMAIL alarm rings.
	Principal []string
	// WrittenAt is when this version of the object was written: the
	// resource's DAV:getlastmodified when the server gives one (less a
	// minute for clock skew), else when the caller first saw this version
	// (not when it last looked: re-expanding the same version later must
	// decide the same). Rings before it are skipped as before-written.
	// Zero skips nothing. A caller that already stored a key under an
	// earlier version keeps that instance's state rather than this skip.
	WrittenAt time.Time
	// MinInterval thins too-frequent recurrences (see
	// calendar.ExpandOptions); 0 means DefaultMinInterval, negative none.
	MinInterval time.Duration
	// MaxIterations caps the recurrence expansion; 0 means
	// calendar.DefaultMaxIterations.
	MaxIterations int
}

// Instance is one ring of one alarm of one instance of the object.
type Instance struct {
	// Key is the firing key (see the package documentation): 32 hex digits.
	Key string
	// UID is the object's UID.
	UID string
	// RecurrenceID is the instance's recurrence id, calendar.Time.ID form
	// ("20240310T090000Z", "20240310"); empty for a non-recurring object
	// and for an absolute alarm of a recurring master.
	RecurrenceID string
	// AlarmID is the alarm's identity: its UID, else "sha256:" and a digest.
	AlarmID string
	// Repetition is 0 for the trigger, 1 to REPEAT for the repetitions.
	Repetition int
	// Trigger is when it rings, in UTC.
	Trigger time.Time
	Action  Action
	// Kind is event or task (Sun ENS comptype).
	Kind calendar.Kind
	// Summary, Location and Description are the instance's.
	Summary, Location, Description string
	// Text is the alarm's own DESCRIPTION (what a DISPLAY alarm shows, an
	// EMAIL alarm's body), often a client's default text.
	Text string
	// Start and End are the instance's start and end (a task's DUE) in
	// UTC, for an all-day instance midnight UTC of its dates (the dates,
	// whatever the zone); zero when it has none.
	Start, End time.Time
	// Zone is the name of the instance's time zone (a TZID for a zone
	// read from a VTIMEZONE).
	Zone string
	// AllDay reports an all-day (DATE) instance.
	AllDay bool
	// EmailTo are the bare addresses of an EMAIL alarm's ATTENDEEs that
	// are the principal's; the others are dropped, never mailed.
	EmailTo []string
	// Snooze reports a snooze (RFC 9074 or Thunderbird) ringing again.
	Snooze bool
	// Skip is why it does not ring; empty when it does.
	Skip Skip
}

// Result is what Compute found.
type Result struct {
	// Instances are the rings in the window, by Trigger, Action, Key; those
	// with a Skip do not ring but are listed so the caller can show why.
	Instances []Instance
	// Truncated reports that the recurrence expansion stopped at its
	// cap: rings may be missing.
	Truncated bool
	// Duplicates counts identical alarms left out.
	Duplicates int
	// Warnings are the object's and the computation's (log them).
	Warnings []calendar.Warning
}

// Warnings of the alarm computation.
const (
	// WarnStartOnDue: a START trigger on a task with only DUE, read
	// relative to the DUE.
	WarnStartOnDue calendar.WarningCode = "start-trigger-on-due"
	// WarnNoEnd: a RELATED=END trigger on a task with no DUE or DURATION.
	WarnNoEnd calendar.WarningCode = "no-end"
	// WarnNoStart: a relative trigger on a task with no DTSTART or DUE.
	WarnNoStart calendar.WarningCode = "no-start"
)

// Compute lists the rings of obj's alarms with a Trigger in [from, to).
func Compute(obj *calendar.Object, from, to time.Time, opts Options) Result {
	c := &computation{obj: obj, from: from, to: to, opts: opts, keys: map[string]bool{}}
	c.warn = append(c.warn, obj.Warnings...)
	c.principal = make(map[string]bool, len(opts.Principal))
	for _, a := range opts.Principal {
		c.principal[bareAddress(a)] = true
	}
	if opts.MinInterval == 0 {
		c.opts.MinInterval = DefaultMinInterval
	}
	comps := append([]*calendar.Component{}, obj.Overrides...)
	if obj.Master != nil {
		comps = append([]*calendar.Component{obj.Master}, comps...)
	}
	c.alarms = make(map[*calendar.Component][]alarmDef, len(comps))
	c.snoozes = make(map[*calendar.Component]map[string]time.Time)
	for _, comp := range comps {
		c.alarms[comp] = c.dedup(comp)
		for _, s := range c.alarms[comp] {
			for _, uid := range s.snoozeOf {
				if c.snoozes[comp] == nil {
					c.snoozes[comp] = map[string]time.Time{}
				}
				if s.Trigger.At.After(c.snoozes[comp][uid]) {
					c.snoozes[comp][uid] = s.Trigger.At
				}
			}
		}
	}
	c.relative(comps)
	for _, comp := range comps {
		c.absolute(comp)
		c.mozSnoozes(comp)
	}
	sort.Slice(c.out, func(i, j int) bool {
		a, b := c.out[i], c.out[j]
		if !a.Trigger.Equal(b.Trigger) {
			return a.Trigger.Before(b.Trigger)
		}
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Key < b.Key
	})
	return Result{Instances: c.out, Truncated: c.truncated, Duplicates: c.duplicates, Warnings: c.warn}
}

// bareAddress is an address for comparison: lower case, no "mailto:".
func bareAddress(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	return strings.TrimPrefix(a, "mailto:")
}
