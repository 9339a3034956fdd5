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

// InsertDeliverJobsForTest queues the jobs a sync would for ids (one
// batch job for several), as a duplicated or re-run job would be.
func (e *Engine) InsertDeliverJobsForTest(ctx context.Context, ids []string, ch notifyd.Channel) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return e.queue.insert(ctx, tx, deliverJobs(ids, ch)...)
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

// JobsForTest lists the jobs of kind ("" for every kind) in states (any
// state if none), through River's JobList.
func (e *Engine) JobsForTest(ctx context.Context, kind string, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	params := river.NewJobListParams().First(10000)
	if kind != "" {
		params = params.Kinds(kind)
	}
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := e.queue.client.JobList(ctx, params)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

// RetryJobsForTest makes the jobs of kind that are not running available
// now (River's JobRetry), and returns how many jobs of kind there are.
func (e *Engine) RetryJobsForTest(ctx context.Context, kind string) (int, error) {
	jobs, err := e.JobsForTest(ctx, kind)
	for _, j := range jobs {
		if err == nil {
			_, err = e.queue.client.JobRetry(ctx, j.ID)
		}
	}
	return len(jobs), err
}

// WritersForTest is how many writes the intake holds in flight.
func (in *Intake) WritersForTest() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.writers
}

// DueUpdatesNowForTest makes the jobs of the pending updates due now, as
// if their burst windows had closed, and returns how many there were.
func (e *Engine) DueUpdatesNowForTest(ctx context.Context) (int, error) {
	jobs, err := e.JobsForTest(ctx, (SendUpdateArgs{}).Kind(), rivertype.JobStateScheduled)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if _, err := e.queue.client.JobRetry(ctx, j.ID); err != nil {
			return 0, err
		}
	}
	return len(jobs), nil
}

// SetClockForTest makes p record events as received at now().
func (p *Publisher) SetClockForTest(now func() time.Time) { p.now = now }

// ReleaseNowForTest makes the scheduled release and digest jobs available
// now, as if their time had come, and returns how many there were.
func (e *Engine) ReleaseNowForTest(ctx context.Context) (int, error) {
	n := 0
	for _, kind := range []string{(ReleaseHeldArgs{}).Kind(), (SendDigestArgs{}).Kind()} {
		jobs, err := e.JobsForTest(ctx, kind, rivertype.JobStateScheduled, rivertype.JobStateRetryable)
		if err != nil {
			return 0, err
		}
		for _, j := range jobs {
			if _, err := e.queue.client.JobRetry(ctx, j.ID); err != nil {
				return 0, err
			}
		}
		n += len(jobs)
	}
	return n, nil
}

// InsertDigestJobForTest queues the digest job of one method's digest
// due at at again, as a re-run would.
func (e *Engine) InsertDigestJobForTest(ctx context.Context, sub, method string, ch notifyd.Channel, at time.Time) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		job := digestJob(store.DigestGroup{SubscriptionID: sub, MethodID: method, Channel: string(ch), At: at})
		job.InsertOpts.UniqueOpts = river.UniqueOpts{}
		return e.queue.insert(ctx, tx, job)
	})
}

// ExecForTest runs statement q in a durable write (benchmark set-ups).
func (e *Engine) ExecForTest(ctx context.Context, q string, args ...any) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// ScheduleReleaseForTest queues the release job of what is held until at.
func (e *Engine) ScheduleReleaseForTest(ctx context.Context, at time.Time) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return e.queue.insertUnique(ctx, tx, releaseJob(at))
	})
}

// PruneForTest runs a prune as the run at now would.
func (e *Engine) PruneForTest(ctx context.Context, now time.Time) error { return e.prune(ctx, now) }

// NotificationIDForTest is the ID of the version etag of the notification
// resource at href.
func NotificationIDForTest(system, principal, href, etag string) string {
	return notificationID(system, principal, href, etag)
}
