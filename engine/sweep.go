package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// SweepArgs is the periodic job that queues the after-delivery policy of
// notifications settled more than a sweep period ago and never finished
// (the process applying it stopped), and a release of the held
// deliveries whose release was missed. River runs it on the leader only.
type SweepArgs struct{}

// Kind is the job's River kind.
func (SweepArgs) Kind() string { return "sweep_unfinished" }

// InsertOpts puts the job in the finish queue.
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueFinish} }

// sweepWorker queues, in one durable write, the finish jobs of the
// notifications it finds, claiming each so that no other run queues it
// again.
type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	e := w.e
	if err := e.releaseMissed(ctx); err != nil {
		e.log.Warn("could not look for held deliveries whose release was missed", "err", err)
	}
	ids, err := e.db.Unfinished(ctx, time.Now().Add(-e.o.SweepInterval), 1000)
	if err != nil || len(ids) == 0 {
		return err
	}
	e.log.Info("queuing the after-delivery policy of notifications an earlier run left unfinished", "count", len(ids))
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var jobs []river.InsertManyParams
		for _, id := range ids {
			claimed, err := store.ClaimFinish(ctx, tx, id)
			if err != nil {
				return err
			}
			if claimed {
				jobs = append(jobs, finishJob(id))
			}
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
}
