// Package change says what a person sees that changed between two
// versions of one calendar object resource (RFC 4791), as package
// calendar reads them: the net change that a calendar update notification
// (issue 15: event-modified, todo-created, …) tells its recipient.
//
// It is pure: no clock, no database, no network. The caller parses both
// versions with calendar.Parse, with the calendar's time zone as the
// default location, and passes that zone in Options too.
//
// # What Diff reports
//
// Diff(before, after) returns one notifyd.Update per change: nil before is
// a creation, nil after a deletion (one Update for the resource's UID; a
// resource whose UID or kind changed is the old one deleted and a new one
// created). A modification lists the fields that changed
// (notifyd.FieldChange), in the order messages list them:
//
//   - status: STATUS, as written in upper case ("CANCELLED"); an event
//     without STATUS reads as CONFIRMED, a task without it as NEEDS-ACTION.
//     A task's completion is the completed field (STATUS:COMPLETED, the
//     COMPLETED property or PERCENT-COMPLETE:100; To "completed" when
//     done, From "completed" when undone), so STATUS is listed beside it
//     only when CANCELLED is involved.
//   - start, end (events), start and due (tasks): compared by instant. A
//     January DTSTART rewritten from Europe/Paris 10:00 to UTC 09:00 is
//     no change; floating times are read in Options.Location, whatever zone the
//     objects were parsed with. An event's end is DTEND, else DTSTART plus
//     DURATION, else the day after an all-day DTSTART, else DTSTART; a
//     task's due is DUE, else DTSTART plus DURATION. A move lists both
//     start and end, so that a message can write "moved from 10:00–11:00
//     to 14:00–15:00" (or say only the start moved when the end stayed).
//     Times are in UTC; dates (AllDay) are midnight UTC of the date, as
//     notifyd.Event carries them. When a time becomes a date (or the
//     reverse) AllDay is the new value's, and the old value is given in
//     the same form (the date it fell on in Options.Location, or that
//     date's midnight there).
//   - summary, location: the text, From and To capped at MaxText runes
//     with an ellipsis.
//   - recurrence: the rule in words when it is simple ("weekly on Tuesday",
//     "every 2 weeks on Monday and Thursday, until Fri 31 Jul 2026",
//     "monthly on the last Friday, 10 times"), else as a canonical RRULE
//     value; "" for a non-recurring event. When the rule is unchanged but
//     dates were excluded or added, one change per kind: To "not on Tue 12
//     May 2026" for EXDATEs added, From for those removed, "also on …" for
//     RDATEs; dates and times in these texts are written in the event's
//     own zone. Rules compare by meaning (part order and case, INTERVAL=1,
//     UNTIL's zone); a series moved to a zone that is not equivalent (its
//     instances move across daylight time) is a recurrence change whose
//     texts name the zones.
//   - description: the notes, capped like the other texts.
//
// Nothing else is a change a person sees: DTSTAMP, SEQUENCE,
// LAST-MODIFIED, CREATED, X- properties, property and parameter order,
// line folding, text line endings and surrounding white space, VALARMs
// (reminders are another matter), ATTENDEE participation (scheduling
// replies are reported elsewhere) and a TZID renamed to an equivalent
// zone. A re-save that changes only those returns no Update.
//
// # Series and instances
//
// A change to the master applies to the whole series: one Update with
// RecurrenceID "", whatever the overrides did at the same time (moving a
// series rewrites them). When the master is unchanged, each overridden
// instance (RECURRENCE-ID) whose visible fields differ is its own Update
// with RecurrenceID set (notifyd.Update's form, "20261201T090000Z" or a
// date "20261201"). An override added or removed is compared with the
// master's instance it replaces, so an override that only changes an
// alarm or a participation status is no change. An instance that only
// one version has (a resource holding some instances only) is created or
// deleted. More than Options.MaxInstances changed instances become one
// Update for the series without Fields. A master added to or removed from
// a resource that held only instances is the series created or deleted.
//
// # Net change within a burst window
//
// The engine keeps the version it saw when a burst of edits began and
// diffs it against the last version when the window closes: Diff of the
// first and last versions is the net change. Created then deleted within
// the window is Diff(nil, nil): nothing. Modified then reverted is a diff
// of two versions that look alike: nothing. When only the Updates are
// kept (a publish that carries no earlier version), Merge combines two
// consecutive Updates of one event or instance by the same rules.
//
// # Bounds
//
// Work is linear in the size of the two objects (calendar.Parse bounds
// those: 4 MiB, 2000 components), apart from sorting dates: texts are
// compared once and capped in what is returned, the check that a series
// moved to an equivalent zone walks at most 100 changes of UTC offset,
// and lists of added or removed dates name at most 3 of them.
package change
