package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/notifyd/notifyd"
)

// Durability says what a write must survive by the time Write returns.
type Durability uint8

const (
	// Durable writes survive a power failure of the machine once Write
	// returns. Use it for what notifyd answers for (a ping's 202, an API
	// change) and for what it acts on outside afterwards.
	Durable Durability = iota
	// Lazy writes are committed (other readers see them, and a crash of
	// notifyd does not lose them) but reach the disk with the next Durable
	// write or Flush: a power failure may lose them. Use it for what is
	// redone if lost.
	Lazy
)

// ErrNotFlushed wraps the error of a write that committed but could not
// be made durable (the flush of SQLite's write-ahead log failed). The write
// is not to be made again: Flush makes it durable once the disk recovers.
var ErrNotFlushed = errors.New("committed but not flushed to disk")

// WriteStats describes one shared write transaction, for metrics.
type WriteStats struct {
	// Writes counts the calls the transaction served.
	Writes int
	// Commit is how long the transaction took.
	Commit time.Duration
	// Flushed says whether a call needed the log flushed to disk; Flush is
	// how long that took.
	Flushed bool
	Flush   time.Duration
}

// maxWriteBatch caps the calls one shared transaction serves, so that one
// burst does not make every caller in it wait for a long transaction.
const maxWriteBatch = 512

// postgresWriters is how many shared transactions commit at once on
// PostgreSQL (which groups their WAL flushes itself); SQLite takes one
// writer at a time.
const postgresWriters = 4

// Waits between the attempts of Persist and Flush.
const (
	persistFirstWait = 50 * time.Millisecond
	persistMaxWait   = 5 * time.Second
)

// Write runs fn in a write transaction and commits it; for Durable, it
// returns once the transaction is on disk too.
//
// Concurrent calls share transactions (group commit): whatever arrives
// while one transaction commits forms the next, and one flush serves them
// all; on SQLite the next transaction commits while the previous one is
// flushed. fn may therefore run twice (a second time in a transaction of
// its own, when another call made the shared one fail) and must set its
// results afresh each time. Once fn has been handed over, Write waits for
// its outcome even if ctx ends, so that what it returns is the truth.
//
// Errors that mean the database cannot take writes now (disk full,
// read-only, I/O errors, PostgreSQL unreachable) wrap
// notifyd.ErrUnavailable; a Durable write that committed but could not be
// flushed also wraps ErrNotFlushed.
func (db *DB) Write(ctx context.Context, d Durability, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.writes.submit(fn, d == Durable).err
}

// Persist is Write for the record of something that has already happened
// outside, such as a message a provider accepted: failing would make the
// caller do it again. While the database cannot take writes, it tries
// again with backoff until ctx ends; once the transaction has committed,
// only its flush is tried again.
func (db *DB) Persist(ctx context.Context, d Durability, fn func(*sql.Tx) error) error {
	wait := persistFirstWait
	for {
		r := db.writes.submit(fn, d == Durable)
		if r.err == nil || !errors.Is(r.err, notifyd.ErrUnavailable) {
			return r.err
		}
		if r.committed {
			return db.Flush(ctx)
		}
		db.log.Warn("the database cannot take writes; trying again to record what already happened (check disk space and the database)",
			"err", r.err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return r.err
		}
		wait = min(2*wait, persistMaxWait)
	}
}

// Flush makes every write committed so far durable, Lazy ones included.
// While the disk fails, it tries again with backoff until ctx ends.
func (db *DB) Flush(ctx context.Context) error {
	wait := persistFirstWait
	for {
		r := db.writes.submit(nil, true)
		if r.err == nil {
			return nil
		}
		db.log.Warn("could not flush the database's log to disk; trying again (check the disk)", "err", r.err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return r.err
		}
		wait = min(2*wait, persistMaxWait)
	}
}

// sleep waits for d, or until ctx ends (then it returns false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// groupCommit shares write transactions among concurrent callers. There
// is no goroutine to start or stop: a caller that finds fewer than max
// transactions committing commits the pending calls (its own included),
// then hands the lead to the first call that arrived meanwhile, and only
// then waits for the flush, so the next transaction is written during it.
type groupCommit struct {
	db      *DB
	max     int          // transactions committing at once
	flush   func() error // makes every committed transaction durable
	observe func(WriteStats)

	mu      sync.Mutex
	pending []*writeReq
	leaders int
}

// writeReq is one call of Write, Persist or Flush (fn nil).
type writeReq struct {
	fn        func(*sql.Tx) error
	durable   bool
	err       error
	committed bool // fn's transaction committed, whatever err says
	done      chan struct{}
	led       bool          // lead is closed
	lead      chan struct{} // closed when this call is to commit the next batch
}

// submit hands fn over and returns once its transaction is committed and,
// if durable, flushed, or has failed.
func (g *groupCommit) submit(fn func(*sql.Tx) error, durable bool) *writeReq {
	r := &writeReq{fn: fn, durable: durable, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, r)
	if g.leaders < g.max {
		// It leads from now on: no leader ending may hand it the lead as
		// well (it would hold two places and give back one).
		g.leaders++
		r.led = true
		g.mu.Unlock()
		g.commitPending()
	} else {
		g.mu.Unlock()
		select {
		case <-r.done:
		case <-r.lead:
		}
		// Given the lead, it commits even if its own call was in another
		// leader's batch (PostgreSQL has several): it holds one of them.
		g.mu.Lock()
		led := r.led
		g.mu.Unlock()
		if led {
			g.commitPending()
		}
	}
	<-r.done
	return r
}

// commitPending commits the pending calls in one transaction, passes the
// lead on, flushes if a call needs it, and answers the calls.
func (g *groupCommit) commitPending() {
	g.mu.Lock()
	n := min(len(g.pending), maxWriteBatch)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	start := time.Now()
	g.commit(batch)
	stats := WriteStats{Writes: len(batch), Commit: time.Since(start)}

	g.mu.Lock()
	handed := false
	for _, p := range g.pending {
		if !p.led {
			p.led = true
			close(p.lead)
			handed = true
			break
		}
	}
	if !handed {
		g.leaders--
	}
	g.mu.Unlock()

	flush := false
	for _, r := range batch {
		flush = flush || (r.durable && r.err == nil)
	}
	if flush {
		start = time.Now()
		stats.Flushed = true
		if err := g.flush(); err != nil {
			for _, r := range batch {
				if r.durable && r.err == nil {
					r.err = fmt.Errorf("%w: %w", ErrNotFlushed, err)
				}
			}
		}
		stats.Flush = time.Since(start)
	}
	if g.observe != nil && len(batch) > 0 {
		g.observe(stats)
	}
	for _, r := range batch {
		close(r.done)
	}
}

// commit runs the calls' functions in one transaction; if it fails, each
// call runs again in a transaction of its own, so that one call's failure
// does not fail the others.
func (g *groupCommit) commit(batch []*writeReq) {
	var writes []*writeReq
	for _, r := range batch {
		if r.fn != nil {
			writes = append(writes, r)
		}
	}
	if len(writes) == 0 {
		return
	}
	err := g.db.commitTx(func(tx *sql.Tx) error {
		for _, r := range writes {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(writes) > 1 {
		for _, r := range writes {
			r.err = g.db.commitTx(r.fn)
			r.committed = r.err == nil
		}
		return
	}
	for _, r := range writes {
		r.err, r.committed = err, err == nil
	}
}

// commitTx runs fn in a write transaction and commits it if fn returns
// nil, without waiting for SQLite's disk.
func (db *DB) commitTx(fn func(*sql.Tx) error) error {
	tx, err := db.writer.BeginTx(context.Background(), nil)
	if err != nil {
		return Classify(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return Classify(err)
	}
	return Classify(tx.Commit())
}
