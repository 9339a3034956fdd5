package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

func (r *rig) jobs(t *testing.T, kind, state string) int {
	t.Helper()
	var n int
	if err := testdb.QueryRow(r.db, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = $2`, kind, state).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 10s", what)
		}
	}
}

func byAddress(log []store.DeliveryListItem) map[string]store.DeliveryListItem {
	out := map[string]store.DeliveryListItem{}
	for _, d := range log {
		out[d.Address] = d
	}
	return out
}

// The deliveries of one sync on one channel share a job; one that fails
// for now is retried by a job of its own with backoff, and the attempts
// of both jobs count towards jobs.max_attempts.
func TestBatchRetriesEachFailedDeliveryOnItsOwn(t *testing.T) {
	r := newRig(t, engine.PolicyDelete) // MaxAttempts 5
	r.subscribe(t, principal, "a@example.org", "flaky@example.org", "down@example.org")
	r.email.fail = func(req *delivery.Request, attempt int) error {
		switch {
		case req.Address == "flaky@example.org" && attempt < 3:
			return delivery.Temporary(errors.New("451 4.3.0 try again later"), 0)
		case req.Address == "down@example.org":
			return delivery.Temporary(errors.New("421 4.3.2 service not available"), 0)
		}
		return nil
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	got := byAddress(r.settle(t))

	if d := got["a@example.org"]; d.Status != store.DeliverySent || d.Attempts != 1 {
		t.Errorf("a: %+v, want sent at once", d)
	}
	if d := got["flaky@example.org"]; d.Status != store.DeliverySent || d.Attempts != 3 {
		t.Errorf("flaky: %+v, want sent at the third attempt", d)
	}
	if d := got["down@example.org"]; d.Status != store.DeliveryFailed || d.Attempts != 5 || !strings.Contains(d.LastError, "after 5 attempts") {
		t.Errorf("down: %+v, want failed after 5 attempts in all", d)
	}
	if n := r.jobs(t, "deliver_batch", "completed"); n != 1 {
		t.Errorf("%d batch jobs, want 1", n)
	}
	if n := r.jobs(t, "deliver", "completed"); n != 2 {
		t.Errorf("%d deliver jobs, want one for each delivery that failed for now", n)
	}
	if sent := r.email.sentTo(); strings.Join(sent, ",") != "a@example.org,flaky@example.org" {
		t.Errorf("sent %v, want each once", sent)
	}
	if len(r.dav.deleted) != 1 {
		t.Errorf("deleted %v, want the notification deleted once all three were final", r.dav.deleted)
	}
}

// A batch job that runs again (River retries it, or it was duplicated)
// sends nothing twice: it skips what is final and what has a job of its
// own (failed for now, waiting for the provider's Retry-After).
func TestBatchRunAgainSendsNothingTwice(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "a@example.org", "b@example.org", "later@example.org")
	r.email.fail = func(req *delivery.Request, attempt int) error {
		if req.Address == "later@example.org" {
			return delivery.Temporary(errors.New("452 4.2.2 over quota"), time.Hour)
		}
		return nil
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	waitFor(t, "the batch done", func() bool { return r.jobs(t, "deliver_batch", "completed") == 1 })
	log, err := r.db.Deliveries(ctx, store.DeliveryFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := byAddress(log)
	if d := got["later@example.org"]; d.Status != store.DeliveryRetrying || d.Attempts != 1 {
		t.Fatalf("later: %+v, want retrying after one attempt", d)
	}
	var later int
	inFifty := "datetime('now', '+50 minutes')"
	if r.db.Postgres() {
		inFifty = "now() + interval '50 minutes'"
	}
	if err := testdb.QueryRow(r.db, `SELECT count(*) FROM river_job WHERE kind = 'deliver' AND state = 'scheduled'
AND scheduled_at > `+inFifty).Scan(&later); err != nil || later != 1 {
		t.Errorf("%d retry jobs scheduled after the provider's hour (%v), want 1", later, err)
	}

	var ids []string
	for _, d := range log {
		ids = append(ids, d.ID)
	}
	if err := r.eng.InsertDeliverJobsForTest(ctx, ids, notifyd.ChannelEmail); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second batch done", func() bool { return r.jobs(t, "deliver_batch", "completed") == 2 })
	if sent := r.email.sentTo(); strings.Join(sent, ",") != "a@example.org,b@example.org" {
		t.Errorf("sent %v, want each once", sent)
	}
	r.email.mu.Lock()
	tries := r.email.seen[got["later@example.org"].ID]
	r.email.mu.Unlock()
	if tries != 1 {
		t.Errorf("later tried %d times, want once (its retry waits for its own job)", tries)
	}
}

// A batch reads its subscription once, but a method the provider reports
// gone is switched off for the rest of the batch too: the batch's next
// message to that address is skipped, not sent.
func TestBatchStopsAtARecipientGone(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "gone@example.org", "ok@example.org")
	r.email.fail = func(req *delivery.Request, attempt int) error {
		if req.Address == "gone@example.org" {
			return fmt.Errorf("550 5.1.1 no such user: %w", delivery.ErrRecipientGone)
		}
		return nil
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.dav.add("n2.xml", inviteXML("n2"))
	r.ping(t, principal)
	log := r.settle(t)
	if n := r.jobs(t, "deliver_batch", "completed"); n != 1 {
		t.Fatalf("%d batch jobs, want the four deliveries in one", n)
	}
	var gone []string
	for _, d := range log {
		if d.Address == "gone@example.org" {
			gone = append(gone, d.Status+": "+d.LastError)
		}
	}
	slices.Sort(gone)
	if len(gone) != 2 || !strings.HasPrefix(gone[0], "failed: ") || !strings.Contains(gone[1], "skipped: the delivery method is disabled") {
		t.Errorf("deliveries to the gone address: %q, want one failed, then one skipped as disabled", gone)
	}
	if sent := r.email.sentTo(); strings.Join(sent, ",") != "ok@example.org,ok@example.org" {
		t.Errorf("sent %v, want both notifications to ok@ only", sent)
	}
}

// A batch applies the after-delivery policy (here, DELETE) only once all
// its messages are sent and recorded, their records flushed to disk
// together: no notification leaves the server ahead of its record.
func TestBatchDeletesOnlyAfterItsRecords(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, engine.PolicyDelete)
	r.subscribe(t, principal, "wilma@example.org")
	for _, n := range []string{"n1", "n2", "n3"} {
		r.dav.add(n+".xml", inviteXML(n))
	}
	var unrecorded []string
	r.dav.onDelete = func(href string) {
		log, err := r.db.Deliveries(ctx, store.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Error(err)
		}
		for _, d := range log {
			if d.Status != store.DeliverySent {
				unrecorded = append(unrecorded, d.NotificationHref+" "+d.Status)
			}
		}
	}
	r.ping(t, principal)
	r.settle(t)
	if n := r.jobs(t, "deliver_batch", "completed"); n != 1 {
		t.Fatalf("%d batch jobs, want the three deliveries in one", n)
	}
	if len(r.dav.deleted) != 3 {
		t.Errorf("deleted %v, want all three", r.dav.deleted)
	}
	if len(unrecorded) > 0 {
		t.Errorf("a DELETE came while deliveries were not yet recorded as sent: %v", unrecorded)
	}
}
