package engine

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// DeliverBatchArgs is the job that sends, one after the other, deliveries
// that one sync created on one channel. One job for several deliveries
// costs the job queue one insert, fetch and completion instead of one
// each; every delivery keeps its own row (its ID the idempotency key), its
// own record of each attempt, and, once it fails for now, a DeliverArgs
// job of its own for its retries.
type DeliverBatchArgs struct {
	DeliveryIDs []string        `json:"delivery_ids"`
	Channel     notifyd.Channel `json:"channel"`
}

// Kind is the job's River kind.
func (DeliverBatchArgs) Kind() string { return "deliver_batch" }

// maxDeliveryBatch caps the deliveries of one batch job, so that a full
// resync of a large collection still spreads over several workers.
const maxDeliveryBatch = 25

// deliverJobs are the jobs that send ids, all on channel ch: a
// DeliverArgs job for a single delivery, DeliverBatchArgs jobs of at most
// maxDeliveryBatch deliveries otherwise.
func deliverJobs(ids []string, ch notifyd.Channel) []river.InsertManyParams {
	var jobs []river.InsertManyParams
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxDeliveryBatch)]
		ids = ids[len(chunk):]
		if len(chunk) == 1 {
			jobs = append(jobs, deliverJob(chunk[0], ch))
			continue
		}
		jobs = append(jobs, river.InsertManyParams{Args: DeliverBatchArgs{DeliveryIDs: chunk, Channel: ch},
			InsertOpts: &river.InsertOpts{Queue: deliverQueue(ch)}})
	}
	return jobs
}

// deliverBatchWorker makes the first attempt at each delivery of the batch
// that is still as the sync created it. It skips the others: final ones
// are never sent again, and one that failed for now, or that an operator
// queued again, has a job of its own. If an attempt could not be made or
// recorded (the database), the job returns the first such error once it
// has tried the rest, and River runs it again for what is left. The
// deliveries, their notifications and their subscriptions (usually one)
// are read once for the batch; its outcomes are recorded by a
// batchRecorder.
type deliverBatchWorker struct {
	river.WorkerDefaults[DeliverBatchArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *deliverBatchWorker) Work(ctx context.Context, job *river.Job[DeliverBatchArgs]) error {
	e := w.e
	deliveries, notifications, err := e.db.DeliveriesToSend(ctx, job.Args.DeliveryIDs)
	if err != nil {
		return err
	}
	rec := &batchRecorder{e: e}
	subs := &subscriptionCache{store: e.o.Subscriptions}
	err = e.firstAttempts(ctx, job.ID, job.MaxAttempts, job.Args.DeliveryIDs, deliveries, notifications, subs, rec)
	return cmp.Or(err, rec.end(ctx))
}

// firstAttempts makes, one after the other, the first attempt at each
// delivery of ids (read in deliveries, their notifications in
// notifications) that is still as it was created, for job jobID whose
// runs have maxAttempts, and records them with rec. It skips the others:
// final ones are never sent again, and one that failed for now, or that
// an operator queued again, has a job of its own. If an attempt could not
// be made or recorded (the database), it returns the first such error
// once it has tried the rest.
func (e *Engine) firstAttempts(ctx context.Context, jobID int64, maxAttempts int, ids []string, deliveries map[string]*store.DeliveryRecord,
	notifications map[string]*store.NotificationRecord, subs *subscriptionCache, rec recorder) error {
	var firstErr error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return cmp.Or(firstErr, err)
		}
		d := deliveries[id]
		// Never attempted: as created, or released from a hold. (One an
		// operator queued again was attempted before.)
		if d == nil || d.Status != store.DeliveryQueued || d.Attempts > 0 {
			continue
		}
		err := fmt.Errorf("notification %s of delivery %s: %w", d.NotificationID, id, notifyd.ErrNotFound)
		if nr := notifications[d.NotificationID]; nr != nil {
			err = e.attempt(ctx, attempt{d: d, nr: nr, n: d.Attempts + 1, max: maxAttempts, subs: subs}, rec)
		}
		if err != nil {
			e.log.Warn("delivery attempt not made or not recorded; the job will be run again for it",
				"delivery", id, "job", jobID, "err", err)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	return firstErr
}

// queueRetry inserts in tx the job of a's own that retries it after a
// temporary failure of an attempt made by a batch: after the provider's
// delay if it asked for one, else the retry policy's backoff, with the
// attempts left.
func (e *Engine) queueRetry(ctx context.Context, tx *sql.Tx, a attempt, after time.Duration) error {
	at := time.Now().Add(after)
	if after <= 0 {
		at = (&retryPolicy{base: e.o.RetryBase, max: e.o.RetryMax}).NextRetry(&rivertype.JobRow{Attempt: a.n})
	}
	job := deliverJob(a.d.ID, notifyd.Channel(a.d.Channel))
	job.InsertOpts.ScheduledAt = at
	job.InsertOpts.MaxAttempts = max(1, a.max-a.n)
	return e.queue.insert(ctx, tx, job)
}
