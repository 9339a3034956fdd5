package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// QueueHeld is the River queue of the release jobs.
const QueueHeld = "held"

// ReleaseHeldArgs is the job that releases, at At, the deliveries held
// until then (and any held until earlier that are still held): those held
// on their own are queued again as ordinary deliveries (deliver_batch
// jobs), and each digest due gets a SendDigestArgs job. The write that
// holds a delivery inserts it, unique per release time: 100,000
// deliveries held until the end of the same quiet hours make one job.
// The leader's sweep inserts one too when a release was missed.
type ReleaseHeldArgs struct {
	At time.Time `json:"at"`
}

// Kind is the job's River kind.
func (ReleaseHeldArgs) Kind() string { return "release_held" }

// pendingStates are the job states in which a unique job stands for a
// new one of the same arguments: a completed one does not (a release or
// digest job run again finds what is left, and nothing twice).
var pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}

// releaseJob is the job that releases what is held until at.
func releaseJob(at time.Time) river.InsertManyParams {
	return river.InsertManyParams{Args: ReleaseHeldArgs{At: at.UTC()}, InsertOpts: &river.InsertOpts{
		Queue: QueueHeld, ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}}
}

// releaseBatch is how many held deliveries one write releases.
const releaseBatch = 1000

// releaseHeldWorker releases what is due, in writes of releaseBatch
// deliveries, each with their jobs: a crash in between loses nothing
// (the job runs again for the rest) and releases nothing twice (only
// deliveries still held are released, and get jobs).
type releaseHeldWorker struct {
	river.WorkerDefaults[ReleaseHeldArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *releaseHeldWorker) Work(ctx context.Context, job *river.Job[ReleaseHeldArgs]) error {
	e := w.e
	now := e.now()
	released, digests := 0, 0
	for {
		held, err := e.db.DueHeld(ctx, now, releaseBatch)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			break
		}
		ids := make([]string, len(held))
		channels := make(map[string]notifyd.Channel, len(held))
		for i, h := range held {
			ids[i], channels[h.ID] = h.ID, notifyd.Channel(h.Channel)
		}
		n := 0
		err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			out, err := store.ReleaseHeld(ctx, tx, ids, now)
			if err != nil {
				return err
			}
			n = len(out)
			byChannel := make(map[notifyd.Channel][]string)
			for _, id := range out {
				byChannel[channels[id]] = append(byChannel[channels[id]], id)
			}
			var jobs []river.InsertManyParams
			for _, ch := range notifyd.Channels {
				jobs = append(jobs, deliverJobs(byChannel[ch], ch)...)
			}
			return e.queue.insert(ctx, tx, jobs...)
		})
		if err != nil {
			return err
		}
		released += n
		if len(held) < releaseBatch {
			break
		}
	}
	var after store.DigestGroup
	for {
		groups, err := e.db.DueDigests(ctx, now, after, releaseBatch)
		if err != nil {
			return err
		}
		if len(groups) == 0 {
			break
		}
		jobs := make([]river.InsertManyParams, len(groups))
		for i, g := range groups {
			jobs[i] = digestJob(g)
		}
		if err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			return e.queue.insertUnique(ctx, tx, jobs...)
		}); err != nil {
			return err
		}
		digests += len(groups)
		after = groups[len(groups)-1]
		if len(groups) < releaseBatch {
			break
		}
	}
	if released > 0 || digests > 0 {
		e.log.Info("held deliveries released", "at", job.Args.At, "on_their_own", released, "digests", digests)
	}
	return nil
}

// releaseMissed inserts a release job for now if a delivery is still held
// more than a sweep period after its release time (its job was lost, or a
// delivery was held until a time whose release had already run).
func (e *Engine) releaseMissed(ctx context.Context) error {
	now := e.now()
	missed, err := e.db.AnyHeldDue(ctx, now.Add(-e.o.SweepInterval))
	if err != nil || !missed {
		return err
	}
	e.log.Warn("deliveries still held after their release time; releasing them now")
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return e.queue.insertUnique(ctx, tx, releaseJob(now.Truncate(time.Second)))
	})
}
