package engine

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// IntakeResult says what a ping did. Queued is NewJobs plus Coalesced.
type IntakeResult struct {
	// Queued counts the distinct syncs durably queued: one per principal
	// named (its notifications, SyncPrincipalArgs) and one per owner of
	// the calendars named (its calendars, SyncCalendarsArgs).
	Queued int
	// NewJobs counts the sync jobs this ping created.
	NewJobs int
	// Coalesced counts the syncs of Queued whose unfinished job this ping
	// joined instead of creating one.
	Coalesced int
}

// ErrIntakeClosed is returned by Enqueue once Close has begun.
var ErrIntakeClosed = fmt.Errorf("%w: intake is shutting down", notifyd.ErrUnavailable)

// Intake records pinged principals durably, and queues a calendar sync
// for the owners of the calendars a ping names. Pings that arrive together
// are combined into one durable write: one statement marks all their
// principals and one insert queues their jobs, which costs little more
// than doing so for one ping. At most maxIntakeWrites writes are in
// flight, so that one is committed while the previous one is flushed to
// disk (the store's group commit). The pings that arrive while a write
// commits form the next one, which commits as soon as it ends: the
// database commits one write after another, never waiting for a flush or
// a timer while pings wait. That is what lets one SQLite file take many
// thousands of pings per second with every 202 durable.
type Intake struct {
	db    *store.DB
	queue *Queue
	now   func() time.Time
	// calendars finds the owners of the calendars pings name; nil when
	// reminders are off (CalendarPings).
	calendars *calendarIndex

	mu      sync.Mutex
	closed  bool
	pending []*intakeReq
	writers int // writes in flight
	idle    *sync.Cond
	// committing is set while a write's statements run (until its commit
	// begins); committed is signalled when it is cleared.
	committing bool
	committed  *sync.Cond
}

// maxIntakeWrites is how many combined writes the intake has in flight.
const maxIntakeWrites = 2

// gatherWindow is how long a write that finds no other committing waits
// for more pings to join it.
const gatherWindow = 500 * time.Microsecond

// maxIntakeBatch caps the principals of one combined write.
const maxIntakeBatch = 2000

type intakeReq struct {
	keys []store.PrincipalKey // principals whose notifications to sync
	cals []store.PrincipalKey // principals whose calendars to sync
	res  IntakeResult
	err  error
	done chan struct{}
	led  bool          // lead is closed
	lead chan struct{} // closed when this request is to write the pending ones
}

// IntakeOption configures an Intake.
type IntakeOption func(*Intake)

// NewIntake returns the intake that records pings in db and queues their
// sync jobs in queue.
func NewIntake(db *store.DB, queue *Queue, opts ...IntakeOption) *Intake {
	in := &Intake{db: db, queue: queue, now: time.Now}
	in.calendars = newCalendarIndex(db, func() time.Time { return in.now() })
	in.idle = sync.NewCond(&in.mu)
	in.committed = sync.NewCond(&in.mu)
	for _, o := range opts {
		o(in)
	}
	if in.calendars != nil {
		queue.calendars.Store(in.calendars)
	}
	return in
}

// Enqueue durably marks each principal of system dirty and makes sure a
// sync job waits for it. When it returns nil, the record survives a crash.
// Principals must already be validated and distinct. Once the ping is
// taken, Enqueue waits for its outcome even if ctx ends, so that the
// answer it gives is the truth.
func (in *Intake) Enqueue(ctx context.Context, system string, principals []string) (IntakeResult, error) {
	return in.EnqueuePing(ctx, system, principals, nil)
}

// EnqueuePing is Enqueue, and also makes sure a calendar sync job
// (SyncCalendarsArgs) waits for each principal of calendarOwners, in the
// same durable write: the owners of the calendars the ping named (found
// with CalendarPaths). calendarOwners must be distinct; a principal may
// be in both lists (its notifications and its calendars are two syncs).
func (in *Intake) EnqueuePing(ctx context.Context, system string, principals, calendarOwners []string) (IntakeResult, error) {
	if err := ctx.Err(); err != nil {
		return IntakeResult{}, err
	}
	req := &intakeReq{keys: make([]store.PrincipalKey, len(principals)), done: make(chan struct{}), lead: make(chan struct{})}
	for i, p := range principals {
		req.keys[i] = store.PrincipalKey{System: system, Principal: p}
	}
	if len(calendarOwners) > 0 {
		req.cals = make([]store.PrincipalKey, len(calendarOwners))
		for i, p := range calendarOwners {
			req.cals[i] = store.PrincipalKey{System: system, Principal: p}
		}
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
	// insert statement above all) is then shared by more of them. While
	// another write commits, they gather until it ends; otherwise for
	// gatherWindow (PostgreSQL's commit_delay, for the same reason).
	in.mu.Lock()
	if !in.committing {
		in.mu.Unlock()
		time.Sleep(gatherWindow)
		in.mu.Lock()
	}
	for in.committing {
		in.committed.Wait()
	}
	in.committing = true
	n, keys := 0, 0
	for n < len(in.pending) && (n == 0 || keys+len(in.pending[n].keys)+len(in.pending[n].cals) <= maxIntakeBatch) {
		keys += len(in.pending[n].keys) + len(in.pending[n].cals)
		n++
	}
	batch := in.pending[:n:n]
	in.pending = in.pending[n:]
	in.mu.Unlock()

	var once sync.Once
	doneCommitting := func() {
		once.Do(func() {
			in.mu.Lock()
			in.committing = false
			in.committed.Broadcast()
			in.mu.Unlock()
		})
	}
	var err error
	if len(batch) > 0 {
		err = in.write(batch, doneCommitting)
	}
	doneCommitting()
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
// each ping's result. It calls statementsDone once the write's
// statements have run, as its commit begins.
func (in *Intake) write(batch []*intakeReq, statementsDone func()) error {
	syncs := distinctSyncs(batch, func(r *intakeReq) []store.PrincipalKey { return r.keys })
	calSyncs := distinctSyncs(batch, func(r *intakeReq) []store.PrincipalKey { return r.cals })
	ctx := context.Background()
	err := in.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		defer statementsDone()
		now := in.now()
		var err error
		if syncs.need, err = in.queue.queueSyncs(ctx, tx, syncs.keys, now); err != nil || len(calSyncs.keys) == 0 {
			return err
		}
		// Their first runs may use a listing of the calendar home made
		// from now on (SyncCalendarsArgs.ListedSince): after every ping
		// of the batch arrived, so it shows what they are about.
		calSyncs.need, err = in.queue.queueCalendarSyncs(ctx, tx, calSyncs.keys, now)
		return err
	})
	if err != nil {
		if !errors.Is(err, notifyd.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
		return err
	}
	for _, r := range batch {
		r.res = IntakeResult{Queued: len(r.keys) + len(r.cals)}
		syncs.credit(&r.res, r.keys)
		calSyncs.credit(&r.res, r.cals)
	}
	return nil
}

// syncSet is the principals whose syncs of one kind a batch's pings
// queue: each once (several pings may name it), sorted, since rows are
// locked in the order written, and the same order in every transaction
// keeps two replicas from deadlocking on PostgreSQL.
type syncSet struct {
	keys     []store.PrincipalKey
	index    map[store.PrincipalKey]int
	need     []bool // which keys needed a new job
	credited []bool // which new jobs a ping was credited with
}

// distinctSyncs is the syncSet of the keys of of each ping of batch.
func distinctSyncs(batch []*intakeReq, of func(*intakeReq) []store.PrincipalKey) *syncSet {
	s := &syncSet{index: make(map[store.PrincipalKey]int)}
	for _, r := range batch {
		for _, k := range of(r) {
			if _, ok := s.index[k]; !ok {
				s.index[k] = 0
				s.keys = append(s.keys, k)
			}
		}
	}
	slices.SortFunc(s.keys, func(a, b store.PrincipalKey) int {
		return cmp.Or(strings.Compare(a.System, b.System), strings.Compare(a.Principal, b.Principal))
	})
	for i, k := range s.keys {
		s.index[k] = i
	}
	s.credited = make([]bool, len(s.keys))
	return s
}

// credit counts in res what a ping naming keys did: a new job for the
// first ping that named a key needing one, the others joined it.
func (s *syncSet) credit(res *IntakeResult, keys []store.PrincipalKey) {
	for _, k := range keys {
		if i := s.index[k]; s.need[i] && !s.credited[i] {
			s.credited[i] = true
			res.NewJobs++
		} else {
			res.Coalesced++
		}
	}
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
	if in.calendars != nil {
		in.calendars.close()
	}
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
