package engine

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

// schedulingOf is what a notification says of msg, an iTIP message about
// object (an inbox item's href, or a published event's ENS event URL):
// its method, the event's identity, organizer, note and time zone. Who
// sent an attendee's message is set by setReplier; the iTIP object itself
// (ICalendar) is the caller's to add.
func schedulingOf(msg *calendar.Message, object string) *notifyd.Scheduling {
	s := &notifyd.Scheduling{Method: msg.Method, Object: object, Component: "event", UID: msg.Object.UID,
		RecurrenceID: msg.Component.RecurrenceID.ID(), Sequence: msg.Sequence, Comment: msg.Comment,
		Recurring: msg.Object.Recurring(), Organizer: person(msg.Organizer)}
	if msg.Object.Kind == calendar.KindTask {
		s.Component = "todo"
	}
	c := msg.Component
	if c.Start.Location() != time.UTC && !c.Start.Floating && !c.Start.Date && strings.Contains(c.Start.Location().String(), "/") {
		s.TimeZone = c.Start.Location().String()
	}
	return s
}

// setReplier records a as the attendee who sent s (a REPLY, REFRESH or
// COUNTER) and, for a reply, a's answer in lower case and whom a
// delegated to.
func setReplier(s *notifyd.Scheduling, a calendar.Party) {
	s.Attendee = person(a)
	if s.Method == notifyd.MethodReply {
		s.PartStat = strings.ToLower(a.PartStat)
		s.DelegatedTo = a.DelegatedTo
	}
}
