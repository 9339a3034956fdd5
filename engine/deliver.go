package engine

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// DeliverArgs is the job that sends one delivery: a delivery alone of its
// sync on its channel, one an operator queued again, or the retries of
// one whose first attempt (in a DeliverBatchArgs job) failed for now.
//
// It needs no River uniqueness: it is inserted only by the transaction
// that creates or requeues the delivery (its ID is derived, so a second
// sync creates nothing), and a final delivery is never sent again.
type DeliverArgs struct {
	DeliveryID string          `json:"delivery_id"`
	Channel    notifyd.Channel `json:"channel"`
}

// Kind is the job's River kind.
func (DeliverArgs) Kind() string { return "deliver" }

// deliverJob is the job that sends delivery id on channel ch.
func deliverJob(id string, ch notifyd.Channel) river.InsertManyParams {
	return river.InsertManyParams{Args: DeliverArgs{DeliveryID: id, Channel: ch},
		InsertOpts: &river.InsertOpts{Queue: deliverQueue(ch)}}
}

// deliverQueue is the River queue of channel ch's deliveries.
func deliverQueue(ch notifyd.Channel) string { return "deliver_" + string(ch) }

// deliverWorker sends one delivery and records the outcome durably before
// the job completes. A temporary failure returns an error (or a snooze,
// for a provider's Retry-After) for River to run the job again with
// backoff. Only a crash between the provider's acceptance and the record
// of it can send a message twice (the attempt then runs again).
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	e := w.e
	d, err := e.db.Delivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if store.DeliveryFinal(d.Status) || d.Status == store.DeliveryHeld {
		return nil // held: its release queues it again
	}
	nr, err := e.db.Notification(ctx, d.NotificationID)
	if err != nil {
		return err
	}
	a := attempt{d: d, nr: nr, n: job.Attempt, max: job.MaxAttempts, subs: &subscriptionCache{store: e.o.Subscriptions}}
	return e.attempt(ctx, a, ownRecorder{e})
}
