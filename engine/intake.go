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

// Intake records pinged principals durably. Concurrent calls to Enqueue are
// grouped into one transaction (group commit): one fsync then serves many
// pings, which is what lets a single SQLite file take thousands of pings
// per second with every 202 durable.
type Intake struct {
	db       *store.DB
	queue    *Queue
	reqs     chan *intakeReq
	maxBatch int
	now      func() time.Time

	mu      sync.RWMutex // guards closed against sends on reqs
	closed  bool
	stopped chan struct{}
}

type intakeReq struct {
	keys []store.PrincipalKey
	done chan intakeDone
}

type intakeDone struct {
	res IntakeResult
	err error
}

// NewIntake starts the intake's committer. maxBatch caps the principals
// written per transaction.
func NewIntake(db *store.DB, queue *Queue, maxBatch int) *Intake {
	if maxBatch <= 0 {
		maxBatch = 2000
	}
	in := &Intake{
		db: db, queue: queue, maxBatch: maxBatch, now: time.Now,
		reqs:    make(chan *intakeReq, 1024),
		stopped: make(chan struct{}),
	}
	go in.run()
	return in
}

// Enqueue durably marks each principal of system dirty and makes sure a
// sync job waits for it. When it returns nil, the record survives a crash.
// Principals must already be validated and distinct.
func (in *Intake) Enqueue(ctx context.Context, system string, principals []string) (IntakeResult, error) {
	keys := make([]store.PrincipalKey, len(principals))
	for i, p := range principals {
		keys[i] = store.PrincipalKey{System: system, Principal: p}
	}
	req := &intakeReq{keys: keys, done: make(chan intakeDone, 1)}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return IntakeResult{}, ErrIntakeClosed
	}
	select {
	case in.reqs <- req:
		in.mu.RUnlock()
	case <-ctx.Done():
		in.mu.RUnlock()
		return IntakeResult{}, ctx.Err()
	}
	// Once queued, the request is committed or failed by the committer;
	// wait for the outcome even if the client has gone, so that the answer
	// we would give is the truth.
	d := <-req.done
	return d.res, d.err
}

// Close stops taking pings, commits those already handed over, and returns
// when the committer has finished.
func (in *Intake) Close() {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.reqs)
	}
	in.mu.Unlock()
	<-in.stopped
}

func (in *Intake) run() {
	defer close(in.stopped)
	for first := range in.reqs {
		batch := []*intakeReq{first}
		n := len(first.keys)
	gather:
		for n < in.maxBatch {
			select {
			case r, ok := <-in.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
				n += len(r.keys)
			default:
				break gather
			}
		}
		in.commit(batch)
	}
}

// commit writes one batch in one transaction and answers each request.
func (in *Intake) commit(batch []*intakeReq) {
	// The same principal may be in several requests of the batch: write it
	// once, and credit the new job to the first request that named it.
	index := make(map[store.PrincipalKey]int)
	var keys []store.PrincipalKey
	for _, r := range batch {
		for _, k := range r.keys {
			if _, ok := index[k]; !ok {
				index[k] = len(keys)
				keys = append(keys, k)
			}
		}
	}
	var joined []bool
	ctx := context.Background()
	err := in.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := store.MarkDirty(ctx, tx, keys, in.now()); err != nil {
			return err
		}
		var err error
		joined, err = in.queue.insertSyncJobs(ctx, tx, keys)
		return err
	})
	if err != nil && !errors.Is(err, notifyd.ErrUnavailable) {
		err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
	}
	credited := make([]bool, len(keys))
	for _, r := range batch {
		var d intakeDone
		if err != nil {
			d.err = err
		} else {
			d.res.Queued = len(r.keys)
			for _, k := range r.keys {
				i := index[k]
				if !joined[i] && !credited[i] {
					credited[i] = true
					d.res.NewJobs++
				} else {
					d.res.Coalesced++
				}
			}
		}
		r.done <- d
	}
}
