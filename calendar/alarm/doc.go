// Package alarm computes the alarm instances (reminders) of a calendar
// object within a window of time: for each instance of the event or task
// and each of its VALARMs, when it rings, whether it should, and a firing
// key that stays the same for the same ring across re-expansions and
// edits that do not move it.
//
// It is pure: no clock, no database, no network. The caller parses the
// resource with calendar.Parse (with the calendar's time zone for floating
// and all-day times), passes the principal's calendar-user addresses and
// when this version of the object was written (Options.WrittenAt), and
// stores what Compute returns by (principal, key).
//
// # What rings
//
//   - ACTION DISPLAY, EMAIL and AUDIO; NONE (Apple's placeholder), other
//     actions and RFC 9074 PROXIMITY (location) alarms are left out.
//   - TRIGGER relative to the start (the default) or, with RELATED=END, to
//     the end: DTEND, DTSTART plus DURATION, the day after an all-day
//     DTSTART, a task's DUE. RFC 5545 section 3.8.6.3 requires DTSTART for
//     a START trigger; a task with only DUE has none, and what its author
//     meant is the due time, so such a trigger is read relative to DUE
//     (Cyrus 3.6 fires nothing), with a warning.
//   - Day and week offsets are nominal: "-P1D" before a 09:00 instance
//     rings at 09:00 the day before, across a change of daylight time.
//   - An absolute TRIGGER rings once, even on a recurring master (its key
//     has no recurrence id).
//   - REPEAT/DURATION: each further ring is its own instance, Repetition
//     1 to REPEAT, with its own key.
//   - Identical alarms of one component (same action, trigger, repeat,
//     recipients, whatever their text or UID) ring once.
//   - A rule with instances closer than Options.MinInterval gets one ring
//     per interval at most; expansion stops at Options.MaxIterations and
//     Result.Truncated says so.
//
// # What does not ring, and why (Instance.Skip)
//
//   - cancelled: STATUS:CANCELLED on the master (the whole series) or on
//     the instance's override.
//   - completed: a task with STATUS:COMPLETED, COMPLETED or
//     PERCENT-COMPLETE:100.
//   - declined: the principal's ATTENDEE has PARTSTAT=DECLINED.
//   - other-recipients: an EMAIL alarm with ATTENDEEs of its own (whom
//     to mail), none of them the principal's: it is for someone else,
//     and the caller mails nobody but the principal.
//   - acknowledged: the alarm's ACKNOWLEDGED (RFC 9074) or Thunderbird's
//     X-MOZ-LASTACK is at or after the ring.
//   - snoozed: an RFC 9074 snooze alarm (RELATED-TO;RELTYPE=SNOOZE naming
//     this alarm's UID) or Thunderbird's X-MOZ-SNOOZE-TIME[-<instance>]
//     at or after the ring; the snooze rings at its own time instead.
//   - before-written: the ring was already past when this version of the
//     object was written (Options.WrittenAt), as Cyrus and Nextcloud do:
//     creating an event whose reminder time has passed sends nothing.
//
// # Firing keys
//
// Instance.Key is derived from the object's UID, the instance's
// recurrence id, the alarm's identity, the ring time and the repetition.
// The alarm's identity is its UID (RFC 9074; Apple's X-WR-ALARMUID) when
// it has one, else a digest of what makes it ring: action, trigger,
// repeat, interval, recipients, snooze relation. Texts are left out: some
// clients (Evolution) copy the event's SUMMARY into the alarm's
// DESCRIPTION, and changing the summary must not ring anything again. So
// an edit of the summary, description or location keeps every key; moving
// an event or changing an alarm's trigger changes the ring time and so the
// key: the old instance is cancelled, the new one rings once. The key does
// not include the principal: the caller stores (principal, key).
package alarm
