package engine

import (
	"bytes"
	"context"
	"database/sql"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// InsertDeliverJobsForTest queues the jobs a sync would for ids (one
// batch job for several), as a duplicated or re-run job would be.
func (e *Engine) InsertDeliverJobsForTest(ctx context.Context, ids []string, ch notifyd.Channel) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
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

// UnfinishedJobsForTest counts the jobs not yet completed, cancelled or
// discarded, leaving out the periodic sweep and the orphans Start has
// marked for cancellation (River finalises them later), through River's
// JobList.
func (e *Engine) UnfinishedJobsForTest(ctx context.Context) (int, error) {
	params := river.NewJobListParams().First(10000).States(rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled)
	res, err := e.queue.client.JobList(ctx, params)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range res.Jobs {
		if j.Kind != (SweepArgs{}).Kind() && !bytes.Contains(j.Metadata, []byte(`"cancel_attempted_at"`)) {
			n++
		}
	}
	return n, nil
}

// JobStatesForTest counts the jobs of kind by state, through River's
// JobList.
func (e *Engine) JobStatesForTest(ctx context.Context, kind string) (map[rivertype.JobState]int, error) {
	res, err := e.queue.client.JobList(ctx, river.NewJobListParams().First(10000).Kinds(kind))
	if err != nil {
		return nil, err
	}
	out := map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		out[j.State]++
	}
	return out, nil
}
