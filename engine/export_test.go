package engine

import (
	"context"

	"github.com/notifyd/notifyd"
)

// InsertDeliverJobsForTest queues the jobs a sync would for ids (one
// batch job for several), as a duplicated or re-run job would be.
func (e *Engine) InsertDeliverJobsForTest(ctx context.Context, ids []string, ch notifyd.Channel) error {
	_, err := e.queue.client.InsertMany(ctx, deliverJobs(ids, ch))
	return err
}
