package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// itipMsg is an iTIP message with METHOD method and one VEVENT of lines.
func itipMsg(method string, lines ...string) []byte {
	head := []string{}
	if method != "" {
		head = append(head, "METHOD:"+method)
	}
	return ics(append(append(head, "BEGIN:VEVENT", "UID:meet@example.org", "DTSTAMP:20260101T000000Z"),
		append(lines, "END:VEVENT")...)...)
}

// Every method is read with the people, texts and times a message
// names.
func TestParseMessageMethods(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	org := "ORGANIZER;CN=Fred Flintstone:mailto:fred@example.org"
	for _, c := range []struct {
		method, attendee string
		partstat, cn     string
	}{
		{"REQUEST", "ATTENDEE;CN=Wilma;RSVP=TRUE:mailto:wilma@example.org", "NEEDS-ACTION", "Wilma"},
		{"REPLY", "ATTENDEE;CN=Wilma;PARTSTAT=accepted:mailto:wilma@example.org", "ACCEPTED", "Wilma"},
		{"REPLY", "ATTENDEE;PARTSTAT=DECLINED:mailto:wilma@example.org", "DECLINED", ""},
		{"REPLY", "ATTENDEE;PARTSTAT=TENTATIVE:mailto:wilma@example.org", "TENTATIVE", ""},
		{"CANCEL", "ATTENDEE:mailto:wilma@example.org", "NEEDS-ACTION", ""},
		{"REFRESH", "ATTENDEE;CN=Wilma:mailto:wilma@example.org", "NEEDS-ACTION", "Wilma"},
		{"COUNTER", "ATTENDEE;CN=Wilma;PARTSTAT=TENTATIVE:mailto:wilma@example.org", "TENTATIVE", "Wilma"},
		{"DECLINECOUNTER", "ATTENDEE:mailto:wilma@example.org", "NEEDS-ACTION", ""},
		{"ADD", "ATTENDEE:mailto:wilma@example.org", "NEEDS-ACTION", ""},
	} {
		t.Run(c.method+" "+c.partstat, func(t *testing.T) {
			m, err := ParseMessage(itipMsg(strings.ToLower(c.method), org, c.attendee, "SEQUENCE:2",
				"DTSTART;TZID=Europe/Paris:20300115T090000", "DURATION:PT90M", "SUMMARY:Budget\\, Q1",
				"LOCATION:Room 4", "COMMENT:See you there"), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Method != c.method || m.Sequence != 2 || m.Comment != "See you there" {
				t.Errorf("method %q sequence %d comment %q", m.Method, m.Sequence, m.Comment)
			}
			if m.Organizer != (Party{Address: "mailto:fred@example.org", CommonName: "Fred Flintstone"}) {
				t.Errorf("organizer %+v", m.Organizer)
			}
			if len(m.Attendees) != 1 || m.Attendees[0].PartStat != c.partstat || m.Attendees[0].CommonName != c.cn {
				t.Errorf("attendees %+v", m.Attendees)
			}
			comp := m.Component
			if comp.Summary != "Budget, Q1" || comp.Location != "Room 4" {
				t.Errorf("summary %q location %q", comp.Summary, comp.Location)
			}
			if want := time.Date(2030, 1, 15, 9, 0, 0, 0, paris); !comp.Start.Equal(want) || comp.Duration.Approx() != 90*time.Minute {
				t.Errorf("start %v duration %v", comp.Start, comp.Duration)
			}
		})
	}
}

// A message about one instance of a series names its people from that
// instance; DELEGATED-TO is read.
func TestParseMessageOverrideAndDelegation(t *testing.T) {
	m, err := ParseMessage(itipMsg("REPLY", "RECURRENCE-ID:20300122T090000Z", "DTSTART:20300122T090000Z",
		"ORGANIZER:mailto:fred@example.org",
		`ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:carol@example.org":mailto:wilma@example.org`), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Object.Master != nil || m.Component == nil || m.Component.RecurrenceID.ID() != "20300122T090000Z" {
		t.Fatalf("component %+v", m.Component)
	}
	if a := m.Attendees[0]; a.PartStat != "DELEGATED" || a.DelegatedTo != "mailto:carol@example.org" {
		t.Errorf("attendee %+v", a)
	}
}

// Malformed or hostile messages are errors, never panics; long names and
// comments are cut.
func TestParseMessageBad(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":                     nil,
		"not iCalendar":             []byte("hello"),
		"no method":                 itipMsg("", "ORGANIZER:mailto:fred@example.org"),
		"blank method":              itipMsg(" ", "ORGANIZER:mailto:fred@example.org"),
		"no component":              ics("METHOD:REQUEST"),
		"no UID":                    ics("METHOD:REQUEST", "BEGIN:VEVENT", "ORGANIZER:mailto:f@x", "END:VEVENT"),
		"request without organizer": itipMsg("REQUEST", "ATTENDEE:mailto:wilma@example.org"),
		"cancel without organizer":  itipMsg("CANCEL"),
		"reply without attendee":    itipMsg("REPLY", "ORGANIZER:mailto:fred@example.org"),
		"counter without attendee":  itipMsg("COUNTER", "ORGANIZER:mailto:fred@example.org"),
		"deep":                      []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + strings.Repeat("BEGIN:X\r\n", 20) + strings.Repeat("END:X\r\n", 20) + "END:VCALENDAR\r\n"),
		"truncated":                 itipMsg("REQUEST", "ORGANIZER:mailto:fred@example.org")[:60],
	} {
		if _, err := ParseMessage(data, ParseOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "no method" && !errors.Is(err, ErrNoMethod) {
			t.Errorf("%s: %v, want ErrNoMethod", name, err)
		}
	}
	m, err := ParseMessage(itipMsg("REQUEST", "ORGANIZER;CN="+strings.Repeat("é", 1000)+":mailto:fred@example.org",
		"COMMENT:"+strings.Repeat("x", 10000)), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Organizer.CommonName) > maxNameBytes || len(m.Comment) > maxCommentBytes || !strings.HasPrefix(m.Organizer.CommonName, "éé") {
		t.Errorf("name of %d bytes, comment of %d", len(m.Organizer.CommonName), len(m.Comment))
	}
}

// A calendar object without METHOD (what a calendar server publishes
// once an attendee replied) is read as the message of the method given,
// whatever METHOD it has; one without attendees is no error.
func TestParseMessageAs(t *testing.T) {
	for _, data := range [][]byte{
		itipMsg("", "ORGANIZER:mailto:fred@example.org", "ATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED:mailto:wilma@example.org"),
		itipMsg("REQUEST", "ORGANIZER:mailto:fred@example.org", "ATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED:mailto:wilma@example.org"),
	} {
		m, err := ParseMessageAs(data, "reply", ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Method != "REPLY" || m.Object.UID != "meet@example.org" || m.Organizer.Address != "mailto:fred@example.org" ||
			len(m.Attendees) != 1 || m.Attendees[0].PartStat != "ACCEPTED" || m.Attendees[0].CommonName != "Wilma" {
			t.Errorf("%+v", m)
		}
	}
	if m, err := ParseMessageAs(itipMsg(""), "REPLY", ParseOptions{}); err != nil || len(m.Attendees) != 0 {
		t.Errorf("no attendee: %+v, %v", m, err)
	}
	if _, err := ParseMessageAs(ics("BEGIN:VEVENT", "END:VEVENT"), "REPLY", ParseOptions{}); err == nil {
		t.Error("no UID: no error")
	}
}

// Any input: an error or a message, never a panic.
func FuzzParseMessage(f *testing.F) {
	f.Add(itipMsg("REPLY", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:w@x"))
	f.Add(itipMsg("REQUEST", "ORGANIZER;CN=\"a\":mailto:f@x", "RRULE:FREQ=DAILY"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseMessage(data, ParseOptions{}); err == nil && m.Component == nil {
			t.Fatal("message without component")
		}
	})
}
