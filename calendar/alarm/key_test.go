package alarm

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// version is a recurring event as a client would save it, with the given
// changes applied (old → new substitutions).
func version(changes ...string) []byte {
	s := strings.Join([]string{
		"BEGIN:VEVENT", "UID:k", "DTSTAMP:20240601T100000Z", "SEQUENCE:1", "SUMMARY:Planning",
		"DESCRIPTION:Quarterly planning", "LOCATION:Room 1",
		"DTSTART;TZID=Europe/Berlin:20240701T100000", "DTEND;TZID=Europe/Berlin:20240701T110000",
		"RRULE:FREQ=WEEKLY;COUNT=10",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:Planning", "END:VALARM",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-P1D", "SUMMARY:Planning", "DESCRIPTION:Planning",
		"ATTENDEE:mailto:fred@example.org", "END:VALARM",
		"BEGIN:VALARM", "UID:apple-1", "ACTION:AUDIO", "TRIGGER:-PT5M", "END:VALARM",
		"END:VEVENT",
		"BEGIN:VEVENT", "UID:k", "RECURRENCE-ID;TZID=Europe/Berlin:20240715T100000", "SUMMARY:Planning",
		"DTSTART;TZID=Europe/Berlin:20240715T100000", "DTEND;TZID=Europe/Berlin:20240715T110000",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM",
		"END:VEVENT",
	}, "\n")
	for i := 0; i+1 < len(changes); i += 2 {
		if !strings.Contains(s, changes[i]) {
			panic("no " + changes[i])
		}
		s = strings.ReplaceAll(s, changes[i], changes[i+1])
	}
	return ics(strings.Split(s, "\n")...)
}

func keySet(t *testing.T, data []byte) map[string]Instance {
	t.Helper()
	r := compute(t, data, nil, "2024-06-01T00:00", "2024-10-01T00:00")
	m := map[string]Instance{}
	for _, in := range r.Instances {
		if _, dup := m[in.Key]; dup {
			t.Fatalf("key %s twice", in.Key)
		}
		m[in.Key] = in
	}
	return m
}

// Editing the summary, description and location (which Evolution copies
// into the alarms' texts), saving again (DTSTAMP, SEQUENCE), reordering
// the alarms: no key changes, so nothing rings again.
func TestKeysSurviveTextEdits(t *testing.T) {
	before := keySet(t, version())
	if len(before) != 28 { // 9 instances with 3 alarms, an override with 1
		t.Fatalf("%d rings", len(before))
	}
	for name, changes := range map[string][]string{
		"summary":     {"Planning", "Budget planning"},
		"description": {"DESCRIPTION:Quarterly planning", "DESCRIPTION:Q3 planning, room changed"},
		"location":    {"LOCATION:Room 1", "LOCATION:Room 2"},
		"saved again": {"DTSTAMP:20240601T100000Z", "DTSTAMP:20240620T120000Z", "SEQUENCE:1", "SEQUENCE:5"},
		"alarm order": {"BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nDESCRIPTION:Planning\nEND:VALARM\nBEGIN:VALARM\nACTION:EMAIL",
			"BEGIN:VALARM\nACTION:EMAIL"},
	} {
		data := version(changes...)
		if name == "alarm order" {
			data = version(changes[0], changes[1],
				"BEGIN:VALARM\nUID:apple-1", "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM\nBEGIN:VALARM\nUID:apple-1")
		}
		after := keySet(t, data)
		if !slices.Equal(slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before))) {
			t.Errorf("%s: keys changed", name)
		}
	}
}

// Moving the series changes every key (the old rings are cancelled, the
// new ones ring once); moving one instance changes only its keys; a new
// alarm trigger changes only that alarm's keys.
func TestKeysChangeOnMove(t *testing.T) {
	before := keySet(t, version())
	moved := keySet(t, version("DTSTART;TZID=Europe/Berlin:20240701T100000", "DTSTART;TZID=Europe/Berlin:20240701T110000"))
	for k, in := range moved {
		// The override keeps its own DTSTART, so its ring stays.
		if _, ok := before[k]; ok != (in.RecurrenceID == "20240715T080000Z") {
			t.Errorf("series moved: key of %s kept %v", ring(in), ok)
		}
	}
	one := keySet(t, version("DTSTART;TZID=Europe/Berlin:20240715T100000", "DTSTART;TZID=Europe/Berlin:20240715T120000"))
	changed := 0
	for k, in := range before {
		if _, ok := one[k]; !ok {
			changed++
			if in.RecurrenceID != "20240715T080000Z" {
				t.Errorf("instance moved: key of %s changed", in.RecurrenceID)
			}
		}
	}
	if changed != 1 {
		t.Errorf("instance moved: %d keys changed, want 1", changed)
	}
	retrigger := keySet(t, version("TRIGGER:-PT5M", "TRIGGER:-PT10M"))
	changed = 0
	for k := range before {
		if _, ok := retrigger[k]; !ok {
			changed++
		}
	}
	if changed != 9 { // the override has no such alarm
		t.Errorf("alarm changed: %d keys changed, want 9", changed)
	}
}

// A ring has the same key whatever window found it: the horizon can roll.
func TestKeysWindowIndependent(t *testing.T) {
	obj := parse(t, version(), nil)
	all := Compute(obj, utc("2024-06-01T00:00"), utc("2024-10-01T00:00"), Options{Principal: fred})
	byTrigger := map[string]string{}
	for _, in := range all.Instances {
		byTrigger[in.Trigger.String()+string(in.Action)] = in.Key
	}
	for from := utc("2024-06-28T00:00"); from.Before(utc("2024-09-01T00:00")); from = from.Add(17 * 3600e9) {
		for _, in := range Compute(obj, from, from.Add(48*3600e9), Options{Principal: fred}).Instances {
			if byTrigger[in.Trigger.String()+string(in.Action)] != in.Key {
				t.Fatalf("window from %s: %s has key %s", from, ring(in), in.Key)
			}
		}
	}
}

// Identical alarms (same action, trigger, repeat, recipients, whatever
// their text or UID) ring once; different triggers ring each.
func TestIdenticalAlarms(t *testing.T) {
	r := compute(t, event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "UID:b", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:one", "END:VALARM",
		"BEGIN:VALARM", "UID:a", "ACTION:DISPLAY", "TRIGGER;RELATED=START:-PT15M", "DESCRIPTION:two", "ACKNOWLEDGED:20240701T084500Z", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM",
		"BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER:-PT15M", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", "END:VALARM"), nil, day, nextDay)
	wantRings(t, r, "2024-07-01T08:45 AUDIO", "2024-07-01T08:45 DISPLAY skip=acknowledged", "2024-07-01T08:50 DISPLAY")
	if r.Duplicates != 2 {
		t.Errorf("duplicates %d", r.Duplicates)
	}
	for _, in := range r.Instances {
		if in.Action == Display && in.Trigger.Equal(utc("2024-07-01T08:45")) && in.AlarmID != "a" {
			t.Errorf("kept alarm %q, want the smallest identity", in.AlarmID)
		}
	}
}

// Keys are 32 hex digits; an alarm without UID is named by its digest.
func TestKeyForm(t *testing.T) {
	r := compute(t, version(), nil, "2024-07-01T00:00", "2024-07-08T00:00")
	hex := regexp.MustCompile(`^[0-9a-f]{32}$`)
	ids := map[string]bool{}
	for _, in := range r.Instances {
		if !hex.MatchString(in.Key) {
			t.Errorf("key %q", in.Key)
		}
		ids[in.AlarmID] = true
	}
	if !ids["apple-1"] || len(ids) != 3 {
		t.Errorf("alarm ids %v", ids)
	}
	if a, b := firingKey("u", "", "a", utc("2024-07-01T00:00"), 0), firingKey("u", "", "a", utc("2024-07-01T00:00"), 1); a == b {
		t.Error("repetition not in the key")
	}
	if firingKey("ab", "c", "", utc("2024-07-01T00:00"), 0) == firingKey("a", "bc", "", utc("2024-07-01T00:00"), 0) {
		t.Error("parts of the key run together")
	}
}
