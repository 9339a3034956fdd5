package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// writeTestDB is a migrated database with a scratch table t.
func writeTestDB(t *testing.T) *DB {
	t.Helper()
	db := migratedDB(t)
	if err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

func countT(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.reader.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Writes that arrive while every lead is busy share the next transaction
// (with one leader, as on SQLite, and several, as on PostgreSQL).
func TestWriteSharesTransactionsWhileLeadsAreBusy(t *testing.T) {
	for _, leaders := range []int{1, 4} {
		t.Run(fmt.Sprint(leaders, " leaders"), func(t *testing.T) {
			t.Parallel()
			db := writeTestDB(t)
			db.writes.max = leaders
			var shared atomic.Int64
			db.ObserveWrites(func(s WriteStats) {
				if s.Writes > 1 {
					shared.Add(1)
				}
			})
			ctx := context.Background()
			gate := make(chan struct{})
			var wg sync.WaitGroup
			// One write at a time, each held in its transaction (or, on
			// SQLite, waiting for its one connection): every lead is
			// taken by a batch of its own.
			for k := range leaders {
				wg.Go(func() {
					if err := db.Write(ctx, Durable, func(*sql.Tx) error { <-gate; return nil }); err != nil {
						t.Error(err)
					}
				})
				waitWrites(db, func(leads, queued int) bool { return leads == k+1 && queued == 0 })
			}
			for i := range 2 {
				wg.Go(func() {
					if err := db.Write(ctx, Lazy, func(tx *sql.Tx) error {
						_, err := tx.Exec(`INSERT INTO t (id) VALUES ($1)`, i)
						return err
					}); err != nil {
						t.Error(err)
					}
				})
			}
			waitWrites(db, func(_, queued int) bool { return queued == 2 })
			close(gate)
			wg.Wait()
			if shared.Load() != 1 {
				t.Errorf("%d transactions held several writes; want the two queued writes in one", shared.Load())
			}
			if got := countT(t, db); got != 2 {
				t.Errorf("%d rows, want 2", got)
			}
		})
	}
}

// waitWrites waits until the group commit's leads held and writes queued
// satisfy done. Nothing signals a change: it looks again and again (no
// duration is asserted).
func waitWrites(db *DB, done func(leads, queued int) bool) {
	for {
		db.writes.mu.Lock()
		ok := done(db.writes.leaders, len(db.writes.pending))
		db.writes.mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}

// Concurrent writers each get their own outcome, and
// one whose function fails does not fail the others; once all are
// answered, no lead is held (with one leader, as on SQLite, and several,
// as on PostgreSQL).
func TestWriteGroupsConcurrentCallers(t *testing.T) {
	for _, leaders := range []int{1, 4} {
		t.Run(fmt.Sprint(leaders, " leaders"), func(t *testing.T) {
			t.Parallel()
			testWriteGroups(t, leaders)
		})
	}
}

func testWriteGroups(t *testing.T, leaders int) {
	db := writeTestDB(t)
	db.writes.max = leaders
	ctx := context.Background()
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := Durable
			if i%2 == 1 {
				d = Lazy
			}
			errs[i] = db.Write(ctx, d, func(tx *sql.Tx) error {
				if i%10 == 7 {
					return fmt.Errorf("refused %d", i)
				}
				_, err := tx.Exec(`INSERT INTO t (id) VALUES ($1)`, i)
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 7) != (err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if got := countT(t, db); got != n-n/10 {
		t.Errorf("%d rows, want %d", got, n-n/10)
	}
	db.writes.mu.Lock()
	held, pending := db.writes.leaders, len(db.writes.pending)
	db.writes.mu.Unlock()
	if held != 0 || pending != 0 {
		t.Errorf("every write answered, but %d leads held and %d writes pending", held, pending)
	}
	if err := db.Write(ctx, Durable, func(*sql.Tx) error { return errors.New("alone") }); err == nil {
		t.Error("a failed write alone succeeded")
	}
	if err := db.Write(ctx, Durable, func(*sql.Tx) error { return nil }); err != nil {
		t.Errorf("after a failure: %v", err)
	}
}

// A Durable write is flushed before Write returns; a Lazy one is not, and
// the next Durable write or Flush flushes it.
func TestWriteFlushesOnlyWhatMustBeDurable(t *testing.T) {
	t.Parallel()
	db := writeTestDB(t)
	var mu sync.Mutex
	var flushed []bool
	db.ObserveWrites(func(s WriteStats) {
		mu.Lock()
		flushed = append(flushed, s.Flushed)
		mu.Unlock()
	})
	ctx := context.Background()
	insert := func(id int) func(*sql.Tx) error {
		return func(tx *sql.Tx) error { _, err := tx.Exec(`INSERT INTO t (id) VALUES ($1)`, id); return err }
	}
	if err := db.Write(ctx, Lazy, insert(1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, Durable, insert(2)); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []bool{false, true, true}; fmt.Sprint(flushed) != fmt.Sprint(want) {
		t.Errorf("flushed per transaction %v, want %v (lazy, durable, Flush)", flushed, want)
	}
}

// A Durable write whose transaction committed but whose flush failed says
// so (ErrNotFlushed, ErrUnavailable), and Persist then only flushes again:
// it never writes twice.
func TestPersistFlushesAgainWithoutWritingAgain(t *testing.T) {
	t.Parallel()
	db := writeTestDB(t)
	var failures atomic.Int64
	failures.Store(2)
	syncWAL := db.writes.flush
	db.writes.flush = func() error {
		if failures.Add(-1) >= 0 {
			return fmt.Errorf("%w: sync write-ahead log: input/output error", notifyd.ErrUnavailable)
		}
		return syncWAL()
	}
	ctx := context.Background()
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error { _, err := tx.Exec(`INSERT INTO t (id) VALUES (1)`); return err })
	if !errors.Is(err, ErrNotFlushed) || !errors.Is(err, notifyd.ErrUnavailable) {
		t.Fatalf("Write with a failing flush = %v, want ErrNotFlushed and ErrUnavailable", err)
	}
	runs := 0
	err = db.Persist(ctx, Durable, func(tx *sql.Tx) error {
		runs++
		_, err := tx.Exec(`INSERT INTO t (id) VALUES (2)`)
		return err
	})
	if err != nil {
		t.Fatalf("Persist = %v, want nil once the flush works again", err)
	}
	if runs != 1 {
		t.Errorf("Persist ran its write %d times, want once (then only the flush again)", runs)
	}
	if got := countT(t, db); got != 2 {
		t.Errorf("%d rows, want 2", got)
	}
}

// While the database refuses writes (as with a full disk), Persist tries
// again until it can write; Write gives up at once.
func TestPersistWaitsForTheDatabase(t *testing.T) {
	onlySQLite(t, "refuses writes with SQLite's query_only pragma")
	t.Parallel()
	db := writeTestDB(t)
	ctx := context.Background()
	if _, err := db.writer.Exec(`PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	insert := func(id int) func(*sql.Tx) error {
		return func(tx *sql.Tx) error { _, err := tx.Exec(`INSERT INTO t (id) VALUES ($1)`, id); return err }
	}
	if err := db.Write(ctx, Durable, insert(1)); !errors.Is(err, notifyd.ErrUnavailable) {
		t.Fatalf("Write to a read-only database = %v, want ErrUnavailable", err)
	}
	var warned atomic.Bool
	release := make(chan struct{})
	db.SetLogger(slogFunc(func() {
		if warned.CompareAndSwap(false, true) {
			close(release)
		}
	}))
	go func() {
		<-release // Persist has failed once and said so
		if _, err := db.writer.Exec(`PRAGMA query_only = 0`); err != nil {
			t.Error(err)
		}
	}()
	if err := db.Persist(ctx, Durable, insert(2)); err != nil {
		t.Fatalf("Persist = %v, want nil once writes come back", err)
	}
	if got := countT(t, db); got != 1 {
		t.Errorf("%d rows, want 1", got)
	}

	// Persist gives up when ctx ends, with the database's error.
	if _, err := db.writer.Exec(`PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := db.Persist(short, Durable, insert(3)); !errors.Is(err, notifyd.ErrUnavailable) {
		t.Errorf("Persist past its context = %v, want the database's ErrUnavailable", err)
	}
}

// slogFunc is a logger that calls f on every record it gets.
func slogFunc(f func()) *slog.Logger { return slog.New(funcHandler(f)) }

type funcHandler func()

func (funcHandler) Enabled(context.Context, slog.Level) bool    { return true }
func (h funcHandler) Handle(context.Context, slog.Record) error { h(); return nil }
func (h funcHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h funcHandler) WithGroup(string) slog.Handler             { return h }
