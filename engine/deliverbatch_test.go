package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// The deliveries of one sync on one channel share a job. One that fails
// for now is retried by a job of its own with backoff, the attempts of
// both jobs counting towards jobs.max_attempts; one that fails for good
// is recorded with the provider's reply; and the after-delivery policy
// applies once all are final, however they ended.
func TestBatchRetriesEachFailedDeliveryOnItsOwn(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete) // MaxAttempts 5
	r.failWith(func(_ context.Context, req *delivery.Request, attempt int) error {
		switch {
		case req.Address == "flaky@example.org" && attempt < 3:
			return delivery.Temporary(errors.New("451 4.3.0 try again later"), 0)
		case req.Address == "down@example.org":
			return delivery.Temporary(errors.New("421 4.3.2 service not available"), 0)
		case req.Address == "gone@example.org":
			return errors.New("550 5.1.1 no such mailbox")
		}
		return nil
	})
	r.invite(t, "a@example.org", "flaky@example.org", "down@example.org", "gone@example.org")
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
	if d := got["gone@example.org"]; d.Status != store.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "550 5.1.1") {
		t.Errorf("gone: %+v, want failed at once with the server's reply", d)
	}
	if n := len(r.jobs(t, batchKind, rivertype.JobStateCompleted)); n != 1 {
		t.Errorf("%d batch jobs, want 1", n)
	}
	if n := len(r.jobs(t, deliverKind, rivertype.JobStateCompleted)); n != 2 {
		t.Errorf("%d deliver jobs, want one for each delivery that failed for now", n)
	}
	if sent := r.email.sentTo(); strings.Join(sent, ",") != "a@example.org,flaky@example.org" {
		t.Errorf("sent %v, want each once", sent)
	}
	if len(r.dav.deleted) != 1 {
		t.Errorf("deleted %v, want the notification deleted once all four were final", r.dav.deleted)
	}
}

// A batch job that runs again (River retries it, or it was duplicated)
// sends nothing twice: it skips what is final and what has a job of its
// own (failed for now, waiting for the provider's Retry-After, or put
// off to its turn by the channel's pacing, which is no attempt).
func TestBatchRunAgainSendsNothingTwice(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		err      error
		attempts int
	}{
		{"failed for now", delivery.Temporary(errors.New("452 4.2.2 over quota"), time.Hour), 1},
		{"put off", delivery.Deferred(errors.New("example.org is paced at 1 messages/s"), time.Hour), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t, engine.PolicyKeep)
			ends := r.jobEnds(t)
			r.failWith(func(_ context.Context, req *delivery.Request, attempt int) error {
				if req.Address == "later@example.org" {
					return c.err
				}
				return nil
			})
			r.invite(t, "a@example.org", "b@example.org", "later@example.org")
			nextEnd(t, ends, batchKind, river.EventKindJobCompleted)
			log := r.deliveryLog(t)
			got := byAddress(log)
			if d := got["later@example.org"]; d.Status != store.DeliveryRetrying || d.Attempts != c.attempts || d.LastError != c.err.Error() {
				t.Fatalf("later: %+v, want retrying after %d attempts, saying why", d, c.attempts)
			}
			if later := r.jobs(t, deliverKind, rivertype.JobStateScheduled); len(later) != 1 || later[0].ScheduledAt.Before(time.Now().Add(50*time.Minute)) {
				t.Errorf("retry jobs %+v, want one, scheduled after the hour asked for", later)
			}

			var ids []string
			for _, d := range log {
				ids = append(ids, d.ID)
			}
			if err := r.eng.InsertDeliverJobsForTest(ctx, ids, notifyd.ChannelEmail); err != nil {
				t.Fatal(err)
			}
			nextEnd(t, ends, batchKind, river.EventKindJobCompleted)
			if sent := r.email.sentTo(); strings.Join(sent, ",") != "a@example.org,b@example.org" {
				t.Errorf("sent %v, want each once", sent)
			}
			if tries := r.email.seen[got["later@example.org"].ID]; tries != 1 {
				t.Errorf("later tried %d times, want once (its retry waits for its own job)", tries)
			}
		})
	}
}

// A batch reads its subscription once, but a method the provider reports
// gone is switched off for the rest of the batch too: the batch's next
// message to that address is skipped, not sent.
func TestBatchStopsAtARecipientGone(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.failWith(func(_ context.Context, req *delivery.Request, attempt int) error {
		if req.Address == "gone@example.org" {
			return fmt.Errorf("550 5.1.1 no such user: %w", delivery.ErrRecipientGone)
		}
		return nil
	})
	r.dav.add("n2.xml", inviteXML("n2"))
	r.invite(t, "gone@example.org", "ok@example.org")
	log := r.settle(t)
	if n := len(r.jobs(t, batchKind, rivertype.JobStateCompleted)); n != 1 {
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

// A send the channel puts off to its turn (delivery.Deferred: its
// domain is sent to at its pace) is made again then, however many times
// it is put off, without counting an attempt or recording a failure: it
// ends sent at its first attempt, first from the batch job, then from a
// job of its own.
func TestDeferredSendCountsNoAttempt(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep) // MaxAttempts 5
	r.failWith(func(_ context.Context, req *delivery.Request, attempt int) error {
		if req.Address == "paced@example.org" && attempt <= 7 {
			return delivery.Deferred(errors.New("email to paced@example.org: example.org is paced at 1 messages/s"), time.Millisecond)
		}
		return nil
	})
	r.invite(t, "a@example.org", "paced@example.org")
	got := byAddress(r.settle(t))
	if d := got["paced@example.org"]; d.Status != store.DeliverySent || d.Attempts != 1 || d.LastError != "" {
		t.Errorf("paced: %+v, want sent at its first attempt, with no error recorded", d)
	}
	if d := got["a@example.org"]; d.Status != store.DeliverySent || d.Attempts != 1 {
		t.Errorf("a: %+v, want sent at once", d)
	}
	if sent := r.email.sentTo(); strings.Join(sent, ",") != "a@example.org,paced@example.org" {
		t.Errorf("sent %v, want each once", sent)
	}
}
