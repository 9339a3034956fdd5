package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
)

// After a CalDAV outage, the after-delivery policies that failed meanwhile
// wait in the finish queue, which is polled rarely since it is usually
// empty. The backlog must still drain at the workers' pace once the
// server is back, not a few jobs per poll interval.
func TestFinishBacklogDrainsAtWorkerSpeed(t *testing.T) {
	const n = 80
	// Enough attempts that no policy job gives up while the server is
	// down, however long sending takes (the race detector slows it).
	r := newRigOpts(t, engine.PolicyDelete, func(o *engine.Options) { o.MaxAttempts = 1000 })
	r.subscribe(t, principal, "wilma@example.org")
	for i := range n {
		r.dav.add(fmt.Sprintf("n%02d.xml", i), inviteXML(fmt.Sprintf("n%02d", i)))
	}
	// The server goes down once the sync has fetched everything: every
	// message is sent, every DELETE fails for now.
	r.email.fail = func(*delivery.Request, int) error {
		r.dav.mu.Lock()
		r.dav.down = &caldavclient.HTTPError{Method: "DELETE", Status: 503}
		r.dav.mu.Unlock()
		return nil
	}
	r.ping(t, principal)
	waitUntil(t, func() bool { return len(r.email.sentTo()) == n })
	time.Sleep(300 * time.Millisecond) // the DELETEs fail and are queued for retry
	r.dav.mu.Lock()
	r.dav.down = nil
	r.dav.mu.Unlock()
	start := time.Now()
	waitUntil(t, func() bool {
		r.dav.mu.Lock()
		defer r.dav.mu.Unlock()
		return len(r.dav.deleted) == n
	})
	took := time.Since(start)
	t.Logf("%d queued DELETEs done %s after the server came back", n, took.Round(time.Millisecond))
	if took > 6*time.Second {
		t.Errorf("%d queued DELETEs took %s once the server was back; want them at the workers' pace (under 6s; throttled to one fetch per second, they took 10s)", n, took.Round(time.Millisecond))
	}
}

// waitUntil waits up to 20 s for ok.
func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 20s")
		}
	}
}
