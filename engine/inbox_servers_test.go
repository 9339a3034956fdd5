package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
)

// What a scheduling inbox costs on Cyrus, in CalDAV requests per poll of
// wilma (subscribed to every type, her inbox readable by the service
// account): nothing more than her calendars' poll when nothing is new
// (the inbox is in the same listing of the home, and its token shows it
// did not change); two more (the inbox's sync-collection REPORT and one
// calendar-multiget) when a message arrived, or several at once.
func TestInboxCostOnCyrus(t *testing.T) {
	t.Parallel()
	cy := peertest.StartCyrus(t, "fred", "wilma")
	cy.GrantCalendar(t, "wilma", "Inbox", peertest.CyrusGrant{NoSharedSeen: true})
	client, err := caldavclient.New(caldavclient.Config{BaseURL: cy.BaseURL + "/dav/", Username: peertest.CyrusNotifier,
		Password: cy.Password(peertest.CyrusNotifier), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	r := newRigOn(t, testdb.Open(t), engine.PolicyDelete, func(o *engine.Options) {
		o.Systems[0].CalDAV = client
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, cy.PrincipalHref("wilma"), "wilma@example.org")
	wait := r.calendarSyncsDone(t)
	r.start(t)
	r.pollRound(t, 1, wait) // the first sync: recorded, nothing sent

	invite := func(uid string) {
		peertest.PutCalendarObject(t, cy, "fred", cy.CalendarHome("fred")+"Default/"+uid+".ics", strings.Join([]string{
			"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd test//EN", "BEGIN:VEVENT", "UID:" + uid,
			"DTSTAMP:20261206T000000Z", "DTSTART:20300115T090000Z", "DTEND:20300115T100000Z", "SUMMARY:Meeting " + uid,
			"ORGANIZER;CN=Fred:mailto:fred@internal", "ATTENDEE;CN=Wilma;RSVP=TRUE:mailto:wilma@internal",
			"END:VEVENT", "END:VCALENDAR", ""}, "\r\n"))
	}
	round := func(what string) caldavclient.Stats {
		before := client.Stats()
		r.pollRound(t, 1, wait)
		after := client.Stats()
		d := caldavclient.Stats{PropFind: after.PropFind - before.PropFind, Report: after.Report - before.Report,
			Get: after.Get - before.Get, Delete: after.Delete - before.Delete}
		t.Logf("%s: %d requests (%d PROPFIND, %d REPORT, %d GET)", what, d.Total(), d.PropFind, d.Report, d.Get)
		return d
	}
	quiet := round("nothing new")
	if quiet.Report != 0 || quiet.Total() != 1 {
		t.Errorf("nothing new: %+v, want the home's listing alone", quiet)
	}
	invite("one")
	one := round("one invitation")
	invite("two")
	invite("three")
	two := round("two invitations")
	for _, d := range []caldavclient.Stats{one, two} {
		if d.Total() != quiet.Total()+2 || d.Report != 2 || d.Delete != 0 {
			t.Errorf("a round with new messages: %+v, want the listing, one REPORT and one multiget", d)
		}
	}
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 3 {
		t.Errorf("sent %v, want the three invitations", got)
	}
	for _, req := range r.email.sent {
		if req.Notification.Type != notifyd.TypeInvitation {
			t.Errorf("sent a %s", req.Notification.Type)
		}
	}
}

// Xandikos has a scheduling inbox (beside the calendar home, at
// /USER/inbox/) but no scheduling: nothing is ever delivered to it. A
// message put there, as a server's delivery would, becomes one
// invitation; a poll with nothing new sends nothing more.
func TestInboxOnXandikos(t *testing.T) {
	t.Parallel()
	x := peertest.StartXandikos(t, "wilma")
	client, err := caldavclient.New(caldavclient.Config{BaseURL: x.BaseURL + "/", Username: x.ServiceAccount(),
		Password: x.Password(x.ServiceAccount()), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	r := newRigOn(t, testdb.Open(t), engine.PolicyDelete, func(o *engine.Options) {
		o.Systems[0].CalDAV = client
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, x.PrincipalHref("wilma"), "wilma@example.org")
	wait := r.calendarSyncsDone(t)
	r.start(t)
	r.pollRound(t, 1, wait)
	peertest.PutCalendarObject(t, x, "wilma", "/wilma/inbox/req.ics", strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd test//EN", "METHOD:REQUEST", "BEGIN:VEVENT", "UID:x-1",
		"DTSTAMP:20261206T000000Z", "DTSTART:20300115T090000Z", "DTEND:20300115T100000Z", "SUMMARY:Review",
		"ORGANIZER;CN=Fred:mailto:fred@example.org", "ATTENDEE:mailto:wilma@example.org",
		"END:VEVENT", "END:VCALENDAR", ""}, "\r\n"))
	r.pollRound(t, 1, wait)
	before := client.Stats()
	r.pollRound(t, 1, wait)
	t.Logf("a poll with nothing new: %d requests", client.Stats().Total()-before.Total())
	r.settle(t)
	if len(r.email.sent) != 1 || r.email.sent[0].Notification.Type != notifyd.TypeInvitation ||
		r.email.sent[0].Notification.Event.Summary != "Review" {
		t.Fatalf("sent %d, want the one invitation", len(r.email.sent))
	}
	status, _, _ := x.Request(t, "wilma", "GET", "/wilma/inbox/req.ics", "", "")
	if status != 200 {
		t.Errorf("the inbox item is gone (%d): notifyd must leave it", status)
	}
}
