package engine

import (
	"context"
	"database/sql"
	"sync"

	"github.com/notifyd/notifyd/store"
)

// groupCommit writes what concurrent workers record (the outcomes of
// deliveries, the after-delivery policies applied) in shared transactions:
// whatever arrives while one batch is committed and made durable forms the
// next, written in one transaction and made durable by one fsync. Each
// caller returns once its own writes are durable, so a worker still
// records a message before it sends the next one.
//
// There is no goroutine to start or stop: the first caller to find nobody
// committing commits the batch (its own request included), then hands the
// next batch to the first caller waiting in it.
type groupCommit struct {
	db *store.DB

	mu      sync.Mutex
	pending []*commitReq
	leading bool // a caller is committing
}

// notDurable is the error of a request whose transaction committed but
// could not be made durable (the fsync failed): trying it again must only
// sync, not write again.
type notDurable struct{ error }

func (e notDurable) Unwrap() error { return e.error }

type commitReq struct {
	fn      func(*sql.Tx) error
	durable bool       // wait for the fsync
	done    chan error // the outcome
	lead    chan struct{}
}

func newGroupCommit(db *store.DB) *groupCommit { return &groupCommit{db: db} }

// do runs fn in a write transaction shared with other callers' and
// returns once that transaction is durable. fn may run twice (a second
// time in a transaction of its own, when another request made the shared
// one fail), so it must set its results afresh each time.
func (g *groupCommit) do(fn func(*sql.Tx) error) error { return g.run(fn, true) }

// doLazy is do for a write that a crash may lose (it is redone then): it
// returns once committed, and its batch is fsynced only if another
// request in it needs that.
func (g *groupCommit) doLazy(fn func(*sql.Tx) error) error { return g.run(fn, false) }

func (g *groupCommit) run(fn func(*sql.Tx) error, durable bool) error {
	r := &commitReq{fn: fn, durable: durable, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, r)
	if !g.leading {
		g.leading = true
		g.mu.Unlock()
		g.commitPending()
		return <-r.done
	}
	g.mu.Unlock()
	select {
	case err := <-r.done:
		return err
	case <-r.lead:
		g.commitPending()
		return <-r.done
	}
}

// commitPending commits the pending requests, answers them, and passes
// the lead to the next batch's first request, if any.
func (g *groupCommit) commitPending() {
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()

	ctx := context.Background()
	err := g.db.CommitTx(ctx, func(tx *sql.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	errs := make([]error, len(batch))
	if err != nil && len(batch) > 1 {
		// One request's failure must not fail the others: each alone.
		for i, r := range batch {
			errs[i] = g.db.CommitTx(ctx, r.fn)
		}
	} else {
		errs[0] = err
	}
	durable := false
	for _, r := range batch {
		durable = durable || r.durable
	}
	if durable {
		if serr := g.db.SyncWAL(); serr != nil {
			for i, r := range batch {
				if errs[i] == nil && r.durable {
					errs[i] = notDurable{serr}
				}
			}
		}
	}
	for i, r := range batch {
		r.done <- errs[i]
	}

	g.mu.Lock()
	if len(g.pending) > 0 {
		g.pending[0].lead <- struct{}{}
	} else {
		g.leading = false
	}
	g.mu.Unlock()
}
