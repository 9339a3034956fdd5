package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultCalDAVServerDownMidBurst: 800 notifications for 100 principals
// are pinged at once, and Cyrus is stopped once a fifth of them are
// emailed, until notifyd has tried one request outageAttempts times
// through its backoff, then started again. Syncs, fetches and the DELETEs
// of the after-delivery policy fail meanwhile and are retried: in the end
// each notification is emailed exactly once and deleted from Cyrus.
func TestFaultCalDAVServerDownMidBurst(t *testing.T) {
	// outageAttempts is how many times one sync or one DELETE is refused
	// before Cyrus comes back: its retries back off from retry_base
	// (200ms) to retry_max (2s), several seconds in all.
	const calendars, outageAttempts = 8, 6
	sink := peertest.StartSMTP(t)
	r := newFaultRig(t, rigOptions{tag: "dav", users: 100, policy: "delete", channels: smtpChannel(t, sink), methods: emailTo})
	r.start(emailReceiver(sink))
	for range calendars {
		r.produce(t, r.users)
	}
	due := calendars * len(r.users)
	r.ping(t, r.users)

	r.waitReceived(t, due/5, 2*time.Minute)
	since := r.nd.logMark()
	r.cy.Stop(t)
	atStop := r.received(t)
	t.Logf("Cyrus stopped with %d of %d notifications emailed", atStop, due)
	cyrusAddr := strings.TrimPrefix(r.cy.BaseURL, "http://")
	refused := r.awaitRetried(t, since, outageAttempts, []string{cyrusAddr, "connection refused"}, func(e logEntry) string {
		switch {
		case strings.HasPrefix(e.Msg, "sync failed"):
			return "sync " + e.Principal
		case strings.HasPrefix(e.Msg, "could not delete a delivered notification"):
			return "delete " + e.Notification
		}
		return ""
	})
	t.Logf("Cyrus started again after refusing %d requests (%d notifications emailed)", refused, r.received(t))
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
