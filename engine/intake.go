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
// grouped into one transaction (group commit), and the fsync that makes a
// batch durable runs while the next batch is written (a two-stage
// pipeline: committer, then syncer). One fsync then serves many pings and
// the disk's latency no longer stalls the writer, which is what lets one
// SQLite file take many thousands of pings per second with every 202
// durable.
type Intake struct {
	db       *store.DB
	queue    *Queue
	reqs     chan *intakeReq
	maxBatch int
	now      func() time.Time
	observe  IntakeObserver

	mu      sync.RWMutex // guards closed against sends on reqs
	closed  bool
	synced  chan committed // batches waiting for their fsync
	stopped chan struct{}
}

type intakeReq struct {
	keys []store.PrincipalKey
	res  IntakeResult // set by the committer
	done chan intakeDone
}

// committed is a batch written but not yet durable.
type committed struct {
	reqs       []*intakeReq
	principals int
	commit     time.Duration
}

type intakeDone struct {
	res IntakeResult
	err error
}

// gatherWindow is how long the committer waits for more pings to join a
// batch once it has one (PostgreSQL's commit_delay, for the same reason).
const gatherWindow = 500 * time.Microsecond

// IntakeObserver is told about every committed batch: how many principals
// it wrote, how long the transaction took and how long the fsync that
// made it durable took.
type IntakeObserver func(principals int, commit, sync time.Duration)

// NewIntake starts the intake's committer. maxBatch caps the principals
// written per transaction; observe, if not nil, is told about each batch.
func NewIntake(db *store.DB, queue *Queue, maxBatch int, observe IntakeObserver) *Intake {
	if maxBatch <= 0 {
		maxBatch = 2000
	}
	if observe == nil {
		observe = func(int, time.Duration, time.Duration) {}
	}
	in := &Intake{
		db: db, queue: queue, maxBatch: maxBatch, now: time.Now, observe: observe,
		reqs:    make(chan *intakeReq, 1024),
		synced:  make(chan committed, 64),
		stopped: make(chan struct{}),
	}
	// SQLite takes one writer at a time: one committer, batching. On
	// PostgreSQL, transactions commit side by side (the server groups
	// their WAL flushes), so several committers keep it busy.
	committers := 1
	if db.Postgres() {
		committers = postgresCommitters
	}
	var wg sync.WaitGroup
	for range committers {
		wg.Add(1)
		go func() { defer wg.Done(); in.run() }()
	}
	go func() { wg.Wait(); close(in.synced) }()
	go in.sync()
	return in
}

// postgresCommitters is how many batches the intake commits at once on
// PostgreSQL.
const postgresCommitters = 4

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

// run is a committer: it gathers what has queued up into one batch,
// commits it and hands it to the syncer.
func (in *Intake) run() {
	window := time.NewTimer(0)
	<-window.C
	for first := range in.reqs {
		batch := []*intakeReq{first}
		n := len(first.keys)
		// Gather what arrives within gatherWindow: a transaction's fixed
		// cost (statement preparation, commit) is then shared by more pings.
		window.Reset(gatherWindow)
	gather:
		for n < in.maxBatch {
			select {
			case r, ok := <-in.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
				n += len(r.keys)
			case <-window.C:
				break gather
			}
		}
		if !window.Stop() {
			select {
			case <-window.C:
			default:
			}
		}
		start := time.Now()
		if err := in.commit(batch); err != nil {
			in.answer(batch, err)
			continue
		}
		in.synced <- committed{reqs: batch, principals: n, commit: time.Since(start)}
	}
}

// sync is the syncer: one fsync of the write-ahead log makes every batch
// committed before it durable; only then are the pings answered.
func (in *Intake) sync() {
	defer close(in.stopped)
	for batch := range in.synced {
		batches := []committed{batch}
	more:
		for {
			select {
			case b, ok := <-in.synced:
				if !ok {
					break more
				}
				batches = append(batches, b)
			default:
				break more
			}
		}
		start := time.Now()
		err := in.db.SyncWAL()
		took := time.Since(start)
		for _, b := range batches {
			in.observe(b.principals, b.commit, took)
			in.answer(b.reqs, err)
		}
	}
}

// answer sends each request its outcome: the result the committer worked
// out, or err.
func (in *Intake) answer(batch []*intakeReq, err error) {
	for _, r := range batch {
		if err != nil {
			r.done <- intakeDone{err: err}
			continue
		}
		r.done <- intakeDone{res: r.res}
	}
}

// commit writes one batch in one transaction, without waiting for the
// disk, and works out each request's result.
func (in *Intake) commit(batch []*intakeReq) error {
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
	var needJob []bool
	ctx := context.Background()
	err := in.db.CommitTx(ctx, func(tx *sql.Tx) error {
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
			i := index[k]
			if needJob[i] && !credited[i] {
				credited[i] = true
				r.res.NewJobs++
			} else {
				r.res.Coalesced++
			}
		}
	}
	return nil
}
