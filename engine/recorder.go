package engine

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// A recorder records the outcomes of delivery attempts for the job that
// makes them. The two kinds of delivery job differ only here:
//   - ownRecorder, for a delivery's own job (DeliverArgs): each outcome is
//     durable before the job goes on, a notification it settles has its
//     after-delivery policy applied at once, and a temporary failure is
//     retried by River running the same job again.
//   - batchRecorder, for a batch job (DeliverBatchArgs): each outcome is
//     committed as soon as the attempt is made (a crash of notifyd cannot
//     lose it), the batch's outcomes are flushed to disk together at its
//     end, and only then are the policies applied; a temporary failure
//     gets a job of the delivery's own, inserted with the outcome.
type recorder interface {
	// record stores the outcome of an attempt at a.
	record(ctx context.Context, a attempt, o store.DeliveryOutcome) error
	// retryLater stores a temporary failure of a (o, caused by cause) and
	// has a retried after the wait the provider asked for (after) or the
	// backoff; it returns what the job is to return.
	retryLater(ctx context.Context, a attempt, o store.DeliveryOutcome, cause error, after time.Duration) error
	// hold stores that a is held (o, status DeliveryHeld), and also
	// writes what also writes in the same transaction.
	hold(ctx context.Context, a attempt, o store.DeliveryOutcome, also func(*sql.Tx) error) error
	// putOff has a made again after after, the send not having been
	// attempted (delivery.Deferred, reason): no attempt is counted, and
	// the delivery is retrying, reason its last error (store.PutOffDelivery).
	// It returns what the job is to return.
	putOff(ctx context.Context, a attempt, reason error, after time.Duration) error
}

// writeOutcome stores o for a with durability d (and also, if not nil, in
// the same transaction), and reports whether it settled a's notification
// (its last delivery became final). The provider may have the message:
// the write outlives the job's timeout (a failed job would send it again)
// and waits while the database cannot take writes, until Stop.
func (e *Engine) writeOutcome(ctx context.Context, a attempt, o store.DeliveryOutcome, d store.Durability,
	also func(*sql.Tx) error) (settled bool, err error) {
	o.ID = a.d.ID
	o.Now = time.Now()
	o.Started = a.started
	pctx, done := e.untilStop(ctx)
	defer done()
	err = e.db.Persist(pctx, d, func(tx *sql.Tx) error {
		settled = false
		if o.Status == store.DeliveryHeld {
			held, err := store.HoldDelivery(pctx, tx, o.ID, o.ReleaseAt, o.Reason, o.Digest, o.Now)
			if err != nil || !held {
				return err // !held: a run before held it already
			}
		} else {
			s, err := store.RecordDeliveryAttempt(pctx, tx, o)
			settled = s != ""
			if err != nil {
				return err
			}
			if o.Status == store.DeliverySent && !a.countFrom.IsZero() {
				if err := store.CountSend(pctx, tx, a.d.SubscriptionID, a.d.MethodID, a.countFrom); err != nil {
					return err
				}
			}
		}
		if also == nil {
			return nil
		}
		return also(tx)
	})
	if err != nil {
		return false, err
	}
	e.metrics.deliveries.WithLabelValues(a.d.Channel, o.Status).Inc()
	return settled, nil
}

// ownRecorder is the recorder of a delivery's own job.
type ownRecorder struct{ e *Engine }

func (r ownRecorder) record(ctx context.Context, a attempt, o store.DeliveryOutcome) error {
	settled, err := r.e.writeOutcome(ctx, a, o, store.Durable, nil)
	if err == nil && settled {
		r.e.settle(ctx, a.nr)
	}
	return err
}

func (r ownRecorder) hold(ctx context.Context, a attempt, o store.DeliveryOutcome, also func(*sql.Tx) error) error {
	_, err := r.e.writeOutcome(ctx, a, o, store.Durable, also)
	return err
}

// putOff snoozes the job: River counts no attempt for it.
func (r ownRecorder) putOff(ctx context.Context, a attempt, reason error, after time.Duration) error {
	if err := r.e.putOff(ctx, a, reason, nil); err != nil {
		return err
	}
	return river.JobSnooze(after)
}

func (r ownRecorder) retryLater(ctx context.Context, a attempt, o store.DeliveryOutcome, cause error, after time.Duration) error {
	if err := r.record(ctx, a, o); err != nil {
		return err
	}
	if after > 0 {
		return river.JobSnooze(after)
	}
	return cause
}

// batchRecorder is the recorder of one run of a batch job; a batch job
// runs in one goroutine, so it has no lock.
type batchRecorder struct {
	e *Engine
	// wait, if not nil, is waited for before each write (ringer.quiet).
	wait      func(context.Context)
	unflushed bool                        // outcomes committed but not flushed
	settled   []*store.NotificationRecord // policies to apply at the end
}

func (r *batchRecorder) record(ctx context.Context, a attempt, o store.DeliveryOutcome) error {
	return r.write(ctx, a, o, nil)
}

func (r *batchRecorder) hold(ctx context.Context, a attempt, o store.DeliveryOutcome, also func(*sql.Tx) error) error {
	return r.write(ctx, a, o, also)
}

func (r *batchRecorder) retryLater(ctx context.Context, a attempt, o store.DeliveryOutcome, _ error, after time.Duration) error {
	return r.write(ctx, a, o, func(tx *sql.Tx) error {
		return r.e.queueRetry(context.WithoutCancel(ctx), tx, a, after)
	})
}

// putOff gives a a job of its own, run after after, with the attempts
// a had left before this run (none was made).
func (r *batchRecorder) putOff(ctx context.Context, a attempt, reason error, after time.Duration) error {
	if r.wait != nil {
		r.wait(ctx)
	}
	a.n--
	err := r.e.putOff(ctx, a, reason, func(tx *sql.Tx) error {
		return r.e.queueRetry(context.WithoutCancel(ctx), tx, a, after)
	})
	if err == nil {
		r.unflushed = true
	}
	return err
}

// putOff records lazily that a was put off (store.PutOffDelivery), and
// also writes what also writes in the same transaction: nothing was sent,
// so a power failure losing it loses nothing.
func (e *Engine) putOff(ctx context.Context, a attempt, reason error, also func(*sql.Tx) error) error {
	pctx, done := e.untilStop(ctx)
	defer done()
	return e.db.Persist(pctx, store.Lazy, func(tx *sql.Tx) error {
		if err := store.PutOffDelivery(pctx, tx, a.d.ID, reason.Error(), time.Now()); err != nil || also == nil {
			return err
		}
		return also(tx)
	})
}

func (r *batchRecorder) write(ctx context.Context, a attempt, o store.DeliveryOutcome, also func(*sql.Tx) error) error {
	if r.wait != nil {
		r.wait(ctx)
	}
	settled, err := r.e.writeOutcome(ctx, a, o, store.Lazy, also)
	if err != nil {
		return err
	}
	r.unflushed = true
	if settled {
		r.settled = append(r.settled, a.nr)
	}
	return nil
}

// end finishes the batch: it flushes the outcomes to disk, applies the
// after-delivery policies of the notifications they settled (a DELETE
// must never run ahead of the record of the message that allows it), and
// records those in one write. If the flush fails, the policies are left
// to the sweep, which finds the notifications settled and unfinished.
func (r *batchRecorder) end(ctx context.Context) error {
	e := r.e
	if r.unflushed {
		pctx, done := e.untilStop(ctx)
		err := e.db.Flush(pctx)
		done()
		if err != nil {
			e.log.Warn("could not flush a batch's delivery records to disk; its after-delivery policies are left to the sweep",
				"notifications", len(r.settled), "err", err)
			return err
		}
	}
	e.settle(ctx, r.settled...)
	return nil
}

// settle applies the after-delivery policies of notifications whose last
// delivery just became final, right away (no job for the common case),
// and records them in one write.
func (e *Engine) settle(ctx context.Context, ns ...*store.NotificationRecord) {
	var finished []finishedRecord
	for _, n := range ns {
		if f, ok := e.applyPolicyOrQueue(ctx, n); ok {
			finished = append(finished, f)
		}
	}
	e.writeFinished(ctx, finished)
}

// applyPolicyOrQueue applies n's after-delivery policy and returns its
// record. If that fails for now, a finish job takes over with retries and
// backoff (and if the process stops before, the sweep finds n).
func (e *Engine) applyPolicyOrQueue(ctx context.Context, n *store.NotificationRecord) (finishedRecord, bool) {
	f, err := e.applyPolicy(ctx, n)
	if err == nil {
		return f, f.id != ""
	}
	e.log.Warn("after-delivery policy failed for now; queued for retry", "notification", n.ID, "err", err)
	err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		claimed, err := store.ClaimFinish(ctx, tx, n.ID)
		if err != nil || !claimed {
			return err
		}
		return e.queue.insert(ctx, tx, finishJob(n.ID))
	})
	if err != nil {
		e.log.Error("could not queue the after-delivery policy; the sweep will", "notification", n.ID, "err", err)
	}
	return finishedRecord{}, false
}

// finishedRecord is the record that a notification's after-delivery
// policy was applied, with a note of what happened; gone says it removed
// this version from the collection (deleted or marked).
type finishedRecord struct {
	id, note string
	at       time.Time
	gone     bool
}

// writeFinished records that the policies of recs were applied. The write
// is lazy: if a crash loses it, the policy is applied again, which is
// harmless (a deleted notification is then already gone). A failure is
// logged, and the sweep applies the policy again.
func (e *Engine) writeFinished(ctx context.Context, recs []finishedRecord) {
	if len(recs) == 0 {
		return
	}
	wctx := context.WithoutCancel(ctx)
	err := e.db.Write(wctx, store.Lazy, func(tx *sql.Tx) error {
		for _, r := range recs {
			if err := store.FinishNotificationTx(wctx, tx, r.id, r.note, r.gone, r.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		e.log.Warn("could not record that the after-delivery policy was applied; the sweep will apply it again",
			"notifications", len(recs), "err", err)
	}
}
