package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// Message is an iTIP scheduling message (RFC 5546): a VCALENDAR with a
// METHOD, as a scheduling inbox (RFC 6638) holds them.
type Message struct {
	// Method is METHOD in upper case: REQUEST, REPLY, CANCEL, ADD,
	// REFRESH, COUNTER, DECLINECOUNTER (or PUBLISH, which no inbox should
	// hold).
	Method string
	// Object is the event or task the message is about.
	Object *Object
	// Component is the component the message's people and texts are read
	// from: the master, else the first override (a message about one
	// instance of a series).
	Component *Component
	// Organizer is the component's ORGANIZER; zero when it has none.
	Organizer Party
	// Attendees are the component's ATTENDEEs (at most maxParties).
	Attendees []Party
	// Sequence is SEQUENCE, 0 when absent or unreadable.
	Sequence int
	// Comment is the component's COMMENT (a reply's note), at most
	// maxCommentBytes.
	Comment string
}

// Party is an ORGANIZER or ATTENDEE of a Message.
type Party struct {
	// Address is the calendar user address as written ("mailto:…").
	Address string
	// CommonName is the CN parameter, "" when absent.
	CommonName string
	// PartStat is PARTSTAT in upper case ("NEEDS-ACTION" when absent) of
	// an attendee; "" for the organizer.
	PartStat string
	// DelegatedTo is DELEGATED-TO, the first address, "" when absent.
	DelegatedTo string
}

// Bounds on what a Message keeps: a hostile sender's CN or COMMENT may be
// long; the messages built from them need a line.
const (
	maxParties      = 1000
	maxNameBytes    = 256
	maxCommentBytes = 4096
)

// ErrNoMethod is the error of ParseMessage for a VCALENDAR without
// METHOD: a calendar object resource, not an iTIP message.
var ErrNoMethod = errors.New("no METHOD: not an iTIP message")

// ParseMessage reads one iTIP message, within Parse's limits; the times
// are read as Parse reads them (opts). Bad input is an error, never a
// panic: no METHOD, what Parse refuses, an organizer's method (REQUEST,
// ADD, CANCEL, DECLINECOUNTER) without ORGANIZER, an attendee's (REPLY,
// REFRESH, COUNTER) without ATTENDEE.
func ParseMessage(data []byte, opts ParseOptions) (*Message, error) {
	cal, err := decode(data)
	if err != nil {
		return nil, err
	}
	mp := cal.Props.Get(ical.PropMethod)
	if mp == nil || strings.TrimSpace(mp.Value) == "" {
		return nil, ErrNoMethod
	}
	m, err := message(cal, strings.ToUpper(strings.TrimSpace(mp.Value)), opts)
	if err != nil {
		return nil, err
	}
	switch m.Method {
	case "REQUEST", "ADD", "CANCEL", "DECLINECOUNTER":
		if m.Organizer.Address == "" {
			return nil, fmt.Errorf("%s without ORGANIZER", m.Method)
		}
	case "REPLY", "REFRESH", "COUNTER":
		if len(m.Attendees) == 0 {
			return nil, fmt.Errorf("%s without ATTENDEE", m.Method)
		}
	}
	return m, nil
}

// ParseMessageAs reads data, a calendar object (METHOD or not), as the
// iTIP message of method it stands for: what a calendar server publishes
// when an attendee replied (the event as it is with the reply) is read
// as a REPLY. A METHOD data has is ignored. Unlike ParseMessage it does
// not require the ORGANIZER or ATTENDEE method's messages name: the
// caller decides what a message without them means.
func ParseMessageAs(data []byte, method string, opts ParseOptions) (*Message, error) {
	cal, err := decode(data)
	if err != nil {
		return nil, err
	}
	return message(cal, strings.ToUpper(strings.TrimSpace(method)), opts)
}

// message reads cal as an iTIP message of method.
func message(cal *ical.Calendar, method string, opts ParseOptions) (*Message, error) {
	m := &Message{Method: method}
	var err error
	if m.Object, err = build(cal, opts); err != nil {
		return nil, err
	}
	m.Component = m.Object.Master
	if m.Component == nil && len(m.Object.Overrides) > 0 {
		m.Component = m.Object.Overrides[0]
	}
	raw := rawComponent(cal, m.Object)
	if m.Component == nil || raw == nil {
		return nil, errors.New("no readable VEVENT or VTODO in the message")
	}
	if o := raw.Props.Get(ical.PropOrganizer); o != nil {
		m.Organizer = party(o, false)
	}
	for i, a := range raw.Props.Values(ical.PropAttendee) {
		if i == maxParties {
			break
		}
		if p := party(&a, true); p.Address != "" {
			m.Attendees = append(m.Attendees, p)
		}
	}
	if s := raw.Props.Get(ical.PropSequence); s != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(s.Value)); err == nil && n >= 0 {
			m.Sequence = n
		}
	}
	m.Comment = clip(strings.TrimSpace(text(raw.Props.Get(ical.PropComment))), maxCommentBytes)
	return m, nil
}

// rawComponent is the decoded component the message's people and texts
// are read from: the master's, else the first of obj's UID (an
// organizer's message about some instances names the same people in
// each).
func rawComponent(cal *ical.Calendar, obj *Object) *ical.Component {
	var first *ical.Component
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent && c.Name != ical.CompToDo {
			continue
		}
		if u := c.Props.Get(ical.PropUID); u == nil || strings.TrimSpace(u.Value) != obj.UID {
			continue
		}
		if c.Props.Get(ical.PropRecurrenceID) == nil {
			return c
		}
		if first == nil {
			first = c
		}
	}
	return first
}

// party reads an ORGANIZER or ATTENDEE.
func party(p *ical.Prop, attendee bool) Party {
	out := Party{Address: clip(strings.TrimSpace(p.Value), maxNameBytes*4), CommonName: clip(strings.TrimSpace(p.Params.Get(ical.ParamCommonName)), maxNameBytes)}
	if attendee {
		out.PartStat = strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamParticipationStatus)))
		if out.PartStat == "" {
			out.PartStat = "NEEDS-ACTION"
		}
		if to := p.Params.Values(ical.ParamDelegatedTo); len(to) > 0 {
			out.DelegatedTo = clip(strings.TrimSpace(to[0]), maxNameBytes*4)
		}
	}
	return out
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
