package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// deliverEnds are the ends of the rig's deliver jobs, from River's event
// subscription, subscribed before anything is queued.
type deliverEnds struct{ events <-chan *river.Event }

func subscribeDeliverEnds(t *testing.T, r *rig) *deliverEnds {
	t.Helper()
	events, cancel := r.eng.SubscribeForTest(river.EventKindJobCompleted, river.EventKindJobCancelled,
		river.EventKindJobFailed, river.EventKindJobSnoozed)
	t.Cleanup(cancel)
	return &deliverEnds{events: events}
}

// next waits for the next deliver job to end and returns its delivery's
// ID; it fails the test unless the job completed (the attempt made and
// recorded, the after-delivery policy it settled applied).
func (w *deliverEnds) next(t *testing.T) string {
	t.Helper()
	failsafe := time.After(time.Minute) // never reached unless the job is lost
	for {
		select {
		case ev := <-w.events:
			if ev.Job.Kind != (engine.DeliverArgs{}).Kind() {
				continue
			}
			var args engine.DeliverArgs
			if err := json.Unmarshal(ev.Job.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("deliver job of %s ended %s (%v), want completed", args.DeliveryID, ev.Kind, ev.Job.Errors)
			}
			return args.DeliveryID
		case <-failsafe:
			t.Fatal("no deliver job ended within a minute")
		}
	}
}

// deliveryLog returns the rig's delivery log.
func (r *rig) deliveryLog(t *testing.T) []store.DeliveryListItem {
	t.Helper()
	items, err := r.db.Deliveries(context.Background(), store.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// A delivery that failed permanently, retried once its channel is fixed,
// is sent exactly once, and the notification's policy is not applied
// again. The retry answers the delivery as the requeue committed it,
// whether or not the worker has already taken the job.
func TestRetriedDeadLetterIsSentOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, engine.PolicyDelete)
	ends := subscribeDeliverEnds(t, r)
	r.subscribe(t, principal, "wilma@example.org")
	broken := true
	r.email.fail = func(req *delivery.Request, attempt int) error {
		if broken { // read under r.email.mu
			return errors.New("535 5.7.8 authentication failed")
		}
		return nil
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	id := ends.next(t)
	log := r.deliveryLog(t)
	if len(log) != 1 || log[0].ID != id || log[0].Status != store.DeliveryFailed || log[0].Attempts != 1 || !strings.Contains(log[0].LastError, "535") {
		t.Fatalf("log %+v, want one failed delivery", log)
	}
	dead, err := r.db.DeadLetters(ctx, store.DeliveryFilter{Channel: string(notifyd.ChannelEmail), Limit: 10})
	if err != nil || len(dead) != 1 || dead[0].ID != id {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if len(r.email.sentTo()) != 0 || len(r.dav.deleted) != 1 {
		t.Fatalf("sent %v deleted %v, want nothing sent and the settled notification deleted", r.email.sentTo(), r.dav.deleted)
	}

	// The channel is fixed; the operator retries.
	r.email.mu.Lock()
	broken = false
	r.email.mu.Unlock()
	before := time.Now().Truncate(time.Microsecond)
	d, err := r.eng.RetryDelivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Status != store.DeliveryQueued || d.Attempts != 1 || !strings.Contains(d.LastError, "535") ||
		!d.SentAt.IsZero() || d.QueuedAt.Before(before) {
		t.Errorf("retried delivery %+v, want it queued again from now, attempts and last_error kept", d)
	}
	if got := ends.next(t); got != id {
		t.Fatalf("deliver job of %s ended, want the retried %s", got, id)
	}
	log = r.deliveryLog(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent || log[0].Attempts != 2 {
		t.Fatalf("log %+v, want the delivery sent at its second attempt", log)
	}
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "wilma@example.org" {
		t.Fatalf("sent %v, want exactly one message", got)
	}
	r.email.mu.Lock()
	sends := r.email.seen[id]
	r.email.mu.Unlock()
	if sends != 2 {
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
	if n, done := r.jobs(t, "deliver", "available")+r.jobs(t, "deliver", "running"), r.jobs(t, "deliver", "completed"); n != 0 || done != 2 {
		t.Errorf("%d deliver jobs waiting or running and %d completed, want none and 2 (the first and the retry's)", n, done)
	}
}

// A discarded dead letter is final: not listed, not retried.
func TestDiscardedDeadLetterIsFinal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, engine.PolicyKeep)
	ends := subscribeDeliverEnds(t, r)
	r.subscribe(t, principal, "wilma@example.org")
	r.email.fail = func(*delivery.Request, int) error { return errors.New("550 5.1.1 no such mailbox") }
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	id := ends.next(t)
	if d, err := r.db.Delivery(ctx, id); err != nil || d.Status != store.DeliveryFailed {
		t.Fatalf("delivery %+v, %v, want failed", d, err)
	}
	if err := r.db.DiscardDelivery(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.db.DiscardDelivery(ctx, id, time.Now()); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("second discard: %v, want ErrConflict", err)
	}
	if _, err := r.eng.RetryDelivery(ctx, id); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("retry of a discarded delivery: %v, want ErrConflict", err)
	}
	if !store.DeliveryFinal(store.DeliveryDiscarded) {
		t.Error("discarded is not final")
	}
	if d, err := r.db.Delivery(ctx, id); err != nil || d.Status != store.DeliveryDiscarded {
		t.Errorf("delivery %+v, %v", d, err)
	}
	if dead, err := r.db.DeadLetters(ctx, store.DeliveryFilter{Limit: 10}); err != nil || len(dead) != 0 {
		t.Errorf("dead letters %+v, %v, want none", dead, err)
	}
	if n := r.jobs(t, "deliver", "available") + r.jobs(t, "deliver", "completed"); n != 1 {
		t.Errorf("%d deliver jobs, want only the first (the refused retry queues none)", n)
	}
}
