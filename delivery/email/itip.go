package email

import (
	"strings"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// schedulingPart is the iCalendar part of a scheduling message's email:
// the iTIP object as the principal's inbox holds it, with its method (RFC
// 6047: the recipient's mail client shows an invitation natively, with
// its own answer buttons; notifyd never answers for the user). nil when n
// is no scheduling message, carries no object, or one that does not fit
// (over MaxCalendarBytes, or a method that is not one).
func schedulingPart(n *notifyd.Notification) *CalendarPart {
	s := n.Scheduling
	if s == nil || s.ICalendar == "" || !message.IsScheduling(n.Type) {
		return nil
	}
	p := &CalendarPart{Method: strings.ToUpper(strings.TrimSpace(s.Method)), Data: []byte(crlf(s.ICalendar))}
	if p.check() != nil {
		return nil
	}
	return p
}

// crlf ends every line of s with CRLF, as iCalendar wants (RFC 5545 §3.1).
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
