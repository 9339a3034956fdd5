// Package calendar reads one CalDAV calendar object resource (RFC 4791): a
// VCALENDAR holding one event or task, its RECURRENCE-ID overrides and its
// time zones, and lists its instances within a window of time.
//
// It is the only package that uses github.com/emersion/go-ical (to parse)
// and github.com/teambition/rrule-go (to step through an RRULE). Around
// them it adds what they lack or get wrong at the pinned versions (each
// pinned by a test in librarybugs_test.go, which fails when an upgrade
// fixes it):
//
//   - go-ical panics on some malformed parameters, decodes parameter values
//     in quadratic time, and recurses on nesting: Parse recovers, and
//     refuses such input before go-ical sees it.
//   - go-ical resolves TZID with time.LoadLocation only. Here a TZID is an
//     IANA name (also behind a client's path prefix), else a Windows name
//     (the CLDR mapping), else the object's own VTIMEZONE, built into a
//     real *time.Location; else the caller's default location, with a
//     warning. Floating times and all-day dates use the default location;
//     without one they are UTC, with a warning: never UTC silently.
//   - go-ical's RecurrenceSet ignores RDATE and fails on comma-separated
//     EXDATE; its durations count a day as 24 hours. Expand handles RDATE
//     and EXDATE lists (DATE, DATE-TIME with TZID, PERIOD), overrides, and
//     nominal day durations.
//   - rrule-go builds instances with time.Date, which reads a wall time in
//     a DST gap or overlap differently east and west of UTC. Rules are
//     expanded here on the wall clock and each instance placed as RFC 5545
//     section 3.3.5 says.
//   - rrule-go can loop forever (an INTERVAL that never meets BYHOUR),
//     searches until the year 9999 for a rule that matches nothing more,
//     reads COUNT=0 as endless, and walks every instance from DTSTART.
//     Expansion is bounded: an iteration cap, guards for the rules it
//     cannot finish, a start moved close to the window, and a shift by
//     whole 400-year cycles so that its search after the window is short.
//
// Package calendar/alarm computes the reminders from what this package
// reads; package calendar/change compares two versions of an object
// (Component.Recurrence gives it the recurrence rules as read).
package calendar
