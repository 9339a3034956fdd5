package alarm

import (
	"testing"
)

const day = "2024-07-01T00:00"
const nextDay = "2024-07-02T00:00"

// RFC 9074: ACKNOWLEDGED at or after a ring dismisses it; before it, not
// (an earlier ring was acknowledged). A snooze alarm (RELATED-TO;
// RELTYPE=SNOOZE) silences the rings of its parent up to its own, and
// rings itself.
func TestSkipAcknowledgedAndSnoozedRFC9074(t *testing.T) {
	alarm := func(uid, trigger string, extra ...string) []string {
		return append(append([]string{"BEGIN:VALARM", "UID:" + uid, "ACTION:DISPLAY", "TRIGGER" + trigger}, extra...), "END:VALARM")
	}
	lines := []string{"DTSTART:20240701T090000Z"}
	lines = append(lines, alarm("acked", ":-PT30M", "ACKNOWLEDGED:20240701T083000Z")...)
	lines = append(lines, alarm("acked-before", ":-PT20M", "ACKNOWLEDGED:20240701T083959Z")...)
	lines = append(lines, alarm("parent", ":-PT15M")...)
	lines = append(lines, alarm("snooze", ";VALUE=DATE-TIME:20240701T085500Z", "RELATED-TO;RELTYPE=SNOOZE:parent")...)
	lines = append(lines, alarm("snooze-relative", ":-PT0S", "RELATED-TO;RELTYPE=SNOOZE:parent")...)
	r := compute(t, event(lines...), nil, day, nextDay)
	wantRings(t, r,
		"2024-07-01T08:30 DISPLAY skip=acknowledged",
		"2024-07-01T08:40 DISPLAY",
		"2024-07-01T08:45 DISPLAY skip=snoozed",
		"2024-07-01T08:55 DISPLAY snooze",
		"2024-07-01T09:00 DISPLAY snooze",
	)
	// An acknowledged snooze does not ring.
	r = compute(t, event("DTSTART:20240701T090000Z", "BEGIN:VALARM", "UID:s", "ACTION:DISPLAY",
		"TRIGGER;VALUE=DATE-TIME:20240701T085500Z", "RELATED-TO;RELTYPE=SNOOZE:p", "ACKNOWLEDGED:20240701T085501Z", "END:VALARM"), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:55 DISPLAY snooze skip=acknowledged")
}

// A snooze naming one of two identical alarms silences the one kept.
func TestSkipSnoozedDuplicate(t *testing.T) {
	r := compute(t, event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "UID:a", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM",
		"BEGIN:VALARM", "UID:b", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM",
		"BEGIN:VALARM", "UID:s", "ACTION:DISPLAY", "TRIGGER;VALUE=DATE-TIME:20240701T085500Z",
		"RELATED-TO;RELTYPE=SNOOZE:b", "END:VALARM"), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=snoozed", "2024-07-01T08:55 DISPLAY snooze")
}

// On a recurring master, ACKNOWLEDGED covers the rings up to it, not the
// later instances'.
func TestSkipAcknowledgedRecurring(t *testing.T) {
	r := compute(t, event("DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY;COUNT=3",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "ACKNOWLEDGED:20240702T084600Z", "END:VALARM"), nil, day, "2024-07-05T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=acknowledged", "2024-07-02T08:45 DISPLAY skip=acknowledged", "2024-07-03T08:45 DISPLAY")
}

// Thunderbird: X-MOZ-LASTACK dismisses the rings up to it (the master's
// covers overrides too); X-MOZ-SNOOZE-TIME silences the component's rings
// up to it and rings then; X-MOZ-SNOOZE-TIME-<µs> does so for one instance.
func TestSkipThunderbird(t *testing.T) {
	alarm := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"}
	r := compute(t, event(append([]string{"DTSTART:20240701T090000Z", "X-MOZ-LASTACK:20240701T084500Z"}, alarm...)...), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=acknowledged")
	r = compute(t, event(append([]string{"DTSTART:20240701T090000Z", "X-MOZ-LASTACK:20240701T084600Z",
		"X-MOZ-SNOOZE-TIME:20240701T085000Z"}, alarm...)...), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=acknowledged", "2024-07-01T08:50 DISPLAY snooze")
	if in := r.Instances[1]; in.AlarmID != "x-moz-snooze" || in.RecurrenceID != "" || !in.Start.Equal(utc("2024-07-01T09:00")) {
		t.Errorf("snooze instance %+v", in)
	}
	// Snoozed without a LASTACK (another client wrote it): the parent is
	// silenced by the snooze alone.
	r = compute(t, event(append([]string{"DTSTART:20240701T090000Z", "X-MOZ-SNOOZE-TIME:20240701T085000Z"}, alarm...)...), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=snoozed", "2024-07-01T08:50 DISPLAY snooze")
	// Recurring: the master's LASTACK covers the 3 July override too; the
	// 4 July instance (1720083600000000 µs) is snoozed.
	data := ics("BEGIN:VEVENT", "UID:r", "DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY;COUNT=5",
		"X-MOZ-LASTACK:20240703T084500Z", "X-MOZ-SNOOZE-TIME-1720083600000000:20240704T085500Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT",
		"BEGIN:VEVENT", "UID:r", "RECURRENCE-ID:20240703T090000Z", "DTSTART:20240703T090000Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT")
	r = compute(t, data, nil, day, "2024-07-06T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=acknowledged", "2024-07-02T08:45 DISPLAY skip=acknowledged",
		"2024-07-03T08:45 DISPLAY skip=acknowledged", "2024-07-04T08:45 DISPLAY skip=snoozed",
		"2024-07-04T08:55 DISPLAY snooze", "2024-07-05T08:45 DISPLAY")
	if in := r.Instances[4]; in.RecurrenceID != "20240704T090000Z" || !in.Start.Equal(utc("2024-07-04T09:00")) {
		t.Errorf("instance snooze %+v", in)
	}
}

// A cancelled series rings nothing; a cancelled instance (override) only
// loses its own rings.
func TestSkipCancelled(t *testing.T) {
	alarm := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"}
	master := append([]string{"BEGIN:VEVENT", "UID:c", "DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY;COUNT=3"}, alarm...)
	override := append([]string{"BEGIN:VEVENT", "UID:c", "RECURRENCE-ID:20240702T090000Z", "DTSTART:20240702T090000Z", "STATUS:CANCELLED"}, alarm...)
	r := compute(t, ics(append(append(master, "END:VEVENT"), append(override, "END:VEVENT")...)...), nil, day, "2024-07-05T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY", "2024-07-02T08:45 DISPLAY skip=cancelled", "2024-07-03T08:45 DISPLAY")
	r = compute(t, ics(append(append(master, "STATUS:CANCELLED", "END:VEVENT"), append(override[:4], "END:VEVENT")...)...), nil, day, "2024-07-05T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=cancelled", "2024-07-03T08:45 DISPLAY skip=cancelled")
}

// An instance the principal declined does not ring for it; another
// attendee's answer does not matter; addresses compare without case.
func TestSkipDeclined(t *testing.T) {
	data := ics("BEGIN:VEVENT", "UID:d", "DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY;COUNT=3",
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:fred@example.org", "ATTENDEE;PARTSTAT=DECLINED:mailto:barney@example.org",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT",
		"BEGIN:VEVENT", "UID:d", "RECURRENCE-ID:20240702T090000Z", "DTSTART:20240702T090000Z",
		"ATTENDEE;PARTSTAT=DECLINED;CN=Fred:MAILTO:FRED@EXAMPLE.ORG",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT")
	r := compute(t, data, nil, day, "2024-07-05T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY", "2024-07-02T08:45 DISPLAY skip=declined", "2024-07-03T08:45 DISPLAY")
	r = compute(t, data, nil, day, "2024-07-05T00:00", func(o *Options) { o.Principal = []string{"mailto:barney@example.org"} })
	if got := rings(r); len(got) != 3 || got[0] != "2024-07-01T08:45 DISPLAY skip=declined" {
		t.Errorf("barney: %v", got)
	}
}

// A completed task rings nothing.
func TestSkipCompleted(t *testing.T) {
	for _, line := range []string{"STATUS:COMPLETED", "COMPLETED:20240630T100000Z", "PERCENT-COMPLETE:100"} {
		r := compute(t, ics("BEGIN:VTODO", "UID:t", "DUE:20240701T170000Z", line,
			"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT10M", "END:VALARM", "END:VTODO"), nil, day, nextDay)
		wantRings(t, r, "2024-07-01T16:50 DISPLAY skip=completed")
	}
}

// A ring already past when this version was written does not ring; one at
// or after, does.
func TestSkipBeforeWritten(t *testing.T) {
	data := event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M", "END:VALARM")
	r := compute(t, data, nil, day, nextDay, func(o *Options) { o.WrittenAt = utc("2024-07-01T08:50") })
	wantRings(t, r, "2024-07-01T08:45 DISPLAY skip=before-written", "2024-07-01T08:50 DISPLAY #1", "2024-07-01T08:55 DISPLAY #2")
}

// An EMAIL alarm's recipients: only the principal's addresses are kept;
// one addressed to others only does not ring (unless the principal's
// addresses are unknown); one with no recipients of its own rings.
func TestEmailRecipients(t *testing.T) {
	data := event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-PT15M", "SUMMARY:Reminder", "DESCRIPTION:Go",
		"ATTENDEE:mailto:boss@example.org", "ATTENDEE:MAILTO:fred@EXAMPLE.org", "ATTENDEE:mailto:fred@example.org", "END:VALARM",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-PT30M", "ATTENDEE:mailto:boss@example.org", "END:VALARM",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-PT45M", "END:VALARM")
	unknown := compute(t, data, nil, day, nextDay, func(o *Options) { o.Principal = nil })
	wantRings(t, unknown, "2024-07-01T08:15 EMAIL", "2024-07-01T08:30 EMAIL", "2024-07-01T08:45 EMAIL")
	r := compute(t, data, nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:15 EMAIL", "2024-07-01T08:30 EMAIL skip=other-recipients", "2024-07-01T08:45 EMAIL")
	if to := r.Instances[2].EmailTo; len(to) != 1 || to[0] != "fred@example.org" || r.Instances[2].Text != "Go" {
		t.Errorf("kept %v", r.Instances[2])
	}
	if len(r.Instances[0].EmailTo) != 0 || len(r.Instances[1].EmailTo) != 0 {
		t.Errorf("others: %v %v", r.Instances[0].EmailTo, r.Instances[1].EmailTo)
	}
}
