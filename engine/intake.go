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

// Intake records pinged principals durably. Pings that arrive together
// are combined into one durable write: one statement marks all their
// principals and one insert queues their jobs, which costs little more
// than doing so for one ping. At most maxIntakeWrites writes are in
// flight, so that one is committed while the previous one is flushed to
// disk (the store's group commit); the pings that arrive meanwhile form
// the next. That is what lets one SQLite file take many thousands of pings
// per second with every 202 durable.
type Intake struct {
	db    *store.DB
	queue *Queue
	now   func() time.Time

	mu      sync.Mutex
	closed  bool
	pending []*intakeReq
	writers int // writes in flight
	idle    *sync.Cond
}

// maxIntakeWrites is how many combined writes the intake has in flight.
const maxIntakeWrites = 2

// gatherWindow is how long a write waits for more pings to join it.
const gatherWindow = 500 * time.Microsecond

// maxIntakeBatch caps the principals of one combined write.
const maxIntakeBatch = 2000

type intakeReq struct {
	keys []store.PrincipalKey
	res  IntakeResult
	err  error
	done chan struct{}
	led  bool          // lead is closed
	lead chan struct{} // closed when this request is to write the pending ones
}

// NewIntake returns the intake that records pings in db and queues their
// sync jobs in queue.
func NewIntake(db *store.DB, queue *Queue) *Intake {
	in := &Intake{db: db, queue: queue, now: time.Now}
	in.idle = sync.NewCond(&in.mu)
	return in
}

// Enqueue durably marks each principal of system dirty and makes sure a
// sync job waits for it. When it returns nil, the record survives a crash.
// Principals must already be validated and distinct. Once the ping is
// taken, Enqueue waits for its outcome even if ctx ends, so that the
// answer it gives is the truth.
func (in *Intake) Enqueue(ctx context.Context, system string, principals []string) (IntakeResult, error) {
	if err := ctx.Err(); err != nil {
		return IntakeResult{}, err
	}
	req := &intakeReq{keys: make([]store.PrincipalKey, len(principals)), done: make(chan struct{}), lead: make(chan struct{})}
	for i, p := range principals {
		req.keys[i] = store.PrincipalKey{System: system, Principal: p}
	}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return IntakeResult{}, ErrIntakeClosed
	}
	in.pending = append(in.pending, req)
	lead := in.writers < maxIntakeWrites
	if lead {
		// It holds a writer from now on: no writer ending may hand it
		// the lead as well (it would hold two and give back one).
		in.writers++
		req.led = true
	}
	in.mu.Unlock()
	if !lead {
		select {
		case <-req.done:
		case <-req.lead:
		}
		// Given the lead, it writes even if its own ping was in another
		// writer's batch: it holds one of the writers.
		in.mu.Lock()
		lead = req.led
		in.mu.Unlock()
	}
	if lead {
		in.writePending()
	}
	<-req.done
	return req.res, req.err
}

// writePending writes the pending pings (up to maxIntakeBatch principals)
// in one durable write, answers them, and passes the lead to the first
// ping that arrived meanwhile, if any.
func (in *Intake) writePending() {
	// Let the pings arriving meanwhile join: a write's fixed cost (River's
	// insert statement above all) is then shared by more of them
	// (PostgreSQL's commit_delay, for the same reason).
	time.Sleep(gatherWindow)
	in.mu.Lock()
	n, keys := 0, 0
	for n < len(in.pending) && (n == 0 || keys+len(in.pending[n].keys) <= maxIntakeBatch) {
		keys += len(in.pending[n].keys)
		n++
	}
	batch := in.pending[:n:n]
	in.pending = in.pending[n:]
	in.mu.Unlock()

	var err error
	if len(batch) > 0 {
		err = in.write(batch)
	}
	for _, r := range batch {
		if err != nil {
			r.res, r.err = IntakeResult{}, err
		}
		close(r.done)
	}

	in.mu.Lock()
	if !handOver(in.pending) {
		in.writers--
		in.idle.Broadcast()
	}
	in.mu.Unlock()
}

// write records one batch of pings in one durable write and works out
// each ping's result.
func (in *Intake) write(batch []*intakeReq) error {
	// The same principal may be in several pings of the batch: mark it
	// once, and credit the new job to the first ping that named it.
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
	var needJob []bool
	ctx := context.Background()
	err := in.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		if needJob, err = store.MarkDirty(ctx, tx, keys, in.now()); err != nil {
			return err
		}
		var jobs []store.PrincipalKey
		for i, k := range keys {
			if needJob[i] {
				jobs = append(jobs, k)
			}
		}
		return in.queue.insertSyncJobs(ctx, tx, jobs)
	})
	if err != nil {
		if !errors.Is(err, notifyd.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
		return err
	}
	credited := make([]bool, len(keys))
	for _, r := range batch {
		r.res = IntakeResult{Queued: len(r.keys)}
		for _, k := range r.keys {
			if i := index[k]; needJob[i] && !credited[i] {
				credited[i] = true
				r.res.NewJobs++
			} else {
				r.res.Coalesced++
			}
		}
	}
	return nil
}

// Close stops taking pings and returns when those already taken are
// recorded (or failed).
func (in *Intake) Close() {
	in.mu.Lock()
	in.closed = true
	for in.writers > 0 {
		in.idle.Wait()
	}
	in.mu.Unlock()
}

// handOver gives the lead to the first of pending not given it yet, and
// reports whether there was one.
func handOver(pending []*intakeReq) bool {
	for _, r := range pending {
		if !r.led {
			r.led = true
			close(r.lead)
			return true
		}
	}
	return false
}
