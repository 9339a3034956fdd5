package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

func TestParseTopic(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in     string
		topic  Topic
		params map[string]string
	}{
		{"alarm", TopicAlarm, nil},
		{"event-refresh", TopicEventRefresh, nil},
		{"enp:///ics/alarms?calid=%2Fcal%2Ffred%2F&uid=u1&rid=20261201T090000Z&aid=a1&comptype=event", TopicAlarm,
			map[string]string{"calid": "/cal/fred/", "uid": "u1", "rid": "20261201T090000Z", "aid": "a1", "comptype": "event"}},
		{"enp://ens.example.org/ics/caltodomodify?uid=t1", TopicTodoModify, map[string]string{"uid": "t1"}},
		{"ENP:///ics/CalEventReply?uid=e1&rid=", TopicEventReply, map[string]string{"uid": "e1"}},
		{"enp:///ics/calendardelete?calid=fred", TopicCalendarDelete, map[string]string{"calid": "fred"}},
	} {
		topic, params, err := ParseTopic(tt.in)
		if err != nil || topic != tt.topic || len(params) != len(tt.params) {
			t.Errorf("ParseTopic(%q) = %q, %v, %v; want %q, %v", tt.in, topic, params, err, tt.topic, tt.params)
			continue
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("ParseTopic(%q): %s = %q, want %q", tt.in, k, params[k], v)
			}
		}
	}
	// Every topic has its ENS URL, which reads back as the topic.
	for _, topic := range Topics {
		if got, _, err := ParseTopic(topic.ENSURL()); got != topic || err != nil {
			t.Errorf("ParseTopic(%q) = %q, %v", topic.ENSURL(), got, err)
		}
	}
	for in, want := range map[string]string{
		"meeting":                       "is not a topic",
		"":                              "is not a topic",
		"http:///ics/alarms":            "is not a topic",
		"enp:ics/alarms":                "must be written enp:///ics/<name>",
		"enp:///ics/calfoo":             "is no ENS event URL notifyd knows",
		"enp:///alarms":                 "is no ENS event URL notifyd knows",
		"enp:///ics/alarms?uid=a&foo=b": `has the parameter "foo"`,
		"enp:///ics/alarms?uid=a&uid=b": `has the parameter "uid" 2 times`,
		"enp:///ics/alarms?uid=%zz":     "has a malformed query",
		"enp:///ics/alarms#x":           "must not have a fragment",
		"enp://user@host/ics/alarms":    "user information",
		"enp://[::1/ics/alarms":         "is not a valid enp:// URL",
		"enp:///ics/caleventcreate?uid=a;b=c&calid=x": "has a malformed query",
	} {
		if _, _, err := ParseTopic(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTopic(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestParseRecurrenceID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                          "",
		"20261201T090000Z":          "20261201T090000Z",
		"20261201T090000":           "20261201T090000",
		"20261201":                  "20261201",
		"2026-12-01T10:00:00+01:00": "20261201T090000Z",
		"2026-12-01":                "20261201",
	} {
		if got, err := ParseRecurrenceID(in); got != want || err != nil {
			t.Errorf("ParseRecurrenceID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"tomorrow", "20261301", "20261201T250000Z", "0", "20261201T0900Z"} {
		if got, err := ParseRecurrenceID(in); err == nil {
			t.Errorf("ParseRecurrenceID(%q) = %q, want an error", in, got)
		}
	}
}

// xCal (RFC 6321) as a server writes it: an event with a time zone, a
// rule, an alarm, and text needing escapes.
const xcalEvent = `<?xml version="1.0" encoding="utf-8"?>
<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar>
<properties><prodid><text>-//example//EN</text></prodid><version><text>2.0</text></version></properties>
<components><vevent>
<properties>
 <uid><text>xcal-1@example.org</text></uid>
 <dtstamp><date-time>2026-11-30T08:00:00Z</date-time></dtstamp>
 <dtstart><parameters><tzid><text>Europe/Paris</text></tzid></parameters><date-time>2026-12-01T10:00:00</date-time></dtstart>
 <dtend><parameters><tzid><text>Europe/Paris</text></tzid></parameters><date-time>2026-12-01T11:00:00</date-time></dtend>
 <rrule><recur><freq>WEEKLY</freq><count>4</count><byday>TU</byday><byday>TH</byday></recur></rrule>
 <summary><text>Review; budget, Q4</text></summary>
 <location><text>Room 2
second floor</text></location>
</properties>
<components><valarm><properties>
 <uid><text>alarm-1</text></uid><action><text>DISPLAY</text></action>
 <trigger><duration>-PT15M</duration></trigger><description><text>Soon</text></description>
</properties></valarm></components>
</vevent></components></vcalendar></icalendar>`

// Sun's iCalendar XML, as Calendar Server's ENS publishes text/xml: a
// task with START and DUE.
const sunTodo = `<?xml version="1.0" encoding="UTF-8"?>
<iCalendar><iCal version="2.0" prodid="-//Sun/Calendar Server//EN" METHOD="PUBLISH">
<TODO>
<UID>sun-todo-7</UID>
<DTSTAMP>20261130T080000Z</DTSTAMP>
<START>20261201T080000Z</START>
<DUE TZID="America/New_York">20261202T170000</DUE>
<SUMMARY>File report</SUMMARY>
<STATUS>NEEDS-ACTION</STATUS>
<X-NSCP-TRIGGERED-BY>fred</X-NSCP-TRIGGERED-BY>
</TODO>
</iCal></iCalendar>`

func TestXMLPayloads(t *testing.T) {
	t.Parallel()
	obj, _, perr := readPayload(payloadXML, xcalEvent, false)
	if perr != nil {
		t.Fatalf("xCal: %v", perr)
	}
	c := describe(obj, "20261203T090000Z", "alarm-1")
	ev := c.event
	paris := calendar.Zone("Europe/Paris")
	if obj.Kind != calendar.KindEvent || obj.UID != "xcal-1@example.org" || !obj.Recurring() ||
		ev.Summary != "Review; budget, Q4" || ev.Location != "Room 2\nsecond floor" ||
		!ev.Start.Equal(time.Date(2026, 12, 3, 10, 0, 0, 0, paris)) || !ev.End.Equal(time.Date(2026, 12, 3, 11, 0, 0, 0, paris)) ||
		c.zone != "Europe/Paris" || c.alarm == nil || c.alarm.Action != "DISPLAY" || c.alarm.Description != "Soon" {
		t.Errorf("xCal read as %+v, event %+v, zone %q, alarm %+v", obj, ev, c.zone, c.alarm)
	}

	obj, _, perr = readPayload(payloadXML, sunTodo, false)
	if perr != nil {
		t.Fatalf("Sun XML: %v", perr)
	}
	c = describe(obj, "", "")
	ny := calendar.Zone("America/New_York")
	if obj.Kind != calendar.KindTask || obj.UID != "sun-todo-7" || c.event.Summary != "File report" ||
		!c.event.Start.Equal(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)) ||
		!c.event.Due.Equal(time.Date(2026, 12, 2, 17, 0, 0, 0, ny)) || !c.event.End.IsZero() {
		t.Errorf("Sun XML read as %+v, event %+v", obj, c.event)
	}
}

// What an XML payload must not do: declare a DTD (entities), nest without
// bound, smuggle a line into the iCalendar it is turned into.
func TestXMLPayloadsRefused(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)
	for name, tt := range map[string]struct{ xml, want string }{
		"DTD with an entity": {`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><iCalendar><iCal><EVENT><UID>&e;</UID></EVENT></iCal></iCalendar>`,
			"DOCTYPE"},
		"nested too deep":       {`<iCalendar>` + deep + `</iCalendar>`, "deeper than 32"},
		"not XML":               {`BEGIN:VCALENDAR`, "text outside the root element"},
		"unclosed":              {`<iCalendar><iCal><EVENT>`, "EOF"},
		"no event":              {`<iCalendar><iCal><JOURNAL><UID>j</UID></JOURNAL></iCal></iCalendar>`, "no event or task"},
		"other encoding":        {`<?xml version="1.0" encoding="ISO-8859-1"?><iCalendar/>`, "UTF-8"},
		"END as a property":     {`<iCalendar><iCal><EVENT><UID>u</UID><END>VCALENDAR</END></EVENT></iCal></iCalendar>`, ""},
		"property name line":    {`<iCalendar><iCal><EVENT><UID>u</UID><BEGIN>VEVENT</BEGIN></EVENT></iCal></iCalendar>`, "not a property name"},
		"line in a date":        {"<iCalendar><iCal><EVENT><UID>u</UID><DTSTART>20261201T090000Z&#10;ATTENDEE:mailto:x@y</DTSTART></EVENT></iCal></iCalendar>", "line break"},
		"two roots":             {`<iCalendar/><iCalendar/>`, "more than one root"},
		"entity not predefined": {`<iCalendar><iCal><EVENT><UID>&x;</UID></EVENT></iCal></iCalendar>`, "entity"},
	} {
		out, err := xmlToICalendar([]byte(tt.xml))
		if name == "END as a property" {
			// Sun's END is DTEND: never an END line inside the event.
			if err != nil || strings.Contains(string(out), "\r\nEND:VCALENDAR\r\nEND:VEVENT") || !strings.Contains(string(out), "DTEND:VCALENDAR") {
				t.Errorf("%s: %v\n%s", name, err, out)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: xmlToICalendar = %v\n%s\nwant an error saying %q", name, err, out, tt.want)
		}
	}
	// A text value cannot add a line either: its line breaks are escaped.
	out, err := xmlToICalendar([]byte("<iCalendar><iCal><EVENT><UID>u</UID><SUMMARY>x&#13;&#10;ATTENDEE:mailto:eve@example.org</SUMMARY></EVENT></iCal></iCalendar>"))
	if err != nil || strings.Contains(string(out), "\r\nATTENDEE") {
		t.Errorf("a line break in a summary: %v\n%s", err, out)
	}
}

func TestOwnChange(t *testing.T) {
	t.Parallel()
	const p = "/principals/users/fred"
	addrs := []string{"mailto:fred@example.org", "urn:uuid:1234", "http://cal.example.org/principals/__uids__/ABC/"}
	for by, want := range map[string]bool{
		"/principals/users/fred":                        true,
		"/principals/users/fred/":                       true,
		"/principals/users/%66red":                      true, // percent-encoded unreserved: the same path
		"https://cal.example.org/principals/users/fred": true,
		"MAILTO:Fred@Example.ORG":                       true,
		" mailto:fred@example.org ":                     true,
		"urn:uuid:1234":                                 true,
		"/principals/__uids__/ABC":                      true, // the path of one of its addresses
		"/principals/users/wilma":                       false,
		"/principals/users/fredd":                       false,
		"mailto:wilma@example.org":                      false,
		"urn:uuid:12345":                                false,
		"fred":                                          false, // a bare id names nobody
		"":                                              false,
	} {
		if got := ownChange(by, p, addrs); got != want {
			t.Errorf("ownChange(%q) = %v, want %v", by, got, want)
		}
	}
	if ownChange("mailto:fred@example.org", p, nil) {
		t.Error("an address is the principal's only when its addresses say so")
	}
}

// prepare names the member that is wrong, and how.
func TestPrepare(t *testing.T) {
	t.Parallel()
	ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTART:20261201T090000Z\r\nSUMMARY:S\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	ok := Publication{System: "cal", Topic: "event-modify", Principal: "/p/fred", UID: "e1", Payload: ics, ContentType: "text/calendar"}
	ev, err := prepare(ok)
	if err != nil || ev.uid != "e1" || ev.comp != "event" || ev.version == "" || ev.component.event.Summary != "S" {
		t.Fatalf("prepare = %+v, %v", ev, err)
	}
	// A modification is news each time its payload differs; a creation
	// is one event whatever its payload says.
	other := ok
	other.Payload = strings.Replace(ics, "SUMMARY:S", "SUMMARY:T", 1)
	ev2, _ := prepare(other)
	created, created2 := ok, other
	created.Topic, created2.Topic = "event-create", "event-create"
	ev3, _ := prepare(created)
	ev4, _ := prepare(created2)
	if ev.id == ev2.id || ev3.id != ev4.id || ev3.id == ev.id {
		t.Errorf("ids: modify %s / %s, create %s / %s", ev.id, ev2.id, ev3.id, ev4.id)
	}
	// The uid may come from the payload alone.
	noUID := ok
	noUID.UID = ""
	if ev, err := prepare(noUID); err != nil || ev.uid != "e1" {
		t.Errorf("uid from the payload: %+v, %v", ev.uid, err)
	}
	// Unsupported payloads say so.
	bin := ok
	bin.ContentType = "application/octet-stream"
	var verr notifyd.ValidationError
	if _, err := prepare(bin); !errors.Is(err, ErrUnsupportedPayload) || !errors.As(err, &verr) || verr[0].Field != "/content_type" {
		t.Errorf("binary: %v", err)
	}
}

// A version is the payload as parsed: written out anew it is the same,
// edited it is another.
func TestVersionOf(t *testing.T) {
	t.Parallel()
	const base = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//a//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20261130T080000Z\r\n" +
		"SEQUENCE:2\r\nLAST-MODIFIED:20261130T080000Z\r\nDTSTART;TZID=Europe/Paris:20261201T090000\r\nSUMMARY:Standup\r\n" +
		"ATTENDEE;CN=Fred;PARTSTAT=ACCEPTED:mailto:fred@example.org\r\nCATEGORIES:a,b\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nBEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	v := versionOf([]byte(base))
	for name, ics := range map[string]string{
		"LF line ends": strings.ReplaceAll(base, "\r\n", "\n"),
		"folded":       strings.Replace(base, "SUMMARY:Standup", "SUMMARY:Sta\r\n ndup", 1),
		"property order": strings.Replace(strings.Replace(base, "SUMMARY:Standup\r\n", "", 1),
			"UID:e1\r\n", "SUMMARY:Standup\r\nUID:e1\r\n", 1),
		"parameter order":  strings.Replace(base, "CN=Fred;PARTSTAT=ACCEPTED", "PARTSTAT=ACCEPTED;CN=Fred", 1),
		"lower-case names": strings.Replace(base, "ATTENDEE;CN=Fred", "attendee;cn=Fred", 1),
		"alarm order": strings.Replace(base, "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nBEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nEND:VALARM",
			"BEGIN:VALARM\r\nTRIGGER:-PT5M\r\nACTION:AUDIO\r\nEND:VALARM\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM", 1),
		"new DTSTAMP":  strings.Replace(base, "DTSTAMP:20261130T080000Z", "DTSTAMP:20261206T120000Z", 1),
		"other PRODID": strings.Replace(base, "PRODID:-//a//EN", "PRODID:-//b//EN", 1),
	} {
		if got := versionOf([]byte(ics)); got != v {
			t.Errorf("%s: another version", name)
		}
	}
	for name, ics := range map[string]string{
		"SEQUENCE":      strings.Replace(base, "SEQUENCE:2", "SEQUENCE:3", 1),
		"LAST-MODIFIED": strings.Replace(base, "LAST-MODIFIED:20261130T080000Z", "LAST-MODIFIED:20261130T080001Z", 1),
		"reply":         strings.Replace(base, "PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED", 1),
		"title":         strings.Replace(base, "SUMMARY:Standup", "SUMMARY:Stand-up", 1),
		"time zone":     strings.Replace(base, "TZID=Europe/Paris", "TZID=Europe/Berlin", 1),
		"an alarm less": strings.Replace(base, "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n", "", 1),
	} {
		if got := versionOf([]byte(ics)); got == v {
			t.Errorf("%s changed: the same version", name)
		}
	}
}

// A repeating topic needs its payload: without it, a second change could
// not be told from the first published again.
func TestPrepareRepeatNeedsPayload(t *testing.T) {
	t.Parallel()
	for _, topic := range []string{"event-modify", "todo-modify", "calendar-modify", "event-reply", "event-refresh"} {
		pub := Publication{System: "cal", Topic: topic, Principal: "/p/fred", UID: "e1"}
		if topic == "calendar-modify" {
			pub.UID, pub.CalID = "", "/cal/fred/"
		}
		var verr notifyd.ValidationError
		if _, err := prepare(pub); !errors.As(err, &verr) || len(verr) != 1 || verr[0].Field != "/payload" {
			t.Errorf("%s without payload: %v", topic, err)
		}
	}
	if _, err := prepare(Publication{System: "cal", Topic: "event-delete", Principal: "/p/fred", UID: "e1"}); err != nil {
		t.Errorf("a deletion without payload: %v", err)
	}
}
