package calendar

import (
	"strings"
	"testing"
	"time"
)

// Bad iCalendar is an error, never a panic.
func TestParseErrors(t *testing.T) {
	event := func(lines ...string) []byte {
		return ics(append(append([]string{"BEGIN:VEVENT", "UID:e", "DTSTART:20240101T100000Z"}, lines...), "END:VEVENT")...)
	}
	deep := "BEGIN:VCALENDAR\r\n" + strings.Repeat("BEGIN:X\r\n", 10) + strings.Repeat("END:X\r\n", 10) + "END:VCALENDAR\r\n"
	for name, data := range map[string][]byte{
		"empty":                  nil,
		"not iCalendar":          []byte("hello\r\n"),
		"vCard":                  []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n"),
		"no component":           ics(),
		"only VJOURNAL":          ics("BEGIN:VJOURNAL", "UID:j", "END:VJOURNAL"),
		"no UID":                 ics("BEGIN:VEVENT", "DTSTART:20240101T100000Z", "END:VEVENT"),
		"unterminated":           []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"),
		"mismatched END":         ics("BEGIN:VEVENT", "UID:e", "END:VTODO"),
		"param without value":    event("X-A;P=b"),      // go-ical indexes past the end
		"text after quoted":      event(`X-A;P="b"c:d`), // go-ical panics
		"param without equals":   event("X-A;P:d"),      //
		"missing colon":          event("SUMMARY"),      //
		"nested too deep":        []byte(deep),          //
		"parameter too long":     event("X-A;P=" + strings.Repeat("a", 20000) + ":v"),
		"quoted parameter long":  event(`X-A;P="` + strings.Repeat("a", 20000) + `":v`),
		"equals in a value":      event("X-A;P=" + strings.Repeat("a=", 10000) + ":v"), // one value to go-ical
		"too big":                []byte(strings.Repeat("X", MaxObjectSize+1)),
		"many long parameters":   event(strings.Repeat("X-A;P="+strings.Repeat("a", 3000)+":v\r\n", 20)),
		"BEGIN without name":     ics("BEGIN:VEVENT", "UID:e", "BEGIN", "END:VEVENT"),
		"component in parameter": event(`BEGIN;X="END:VEVENT":VALARM`),
	} {
		obj, err := Parse(data, ParseOptions{})
		if err == nil {
			t.Errorf("%s: accepted: %+v", name, obj)
		}
	}
}

// What can be left out is, with a warning: the object is still used.
func TestParseLenient(t *testing.T) {
	obj := mustParse(t, ics(
		"begin:vevent", "uid:e1", "dtstart;tzid=Europe/Berlin:20240101T100000",
		`SUMMARY:Caf\é \, bar\; baz\nqux\`,
		"DTEND:notadate",
		"DURATION:-PT1H",
		"RRULE:FREQ=FORTNIGHTLY",
		"EXDATE:20240108T100000Z,garbage",
		"BEGIN:VALARM", "ACTION:DISPLAY", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:soon", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "REPEAT:3", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT6M", "REPEAT:1000", "DURATION:PT1M", "END:VALARM",
		"end:vevent",
		"BEGIN:VEVENT", "UID:e1", "DTSTART:20240101T100000Z", "END:VEVENT",
		"BEGIN:VEVENT", "UID:other", "DTSTART:20240101T100000Z", "END:VEVENT",
		"BEGIN:VTODO", "UID:e1", "END:VTODO",
		"BEGIN:VEVENT", "UID:e1", "RECURRENCE-ID:20240102T090000Z", "END:VEVENT",
		"BEGIN:VEVENT", "UID:e1", "RECURRENCE-ID:20240102T090000Z", "END:VEVENT",
		"BEGIN:VEVENT", "UID:e1", "RECURRENCE-ID:bad", "END:VEVENT",
	), nil)
	m := obj.Master
	if m == nil || m.Summary != "Café , bar; baz\nqux\\" {
		t.Fatalf("master %+v", m)
	}
	if !m.End.IsZero() || m.HasDuration || len(m.rules) != 0 || m.ex.len() != 1 {
		t.Errorf("bad DTEND, DURATION, RRULE, EXDATE item kept: %+v", m)
	}
	if len(m.Alarms) != 2 || m.Alarms[0].Repeat != 0 || m.Alarms[1].Repeat != maxRepeat {
		t.Errorf("alarms %+v", m.Alarms)
	}
	if len(obj.Overrides) != 1 {
		t.Errorf("overrides %d, want 1", len(obj.Overrides))
	}
	for _, code := range []WarningCode{WarnBadProperty, WarnBadRule, WarnIgnored} {
		if !hasWarning(obj.Warnings, code) {
			t.Errorf("no %s warning in %v", code, obj.Warnings)
		}
	}
}

// The real-world samples in testdata parse, with what their clients meant.
func TestParseSamples(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	for _, tc := range []struct {
		file      string
		kind      Kind
		overrides int
		alarms    int
		zone      string
	}{
		{"thunderbird-weekly.ics", KindEvent, 0, 1, "Europe/Berlin"},
		{"apple-snooze.ics", KindEvent, 0, 3, "America/New_York"},
		{"exchange-weekly.ics", KindEvent, 1, 1, "Europe/Berlin"},
		{"outlook-custom-zone.ics", KindEvent, 0, 1, "Customized Time Zone"},
		{"google-birthday.ics", KindEvent, 0, 2, "Europe/Paris"},
		{"nextcloud-task-due.ics", KindTask, 0, 2, "Europe/Berlin"},
		{"evolution-duplicates.ics", KindEvent, 0, 2, "Europe/Berlin"},
	} {
		obj := mustParse(t, readTestdata(t, tc.file), paris)
		if obj.Kind != tc.kind || len(obj.Overrides) != tc.overrides || obj.Master == nil ||
			len(obj.Master.Alarms) != tc.alarms || len(obj.Warnings) != 0 {
			t.Errorf("%s: kind %s, %d overrides, master %v, warnings %v", tc.file, obj.Kind, len(obj.Overrides), obj.Master != nil, obj.Warnings)
			continue
		}
		if got := obj.Master.anchor().Location().String(); got != tc.zone {
			t.Errorf("%s: zone %s, want %s", tc.file, got, tc.zone)
		}
	}
	// Exchange: a BOM, a folded UID, Windows zones on DTSTART and EXDATE.
	obj := mustParse(t, readTestdata(t, "exchange-weekly.ics"), nil)
	if !strings.HasPrefix(obj.UID, "040000008200E000") || !strings.HasSuffix(obj.UID, "2E1F00") {
		t.Errorf("UID %q", obj.UID)
	}
	// Apple: a long MapKit handle in a parameter is within the limits.
	obj = mustParse(t, readTestdata(t, "apple-snooze.ics"), nil)
	if obj.Master.Location != "Smile Dental\n12 Main St, Springfield" {
		t.Errorf("Apple location %q", obj.Master.Location)
	}
	a := obj.Master.Alarms
	if a[0].UID != "4D3C2B1A-0000-4000-8000-00000000A001" || a[0].Acknowledged.IsZero() ||
		len(a[1].RelatedTo) != 1 || a[1].RelatedTo[0].Type != "SNOOZE" || a[2].Action != "NONE" {
		t.Errorf("Apple alarms %+v", a)
	}
	// Thunderbird: its alarm state.
	obj = mustParse(t, readTestdata(t, "thunderbird-weekly.ics"), nil)
	m := obj.Master
	if !m.MozLastAck.Equal(utc("2024-03-11T08:46")) || len(m.MozSnoozes) != 1 ||
		!m.MozSnoozes[0].Instance.Equal(utc("2024-03-18T09:00")) || !m.MozSnoozes[0].Until.Equal(utc("2024-03-18T08:55")) {
		t.Errorf("Thunderbird state %v %+v", m.MozLastAck, m.MozSnoozes)
	}
}

func TestParseTaskCompleted(t *testing.T) {
	for name, line := range map[string]string{
		"STATUS":           "STATUS:COMPLETED",
		"COMPLETED":        "COMPLETED:20240101T100000Z",
		"PERCENT-COMPLETE": "PERCENT-COMPLETE:100",
	} {
		obj := mustParse(t, ics("BEGIN:VTODO", "UID:t", line, "END:VTODO"), nil)
		if !obj.Master.Completed {
			t.Errorf("%s: not completed", name)
		}
	}
	obj := mustParse(t, ics("BEGIN:VTODO", "UID:t", "PERCENT-COMPLETE:50", "STATUS:IN-PROCESS", "END:VTODO"), nil)
	if obj.Master.Completed {
		t.Error("in process: completed")
	}
}

func TestParseDateValues(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:d", "DTSTART;VALUE=DATE:20240310", "END:VEVENT",
		"BEGIN:VEVENT", "UID:d", "RECURRENCE-ID:20240311T090000", "DTSTART:20240311T090000", "END:VEVENT"), ny)
	s := obj.Master.Start
	if !s.Date || s.Location() != ny || s.Format("2006-01-02 15:04") != "2024-03-10 00:00" {
		t.Errorf("all-day start %v date=%v", s.Time, s.Date)
	}
	f := obj.Overrides[0].Start
	if !f.Floating || f.Location() != ny || !f.Equal(time.Date(2024, 3, 11, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("floating start %v floating=%v", f.Time, f.Floating)
	}
}
