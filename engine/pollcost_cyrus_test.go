package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
)

// cyrusPollRig is a rig on a real Cyrus with n users, each with a Default
// calendar the service account reads (the recipe of the caldavclient
// package documentation) holding one event with an alarm, every user
// subscribed to reminders. It returns once the first sync of every
// calendar is done.
func cyrusPollRig(tb testing.TB, n int) (*rig, *caldavclient.Client, func(int)) {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i)
	}
	cy := peertest.StartCyrus(tb, users...)
	start := time.Now().Add(24 * time.Hour).UTC().Format("20060102T150405Z")
	for _, u := range users {
		cy.GrantCalendar(tb, u, "Default")
		peertest.PutCalendarObject(tb, cy, u, cy.CalendarHome(u)+"Default/standup.ics",
			"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\nBEGIN:VEVENT\r\nUID:standup-"+u+"\r\n"+
				"DTSTAMP:20261206T000000Z\r\nDTSTART:"+start+"\r\nDURATION:PT15M\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Standup\r\n"+
				"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Standup\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	client, err := caldavclient.New(caldavclient.Config{BaseURL: cy.BaseURL + "/dav/", Username: peertest.CyrusNotifier,
		Password: cy.Password(peertest.CyrusNotifier), Timeout: 30 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.CloseIdleConnections)
	r := newRigOn(tb, testdb.Open(tb), engine.PolicyKeep, func(o *engine.Options) {
		o.Systems[0].CalDAV = client
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	for _, u := range users {
		r.subscribe(tb, cy.PrincipalHref(u), u+"@example.org")
	}
	wait := r.calendarSyncsDone(tb)
	r.start(tb)
	wait(n)
	return r, client, wait
}

// On Cyrus, a poll of principals whose calendars did not change sends one
// request in all: the listing of the service account's home, which every
// principal shares.
func TestPollRoundOnCyrus(t *testing.T) {
	t.Parallel()
	const n = 5
	r, client, wait := cyrusPollRig(t, n)
	if got := r.remindersOf(t, "/dav/principals/user/u000/"); got == 0 {
		t.Fatal("no reminder of u000: the service account does not read the calendars")
	}
	for round := 1; round <= 2; round++ {
		before := client.Stats()
		r.pollRound(t, n, wait)
		if d := client.Stats().Total() - before.Total(); d != 1 {
			t.Errorf("round %d: %d requests for %d unchanged principals on Cyrus, want 1", round, d, n)
		}
	}
}

// BenchmarkPollRoundOnCyrus measures the CalDAV requests and response
// bytes of one poll round of principals whose calendars did not change,
// on Cyrus (one calendar each). Each iteration is one round.
//
//	go test -run '^$' -bench PollRoundOnCyrus -benchtime 5x ./engine/
func BenchmarkPollRoundOnCyrus(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
			r, client, wait := cyrusPollRig(b, n)
			before := client.Stats()
			b.ResetTimer()
			for range b.N {
				r.pollRound(b, n, wait)
			}
			b.StopTimer()
			after := client.Stats()
			b.ReportMetric(float64(after.Total()-before.Total())/float64(b.N), "requests/round")
			b.ReportMetric(float64(after.Bytes-before.Bytes)/float64(b.N), "bytes/round")
			b.ReportMetric(float64(after.Total()-before.Total())/float64(b.N*n), "requests/principal")
		})
	}
}
