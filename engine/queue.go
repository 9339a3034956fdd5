// Package engine moves work through notifyd: it takes pings in (marking
// principals dirty and queueing their sync jobs durably, in one
// transaction), and runs the jobs. Jobs live in River, on the same database
// as the rest of notifyd's state.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/notifyd/notifyd/store"
)

// QueueSync is the River queue that holds principal sync jobs.
const QueueSync = "sync"

// SyncPrincipalArgs is the job that syncs one principal's notification
// collection. At most one such job per (system, principal) waits or runs at
// a time: the principal's state in the store records that one is queued
// (store.MarkDirty), pings that arrive meanwhile only advance its dirty
// generation, and the job syncs again when it sees that.
type SyncPrincipalArgs struct {
	System    string `json:"system"`
	Principal string `json:"principal"`
}

// Kind is the job's River kind.
func (SyncPrincipalArgs) Kind() string { return "sync_principal" }

// InsertOpts puts the job in the sync queue. Its uniqueness comes from the
// principal's queued flag, not from River's unique jobs, which cost more
// than twice as much to insert on SQLite.
func (SyncPrincipalArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueSync} }

// Queue is notifyd's durable job queue.
type Queue struct {
	db     *store.DB
	client *river.Client[*sql.Tx]
	driver *riversqlite.Driver
}

// NewQueue builds the queue on db. It inserts jobs; it does not run them.
func NewQueue(db *store.DB, logger *slog.Logger) (*Queue, error) {
	return newQueue(db, &river.Config{Logger: logger})
}

func newQueue(db *store.DB, cfg *river.Config) (*Queue, error) {
	driver := riversqlite.New(db.SQL)
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{db: db, client: client, driver: driver}, nil
}

// Migrate applies the job queue's pending migrations.
func (q *Queue) Migrate(ctx context.Context) (int, error) {
	m, err := rivermigrate.New(q.driver, nil)
	if err != nil {
		return 0, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate job queue: %w", err)
	}
	return len(res.Versions), nil
}

// Ready reports an error unless every job queue migration is applied.
func (q *Queue) Ready(ctx context.Context) error {
	m, err := rivermigrate.New(q.driver, nil)
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("read job queue migrations: %w", err)
	}
	if !res.OK {
		return errors.New("job queue migrations pending: run `notifyd migrate`")
	}
	return nil
}

// Depth counts the jobs by state among those not finished.
func (q *Queue) Depth(ctx context.Context) (map[string]int64, error) {
	rows, err := q.db.Read.QueryContext(ctx, `SELECT state, count(*) FROM river_job
WHERE state IN ('pending', 'scheduled', 'available', 'retryable', 'running') GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{"pending": 0, "scheduled": 0, "available": 0, "retryable": 0, "running": 0}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// insertSyncJobs queues one sync job per key in tx.
func (q *Queue) insertSyncJobs(ctx context.Context, tx *sql.Tx, keys []store.PrincipalKey) error {
	if len(keys) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(keys))
	for i, k := range keys {
		params[i] = river.InsertManyParams{Args: SyncPrincipalArgs{System: k.System, Principal: k.Principal}}
	}
	_, err := q.client.InsertManyFastTx(ctx, tx, params)
	return err
}
