package message

import (
	"slices"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// Scheduling is a scheduling message (an invitation, a reply, a
// cancellation, a refresh request or a counter-proposal: [IsScheduling])
// as templates see it ([View].Scheduling). The event's title, time (in
// the recipient's zone and language) and place are in [View].Event.
type Scheduling struct {
	// Method is the iTIP METHOD in upper case: REQUEST, ADD, REPLY,
	// CANCEL, REFRESH, COUNTER, DECLINECOUNTER.
	Method string
	// Updated is a REQUEST that changes an invitation already received.
	Updated bool
	// Organizer names the event's organizer; Attendee the attendee who
	// replied, asked for a refresh or countered ("" for the other
	// methods). Each is the person's name, else their address.
	Organizer, Attendee string
	// Answer is a reply's answer, lower case: "accepted", "declined",
	// "tentative", "delegated", "needs-action" (or what the attendee
	// wrote, cut).
	Answer string
	// DelegatedTo names whom a delegating attendee delegated to.
	DelegatedTo string
	// Comment is the message's note ("" when none).
	Comment string
	// Recurring reports a recurring event (the time is its first
	// occurrence); Occurrence the one occurrence the message is about,
	// its original date and time ("" for the whole event).
	Recurring  bool
	Occurrence string
	// Title is the event's summary, "" when it has none.
	Title string
}

// IsScheduling reports whether typ is a scheduling message type.
func IsScheduling(typ notifyd.NotificationType) bool {
	return slices.Contains(notifyd.SchedulingTypes, typ)
}

// Scheduling describes n's scheduling message with times written by tf:
// nil when n is not a scheduling message ([IsScheduling]); one without
// its notifyd.Scheduling is described from its type and sender alone.
// event is n's event as [View] has it.
func (c Cleaner) Scheduling(n *notifyd.Notification, event *Event, tf TimeFormat) *Scheduling {
	if !IsScheduling(n.Type) {
		return nil
	}
	s := n.Scheduling
	if s == nil {
		s = &notifyd.Scheduling{}
	}
	v := &Scheduling{Method: strings.ToUpper(c.Line(s.Method)), Updated: s.Updated, Recurring: s.Recurring,
		Comment: c.Line(s.Comment), Answer: strings.ToLower(c.Line(s.PartStat))}
	v.Organizer, _ = c.Person(s.Organizer)
	v.Attendee, _ = c.Person(s.Attendee)
	v.DelegatedTo, _ = c.Person(notifyd.Person{Href: s.DelegatedTo})
	from, _ := c.Person(n.From)
	switch n.Type {
	case notifyd.TypeInvitationReply, notifyd.TypeRefreshRequest:
		v.Attendee = cmpOr(v.Attendee, from)
	case notifyd.TypeCounterProposal:
		if v.Method != notifyd.MethodDeclineCounter {
			v.Attendee = cmpOr(v.Attendee, from)
		}
		v.Organizer = cmpOr(v.Organizer, from)
	default:
		v.Organizer = cmpOr(v.Organizer, from)
	}
	if v.Method == "" {
		v.Method = map[notifyd.NotificationType]string{notifyd.TypeInvitation: notifyd.MethodRequest,
			notifyd.TypeInvitationReply: notifyd.MethodReply, notifyd.TypeInvitationCancelled: notifyd.MethodCancel,
			notifyd.TypeRefreshRequest: notifyd.MethodRefresh, notifyd.TypeCounterProposal: notifyd.MethodCounter}[n.Type]
	}
	if event != nil {
		v.Title = event.Summary
	}
	if v.Title == "" {
		v.Title = c.Line(n.Summary)
	}
	v.Occurrence = occurrence(s.RecurrenceID, s.TimeZone, tf)
	return v
}

// sampleScheduling is the Scheduling of a sample scheduling message (nil
// for another type).
func sampleScheduling(typ notifyd.NotificationType) *notifyd.Scheduling {
	if !IsScheduling(typ) {
		return nil
	}
	s := &notifyd.Scheduling{Method: notifyd.MethodRequest, Object: "/calendars/wilma/inbox/m.ics", Component: "event",
		UID: "e1", Sequence: 1, Organizer: notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
		Comment: "See you there", TimeZone: "Europe/Paris",
		ICalendar: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd//sample//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n" +
			"UID:e1\r\nDTSTAMP:20251220T080000Z\r\nDTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nSUMMARY:Event\r\n" +
			"ORGANIZER;CN=Fred:mailto:fred@example.org\r\nATTENDEE:mailto:wilma@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}
	wilma := notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"}
	switch typ {
	case notifyd.TypeInvitationReply:
		s.Method, s.Attendee, s.PartStat = notifyd.MethodReply, wilma, "accepted"
	case notifyd.TypeInvitationCancelled:
		s.Method = notifyd.MethodCancel
	case notifyd.TypeRefreshRequest:
		s.Method, s.Attendee = notifyd.MethodRefresh, wilma
	case notifyd.TypeCounterProposal:
		s.Method, s.Attendee = notifyd.MethodCounter, wilma
	}
	s.ICalendar = strings.Replace(s.ICalendar, "METHOD:REQUEST", "METHOD:"+s.Method, 1)
	return s
}

// schedulingSampleTime is when the sample scheduling messages were sent.
var schedulingSampleTime = time.Date(2025, 12, 20, 8, 0, 0, 0, time.UTC)
