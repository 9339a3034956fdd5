package engine

import (
	"context"
	"database/sql"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
)

// InsertDeliverJobsForTest queues the jobs a sync would for ids (one
// batch job for several), as a duplicated or re-run job would be.
func (e *Engine) InsertDeliverJobsForTest(ctx context.Context, ids []string, ch notifyd.Channel) error {
	return e.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := e.queue.client.InsertManyFastTx(ctx, tx, deliverJobs(ids, ch))
		return err
	})
}

// MigrateQueueToForTest applies the job queue's migrations up to version
// only, leaving the schema as an older River left it.
func (q *Queue) MigrateQueueToForTest(ctx context.Context, version int) (int, error) {
	return q.migrate(ctx, version)
}

// SubscribeForTest subscribes to the events of the client that works the
// jobs.
func (e *Engine) SubscribeForTest(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return e.queue.worker.Subscribe(kinds...)
}
