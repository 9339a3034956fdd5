package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/engine"
)

// replyICS is event e1 as the organizer wilma's calendar has it once
// attendees answered: fred accepted (ACCEPTED), barney has not answered
// yet. As Sun's server publishes it, it has no METHOD.
func replyICS(fred, barney string) string {
	const f = "20060102T150405Z"
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20261130T080000Z\r\n" +
		"DTSTART:" + eventStart.Format(f) + "\r\nDTEND:" + eventStart.Add(time.Hour).Format(f) + "\r\nSUMMARY:Standup\r\n" +
		"LOCATION:Room 1\r\nORGANIZER;CN=Wilma:mailto:wilma@example.org\r\n" +
		"ATTENDEE;CN=Fred;PARTSTAT=" + fred + ":mailto:fred@example.org\r\n" +
		"ATTENDEE;CN=Barney;PARTSTAT=" + barney + ":mailto:barney@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// A published reply is an invitation-reply saying who answered what, and
// a published refresh a refresh-request naming who asks, as the inbox's
// REPLY and REFRESH are; the reply's email says "Fred accepted" and,
// the payload being the event rather than Fred's iTIP message, carries
// no text/calendar part claiming to be one.
func TestPublishedReplyAndRefresh(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	p := newPublisher(t, r)
	// Nobody named: fred is the one attendee who has answered.
	if res := publish(t, p, engine.Publication{Topic: "event-reply", Principal: principal, CalID: "/dav/calendars/user/wilma/Default/",
		Payload: replyICS("ACCEPTED", "NEEDS-ACTION"), ContentType: "text/calendar"}); res.Type != notifyd.TypeInvitationReply {
		t.Errorf("reply published as %s", res.Type)
	}
	// triggered_by names barney (a bare address), though fred has
	// answered too.
	if res := publish(t, p, engine.Publication{Topic: "event-refresh", Principal: principal, TriggeredBy: "Barney@example.org",
		Payload: replyICS("ACCEPTED", "NEEDS-ACTION"), ContentType: "text/calendar"}); res.Type != notifyd.TypeRefreshRequest {
		t.Errorf("refresh published as %s", res.Type)
	}
	r.settle(t)
	types := map[notifyd.NotificationType]*notifyd.Notification{}
	for _, req := range sentRequests(r.email) {
		types[req.Notification.Type] = req.Notification
	}
	reply, refresh := types[notifyd.TypeInvitationReply], types[notifyd.TypeRefreshRequest]
	if reply == nil || refresh == nil {
		t.Fatalf("sent %v", types)
	}
	if s := reply.Scheduling; s == nil || s.Method != notifyd.MethodReply || s.PartStat != "accepted" ||
		s.Attendee != (notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"}) || s.Organizer.CommonName != "Wilma" ||
		s.UID != "e1" || s.Component != "event" || s.ICalendar != "" || !strings.HasPrefix(s.Object, "enp:///ics/caleventreply?") ||
		reply.From != s.Attendee || reply.Event == nil || reply.Event.Summary != "Standup" || reply.Event.Location != "Room 1" ||
		!reply.Event.Start.Equal(eventStart) {
		t.Errorf("reply %+v, its scheduling %+v", reply, reply.Scheduling)
	}
	if s := refresh.Scheduling; s == nil || s.Method != notifyd.MethodRefresh || s.Attendee.Href != "mailto:barney@example.org" ||
		s.PartStat != "" || refresh.From.CommonName != "Barney" {
		t.Errorf("refresh %+v, its scheduling %+v", refresh, refresh.Scheduling)
	}

	rd, err := email.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    *notifyd.Notification
		want string
	}{
		{reply, "Fred accepted your invitation to “Standup”"},
		{refresh, "Barney asks for the latest version of “Standup”"},
	} {
		m, err := rd.Render(email.RenderInput{Notification: c.n, System: "cal", Principal: principal, Recipient: "wilma@example.org",
			Locale: "en", DeliveryID: "d1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, c.want) || m.Calendar != nil {
			t.Errorf("%s email: calendar part %v, text:\n%s", c.n.Type, m.Calendar, m.Text)
		}
	}
}

// Who replied is the attendee triggered_by names, else the one who has
// answered, else the only attendee; a reply that tells none of these is
// still an invitation-reply, from triggered_by, without an answer.
func TestPublishedReplyWho(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	p := newPublisher(t, r)
	one := strings.Replace(replyICS("NEEDS-ACTION", "X"), "ATTENDEE;CN=Barney;PARTSTAT=X:mailto:barney@example.org\r\n", "", 1)
	for _, pub := range []engine.Publication{
		{UID: "e1", TriggeredBy: "mailto:BARNEY@example.org", Payload: replyICS("ACCEPTED", "TENTATIVE")},
		{UID: "e1", Payload: replyICS("ACCEPTED", "DECLINED")}, // two answered: nobody told
		{UID: "e1", Payload: one},
	} {
		pub.Topic, pub.Principal, pub.ContentType = "event-reply", principal, "text/calendar"
		if pub.TriggeredBy == "" {
			pub.TriggeredBy = "/dav/principals/user/someone/"
		}
		publish(t, p, pub)
	}
	r.settle(t)
	got := map[string]bool{}
	for _, req := range sentRequests(r.email) {
		n := req.Notification
		if n.Type != notifyd.TypeInvitationReply || n.Scheduling == nil {
			t.Fatalf("sent %+v", n)
		}
		got[n.Scheduling.Attendee.Href+" "+n.Scheduling.PartStat+" from "+n.From.Href] = true
	}
	for _, want := range []string{
		"mailto:barney@example.org tentative from mailto:barney@example.org",
		"  from /dav/principals/user/someone/",
		"mailto:fred@example.org needs-action from mailto:fred@example.org",
	} {
		if !got[want] {
			t.Errorf("no reply %q among %v", want, got)
		}
	}
}
