// Package engine moves work through notifyd: it takes pings in (marking
// principals dirty and queueing their sync jobs durably, in one
// transaction), and runs the jobs. Jobs live in River, on the same database
// as the rest of notifyd's state (SQLite, or PostgreSQL shared by
// replicas).
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/notifyd/notifyd/store"
)

// Queue is notifyd's durable job queue: River on the store's database.
// Jobs are inserted in the store's own transactions (a *sql.Tx), so that
// a job exists exactly when the write that needs it commits.
type Queue struct {
	db *store.DB
	// client inserts jobs in store transactions. On SQLite it is also the
	// client that works them (River's SQLite driver). On PostgreSQL it is
	// an insert-only client on River's database/sql driver: each insert
	// also sends, in the same transaction, the NOTIFY that wakes the
	// workers of every replica at its commit.
	client *river.Client[*sql.Tx]
	// worker runs the jobs: client itself on SQLite, a client on River's
	// pgx driver on PostgreSQL, which LISTENs for those notifications.
	worker worker
	// migrator applies and checks River's migrations.
	migrator interface {
		Migrate(context.Context, rivermigrate.Direction, *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error)
		Validate(context.Context, *rivermigrate.ValidateOpts) (*rivermigrate.ValidateResult, error)
	}
	// calendars are the calendar paths of the intake inserting into this
	// queue, which the calendar syncs tell of the calendars they record
	// (calendarRecorded); nil without one.
	calendars atomic.Pointer[calendarIndex]
}

// worker is the part of a River client that runs jobs.
type worker interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// NewQueue builds the queue on db. It inserts jobs; it does not run them.
func NewQueue(db *store.DB, logger *slog.Logger) (*Queue, error) {
	return newQueue(db, &river.Config{Logger: logger})
}

// newQueue builds the queue on db; cfg configures the client that works
// the jobs (workers, queues, periodic jobs, maintenance).
func newQueue(db *store.DB, cfg *river.Config) (*Queue, error) {
	writer, pool := db.JobQueueConns()
	q := &Queue{db: db}
	var err error
	if !db.Postgres() {
		driver := riversqlite.New(writer)
		q.client, err = river.NewClient(driver, cfg)
		q.worker = q.client
		if err == nil {
			q.migrator, err = rivermigrate.New(driver, nil)
		}
	} else {
		// The insert-only client gives new jobs the same defaults as the
		// worker would (MaxAttempts), and limits its insert notifications
		// per queue to one per fetch cooldown, as River does.
		q.client, err = river.NewClient(riverdatabasesql.New(writer), &river.Config{
			Logger: cfg.Logger, MaxAttempts: cfg.MaxAttempts, FetchCooldown: cfg.FetchCooldown})
		driver := riverpgxv5.New(pool)
		if err == nil {
			q.worker, err = river.NewClient(driver, cfg)
		}
		if err == nil {
			q.migrator, err = rivermigrate.New(driver, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return q, nil
}

// migrate applies River's migrations up to version target (0: all).
func (q *Queue) migrate(ctx context.Context, target int) (int, error) {
	res, err := q.migrator.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: target})
	if err != nil {
		return 0, fmt.Errorf("migrate job queue: %w", err)
	}
	return len(res.Versions), nil
}

// Migrate applies the job queue's pending migrations.
func (q *Queue) Migrate(ctx context.Context) (int, error) { return q.migrate(ctx, 0) }

// Ready reports an error unless every job queue migration is applied.
func (q *Queue) Ready(ctx context.Context) error {
	res, err := q.migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("read job queue migrations: %w", err)
	}
	if !res.OK {
		return errors.New("job queue migrations pending: run `notifyd migrate`")
	}
	return nil
}

// queueSyncs marks each of keys (distinct) dirty in tx, inserts a sync
// job for each that has none waiting (store.MarkDirty), and reports which
// needed one.
func (q *Queue) queueSyncs(ctx context.Context, tx *sql.Tx, keys []store.PrincipalKey, now time.Time) ([]bool, error) {
	need, err := store.MarkDirty(ctx, tx, keys, now)
	if err != nil {
		return nil, err
	}
	return need, q.insertFor(ctx, tx, keys, need, func(k store.PrincipalKey) river.JobArgs {
		return SyncPrincipalArgs{System: k.System, Principal: k.Principal}
	})
}

// insertFor queues in tx the job args(k) of each of keys that needs one.
func (q *Queue) insertFor(ctx context.Context, tx *sql.Tx, keys []store.PrincipalKey, need []bool,
	args func(store.PrincipalKey) river.JobArgs) error {
	var jobs []river.InsertManyParams
	for i, k := range keys {
		if need[i] {
			jobs = append(jobs, river.InsertManyParams{Args: args(k)})
		}
	}
	return q.insert(ctx, tx, jobs...)
}

// insert queues jobs in tx (none: nothing to do).
func (q *Queue) insert(ctx context.Context, tx *sql.Tx, jobs ...river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	_, err := q.client.InsertManyFastTx(ctx, tx, jobs)
	return err
}

// insertUnique queues jobs in tx, skipping those a unique job (by its
// InsertOpts.UniqueOpts) already stands for.
func (q *Queue) insertUnique(ctx context.Context, tx *sql.Tx, jobs ...river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	_, err := q.client.InsertManyTx(ctx, tx, jobs)
	return err
}
