package engine

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

// ErrUnsupportedPayload is the error of a publish whose payload is
// neither text/calendar nor text/xml (ENS's binary format, another media
// type, or binary data under a text type); the API answers 415.
var ErrUnsupportedPayload = errors.New("unsupported payload")

// Payload media types (content_type of a publish).
const (
	payloadCalendar = "text/calendar"
	payloadXML      = "text/xml"
)

// payloadError is a payload that could not be read, as a field error;
// unsupported says it is ErrUnsupportedPayload (415), not bad data (400).
type payloadError struct {
	field, detail string
	unsupported   bool
}

func (e *payloadError) Error() string { return e.field + " " + e.detail }

func (e *payloadError) Unwrap() error {
	if e.unsupported {
		return ErrUnsupportedPayload
	}
	return nil
}

// payloadKind reads a publish's content_type: text/calendar, or text/xml
// (application/xml too, its other name), with no charset other than
// UTF-8 (the payload is a JSON string).
func payloadKind(contentType string) (string, *payloadError) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", &payloadError{field: "/content_type", detail: "is not a media type: " + err.Error(), unsupported: true}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", &payloadError{field: "/content_type", detail: fmt.Sprintf("names the charset %q; the payload is a JSON string, send it as utf-8", cs), unsupported: true}
	}
	switch mt {
	case payloadCalendar:
		return payloadCalendar, nil
	case payloadXML, "application/xml":
		return payloadXML, nil
	}
	return "", &payloadError{field: "/content_type", unsupported: true,
		detail: fmt.Sprintf("is %s: send text/calendar or text/xml (ENS's binary format is not read: set the contenttype in ics.conf to one of them)", mt)}
}

// binaryPayload reports whether payload holds bytes no text/calendar or
// text/xml body has: NUL or other control characters than tab, CR, LF.
func binaryPayload(payload string) bool {
	for i := 0; i < len(payload); i++ {
		if c := payload[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return true
		}
	}
	return false
}

// readPayload parses a publish's payload of media type kind (text/calendar
// or text/xml) into the calendar object it holds, and returns it as
// iCalendar too (XML turned into it). For a calendar topic, which may
// carry the calendar's properties alone, obj is nil when the payload has
// no event or task.
func readPayload(kind, payload string, calendarTopic bool) (obj *calendar.Object, ics []byte, _ *payloadError) {
	if binaryPayload(payload) {
		return nil, nil, &payloadError{field: "/payload", detail: "holds binary data (control characters); send a text/calendar or text/xml payload", unsupported: true}
	}
	data := []byte(payload)
	if kind == payloadXML {
		var err error
		if data, err = xmlToICalendar(data); err != nil {
			return nil, nil, &payloadError{field: "/payload", detail: "is not a calendar in XML (xCal, RFC 6321, or Sun's iCalendar XML): " + err.Error()}
		}
	}
	obj, err := calendar.Parse(data, calendar.ParseOptions{})
	switch {
	case err == nil:
		return obj, data, nil
	case calendarTopic && errors.Is(err, calendar.ErrNoComponent):
		return nil, data, nil
	case kind == payloadXML:
		return nil, nil, &payloadError{field: "/payload", detail: "does not describe an event or a task: " + err.Error()}
	}
	return nil, nil, &payloadError{field: "/payload", detail: "is not a valid iCalendar object: " + err.Error()}
}

// componentOf is what a publish says of its event or task, read from its
// payload: the instance rid names (the master, else the first instance,
// when rid is empty or names none).
type componentOf struct {
	event       *notifyd.Event
	description string
	// zone is the time zone the instance is written in ("" for UTC,
	// floating times and dates).
	zone string
	// alarm is the VALARM aid names (else the only one), nil if none.
	alarm *calendar.Alarm
}

// describe reads the instance rid (a recurrence id as ParseRecurrenceID
// writes it, or "") of obj, and its alarm aid.
func describe(obj *calendar.Object, rid, aid string) componentOf {
	occ, ok := calendar.Occurrence{}, false
	if at, err := parseRecurrenceID(rid); err == nil && !at.IsZero() {
		occ, ok = obj.OccurrenceAt(at)
	}
	if !ok && obj.Master != nil {
		first := obj.Master.Start.Time
		if first.IsZero() {
			first = obj.Master.End.Time
		}
		occ, ok = obj.OccurrenceAt(first)
	}
	if !ok && len(obj.Overrides) > 0 {
		occ, ok = obj.OccurrenceAt(obj.Overrides[0].RecurrenceID.Time)
	}
	var out componentOf
	ev := &notifyd.Event{UID: obj.UID}
	out.event = ev
	comp := occ.Component
	if !ok || comp == nil {
		return out
	}
	ev.Summary, ev.Location, out.description = comp.Summary, comp.Location, comp.Description
	ev.Start = instantOf(occ.Start)
	ev.AllDay = occ.Start.Date || (occ.Start.IsZero() && occ.End.Date)
	if obj.Kind == calendar.KindTask {
		ev.Due = instantOf(occ.End)
	} else {
		ev.End = instantOf(occ.End)
	}
	if at := occ.At(); !at.IsZero() && !occ.Start.Floating && !occ.Start.Date && at.Location() != time.UTC {
		out.zone = at.Location().String()
	}
	for i := range comp.Alarms {
		if a := &comp.Alarms[i]; aid != "" && a.UID == aid {
			out.alarm = a
		}
	}
	if out.alarm == nil && len(comp.Alarms) == 1 {
		out.alarm = &comp.Alarms[0]
	}
	return out
}

// instantOf is t as notifyd.Event carries it: a DATE as midnight UTC of
// that date, anything else in UTC; zero when t is.
func instantOf(t calendar.Time) time.Time {
	switch {
	case t.IsZero():
		return time.Time{}
	case t.Date:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.UTC()
}

// Recurrence id layouts a publish may use: iCalendar's basic forms (what
// ENS sends) and RFC 3339.
var ridLayouts = []struct {
	layout string
	date   bool
}{
	{"20060102T150405Z", false},
	{"20060102T150405", false}, // floating: its wall clock read as UTC
	{"20060102", true},
	{time.RFC3339, false},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02", true},
}

// ParseRecurrenceID reads a recurrence id ("20261201T090000Z", a floating
// "20261201T090000", a date "20261201", or RFC 3339) and writes it as
// notifyd does: "20261201T090000Z" in UTC, "20261201T090000" floating,
// "20261201" for a date. "" stays "".
func ParseRecurrenceID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, l := range ridLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		switch {
		case l.date:
			return t.Format("20060102"), nil
		case strings.HasSuffix(l.layout, "Z") || l.layout == time.RFC3339:
			return t.UTC().Format("20060102T150405Z"), nil
		default:
			return t.Format("20060102T150405"), nil
		}
	}
	return "", errors.New("is not a recurrence id: write it as 20261201T090000Z (UTC), 20261201T090000 (floating) or 20261201 (a date)")
}

// parseRecurrenceID is the instant of a recurrence id ParseRecurrenceID
// wrote: a date or a floating time as its wall clock in UTC, which is how
// calendar.Object.OccurrenceAt matches them.
func parseRecurrenceID(rid string) (time.Time, error) {
	for _, l := range []string{"20060102T150405Z", "20060102T150405", "20060102"} {
		if t, err := time.Parse(l, rid); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a recurrence id")
}
