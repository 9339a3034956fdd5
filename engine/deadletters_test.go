package engine_test

import (
	"context"
	"errors"
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

// A delivery that failed permanently, retried once its channel is fixed,
// is sent exactly once, and the notification's policy is not applied
// again. The retry answers the delivery as the requeue committed it,
// whether or not the worker has already taken the job.
func TestRetriedDeadLetterIsSentOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, engine.PolicyDelete)
	ends := r.jobEnds(t)
	r.failWith(func(context.Context, *delivery.Request, int) error {
		return errors.New("535 5.7.8 authentication failed")
	})
	r.invite(t, "wilma@example.org")
	nextEnd(t, ends, deliverKind, river.EventKindJobCompleted)
	dead, err := r.db.DeadLetters(ctx, store.DeliveryFilter{Channel: string(notifyd.ChannelEmail), Limit: 10})
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "535") {
		t.Fatalf("dead letters %+v, %v; want the delivery, failed at its first attempt", dead, err)
	}
	id := dead[0].ID
	if len(r.email.sentTo()) != 0 || len(r.dav.deleted) != 1 {
		t.Fatalf("sent %v deleted %v, want nothing sent and the settled notification deleted", r.email.sentTo(), r.dav.deleted)
	}

	// The channel is fixed; the operator retries.
	r.failWith(nil)
	before := time.Now().Truncate(time.Microsecond)
	d, err := r.eng.RetryDelivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Status != store.DeliveryQueued || d.Attempts != 1 || !strings.Contains(d.LastError, "535") ||
		!d.SentAt.IsZero() || d.QueuedAt.Before(before) {
		t.Errorf("retried delivery %+v, want it queued again from now, attempts and last_error kept", d)
	}
	nextEnd(t, ends, deliverKind, river.EventKindJobCompleted)
	log := r.deliveryLog(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent || log[0].Attempts != 2 {
		t.Fatalf("log %+v, want the delivery sent at its second attempt", log)
	}
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "wilma@example.org" {
		t.Fatalf("sent %v, want exactly one message", got)
	}
	if sends := r.email.seen[id]; sends != 2 {
		t.Errorf("%d sends of the delivery, want 2 (the failed one and the retry's)", sends)
	}
	if len(r.dav.deleted) != 1 {
		t.Errorf("deleted %v, want the notification's policy applied once only", r.dav.deleted)
	}
	if dead, _ := r.db.DeadLetters(ctx, store.DeliveryFilter{Limit: 10}); len(dead) != 0 {
		t.Errorf("still dead letters: %+v", dead)
	}

	// Retrying what is not failed, or does not exist, changes nothing and
	// queues nothing.
	if _, err := r.eng.RetryDelivery(ctx, id); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("retry of a sent delivery: %v, want ErrConflict", err)
	}
	if _, err := r.eng.RetryDelivery(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("retry of an unknown delivery: %v, want ErrNotFound", err)
	}
	waiting := r.jobs(t, deliverKind, rivertype.JobStateAvailable, rivertype.JobStateRunning)
	if done := r.jobs(t, deliverKind, rivertype.JobStateCompleted); len(waiting) != 0 || len(done) != 2 {
		t.Errorf("%d deliver jobs waiting or running and %d completed, want none and 2 (the first and the retry's)", len(waiting), len(done))
	}
}
