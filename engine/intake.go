package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// IntakeResult says what a ping did.
type IntakeResult struct {
	// Queued counts the distinct principals durably recorded.
	Queued int
	// NewJobs counts the sync jobs this ping created.
	NewJobs int
	// Coalesced counts the principals whose unfinished sync job this ping
	// joined instead of creating one.
	Coalesced int
}

// ErrIntakeClosed is returned by Enqueue once Close has begun.
var ErrIntakeClosed = fmt.Errorf("%w: intake is shutting down", notifyd.ErrUnavailable)

// Intake records pinged principals durably. Each ping is one durable
// write; the store shares one transaction and one flush among the pings
// that arrive together (group commit), which is what lets one SQLite file
// take many thousands of pings per second with every 202 durable.
type Intake struct {
	db    *store.DB
	queue *Queue
	now   func() time.Time

	mu       sync.RWMutex // guards closed against new pings
	closed   bool
	inflight sync.WaitGroup
}

// NewIntake returns the intake that records pings in db and queues their
// sync jobs in queue.
func NewIntake(db *store.DB, queue *Queue) *Intake {
	return &Intake{db: db, queue: queue, now: time.Now}
}

// Enqueue durably marks each principal of system dirty and makes sure a
// sync job waits for it. When it returns nil, the record survives a crash.
// Principals must already be validated and distinct. Once the write is
// handed to the store, Enqueue waits for its outcome even if ctx ends, so
// that the answer it gives is the truth.
func (in *Intake) Enqueue(ctx context.Context, system string, principals []string) (IntakeResult, error) {
	keys := make([]store.PrincipalKey, len(principals))
	for i, p := range principals {
		keys[i] = store.PrincipalKey{System: system, Principal: p}
	}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return IntakeResult{}, ErrIntakeClosed
	}
	in.inflight.Add(1)
	in.mu.RUnlock()
	defer in.inflight.Done()

	if err := ctx.Err(); err != nil {
		return IntakeResult{}, err
	}
	var res IntakeResult
	wctx := context.WithoutCancel(ctx)
	err := in.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		needJob, err := store.MarkDirty(wctx, tx, keys, in.now())
		if err != nil {
			return err
		}
		res = IntakeResult{Queued: len(keys)}
		var jobs []store.PrincipalKey
		for i, k := range keys {
			if needJob[i] {
				jobs = append(jobs, k)
				res.NewJobs++
			} else {
				res.Coalesced++
			}
		}
		return in.queue.insertSyncJobs(wctx, tx, jobs)
	})
	if err != nil {
		if !errors.Is(err, notifyd.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
		return IntakeResult{}, err
	}
	return res, nil
}

// Close stops taking pings and returns when those already taken are
// recorded (or failed).
func (in *Intake) Close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.inflight.Wait()
}
