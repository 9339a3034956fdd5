package engine_test

import (
	"context"
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
// server is back: once a fetch finds work, the next comes as soon as a
// worker is free, not at the next poll.
func TestFinishBacklogDrainsAtWorkerSpeed(t *testing.T) {
	t.Parallel()
	const n = 40
	ctx := context.Background()
	// A failed policy waits an hour before it is tried again.
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) { o.RetryBase, o.RetryMax = time.Hour, time.Hour })
	r.subscribe(t, principal, "wilma@example.org")
	for i := range n {
		r.dav.add(fmt.Sprintf("n%02d.xml", i), inviteXML(fmt.Sprintf("n%02d", i)))
	}
	// The server goes down once the sync has fetched everything: every
	// message is sent, every DELETE fails for now and gets a finish job.
	r.failWith(func(context.Context, *delivery.Request, int) error {
		r.dav.locked(func() { r.dav.down = &caldavclient.HTTPError{Method: "DELETE", Status: 503} })
		return nil
	})
	r.ping(t, principal)
	r.waitUntil(t, "a finish job for each notification", func() bool { return len(r.jobs(t, finishKind)) == n })
	if err := r.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// The server is back. Another engine whose queues are polled once an
	// hour takes over, with the backlog due now: only its first fetch, at
	// start, comes from polling.
	r.dav.locked(func() { r.dav.down = nil })
	next := newRigOn(t, r.db, engine.PolicyDelete, func(o *engine.Options) {
		o.PollInterval, o.Systems[0].CalDAV = time.Hour, r.dav
	})
	if got, err := next.eng.RetryJobsForTest(ctx, finishKind); err != nil || got != n {
		t.Fatalf("%d finish jobs made due (%v), want %d", got, err, n)
	}
	next.start(t)
	next.waitUntil(t, "every notification deleted", func() (done bool) {
		r.dav.locked(func() { done = len(r.dav.deleted) == n })
		return done
	})
}
