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
// (the process applying it stopped). River runs it on the leader only.
type SweepArgs struct{}

// Kind is the job's River kind.
func (SweepArgs) Kind() string { return "sweep_unfinished" }

// InsertOpts puts the job in the finish queue.
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueFinish} }

func (e *Engine) sweep(ctx context.Context, _ *river.Job[SweepArgs]) error {
	ids, err := e.db.Unfinished(ctx, time.Now().Add(-e.o.SweepInterval), 1000)
	if err != nil || len(ids) == 0 {
		return err
	}
	e.log.Info("queuing the after-delivery policy of notifications an earlier run left unfinished", "count", len(ids))
	return e.db.InTx(ctx, func(tx *sql.Tx) error {
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
		if len(jobs) == 0 {
			return nil
		}
		_, err := e.queue.client.InsertManyFastTx(ctx, tx, jobs)
		return err
	})
}
