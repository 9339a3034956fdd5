package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultCalDAVServerDownMidBurst: 800 notifications for 100 principals
// are pinged at once, and Cyrus is stopped for 30 s once a fifth of them
// are emailed, then started again. Syncs, fetches and the DELETEs of the
// after-delivery policy fail meanwhile and are retried: in the end each
// notification is emailed exactly once and deleted from Cyrus.
func TestFaultCalDAVServerDownMidBurst(t *testing.T) {
	const calendars, outage = 8, 30 * time.Second
	sink := peertest.StartSMTP(t)
	r := newFaultRig(t, rigOptions{tag: "dav", users: 100, policy: "delete", channels: smtpChannel(t, sink), methods: emailTo})
	r.start(emailReceiver(sink))
	for range calendars {
		r.produce(t, r.users)
	}
	due := calendars * len(r.users)
	r.ping(t, r.users)

	waitFor(t, time.Minute, func() bool { return r.received(t) >= due/5 })
	r.cy.Stop(t)
	atStop := r.received(t)
	t.Logf("Cyrus stopped with %d of %d notifications emailed", atStop, due)
	time.Sleep(outage)
	r.cy.Start(t)
	if atStop >= due {
		t.Fatalf("everything was emailed before Cyrus stopped: the outage tested nothing")
	}

	tl := r.settle(t, 2*time.Minute)
	r.check(t, tl, 0)
	left := 0
	for _, u := range r.users {
		left += len(r.cy.ListNotifications(t, u))
	}
	if left != 0 {
		t.Errorf("%d notifications are still in Cyrus: the delete policy was not applied to every handled notification", left)
	}
}
