package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// newIntake opens a migrated database with a job queue that only
// inserts jobs, and the intake onto it.
func newIntake(tb testing.TB) (*store.DB, *engine.Intake) {
	tb.Helper()
	db := testdb.Open(tb)
	q, err := engine.NewQueue(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		_, err = db.Migrate(context.Background())
	}
	if err == nil {
		_, err = q.Migrate(context.Background())
	}
	if err != nil {
		tb.Fatal(err)
	}
	in := engine.NewIntake(db, q)
	tb.Cleanup(in.Close)
	return db, in
}

func TestIntakeCoalescesPingsForAWaitingPrincipal(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	ctx := context.Background()

	for _, ping := range []struct {
		system     string
		principals []string
		want       engine.IntakeResult
		why        string
	}{
		{"cal", []string{"/p/fred", "/p/jim"}, engine.IntakeResult{Queued: 2, NewJobs: 2}, "2 queued as 2 new jobs"},
		{"cal", []string{"/p/fred"}, engine.IntakeResult{Queued: 1, Coalesced: 1}, "fred coalesced into his waiting job"},
		// Another system's principal with the same href is another one.
		{"other", []string{"/p/fred"}, engine.IntakeResult{Queued: 1, NewJobs: 1}, "a new job"},
	} {
		if res, err := in.Enqueue(ctx, ping.system, ping.principals); err != nil || res != ping.want {
			t.Fatalf("ping of %s %v: %+v, %v; want %s", ping.system, ping.principals, res, err, ping.why)
		}
	}

	if n := testdb.SyncJobs(t, db, "cal", "/p/fred"); n != 1 {
		t.Fatalf("fred has %d jobs, want 1", n)
	}
	st, err := db.Principal(ctx, "cal", "/p/fred")
	if err != nil {
		t.Fatal(err)
	}
	if st.DirtyGen != 2 || st.SyncedGen != 0 {
		t.Fatalf("fred's state %+v: want dirty generation 2 (two committed pings), none synced", st)
	}
	var available int
	if err := testdb.QueryRow(db, `SELECT count(*) FROM river_job WHERE state = 'available'`).Scan(&available); err != nil {
		t.Fatal(err)
	}
	if available != 3 {
		t.Fatalf("%d jobs available, want 3", available)
	}
}

func TestIntakeConcurrentPingsForOnePrincipalMakeOneJob(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var newJobs, coalesced atomic.Int64
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := in.Enqueue(ctx, "cal", []string{"/p/wilma", fmt.Sprintf("/p/u%d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			newJobs.Add(int64(res.NewJobs))
			coalesced.Add(int64(res.Coalesced))
		}(i)
	}
	wg.Wait()
	if got := testdb.SyncJobs(t, db, "cal", "/p/wilma"); got != 1 {
		t.Fatalf("wilma has %d jobs after 200 concurrent pings, want 1", got)
	}
	if newJobs.Load() != 201 || coalesced.Load() != 199 {
		t.Fatalf("new jobs %d coalesced %d, want 201 and 199", newJobs.Load(), coalesced.Load())
	}
	st, err := db.Principal(ctx, "cal", "/p/wilma")
	if err != nil {
		t.Fatal(err)
	}
	if st.DirtyGen < 1 || st.DirtyGen <= st.SyncedGen {
		t.Fatalf("wilma's state %+v: want her marked dirty", st)
	}
}

func TestIntakeRefusesAfterClose(t *testing.T) {
	t.Parallel()
	_, in := newIntake(t)
	in.Close()
	if _, err := in.Enqueue(context.Background(), "cal", []string{"/p/x"}); err == nil {
		t.Fatal("Enqueue after Close succeeded")
	}
}

// BenchmarkIntakeParallel measures durable enqueue of one distinct
// principal per call from many goroutines (group commit at work).
func BenchmarkIntakeParallel(b *testing.B) {
	_, in := newIntake(b)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := fmt.Sprintf("/principals/users/u%d", n.Add(1))
			if _, err := in.Enqueue(context.Background(), "bench", []string{p}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// However pings arrive, every write the intake starts is given back: once
// they are all answered, none is held (a leaked one would leave the intake
// with fewer writers, then none, and Close waiting forever).
func TestIntakeGivesBackEveryWriter(t *testing.T) {
	t.Parallel()
	_, in := newIntake(t)
	ctx := context.Background()
	var n atomic.Int64
	for round := range 10 {
		var wg sync.WaitGroup
		// Few callers: a write often ends just as a ping takes a free one.
		for range 3 {
			wg.Go(func() {
				for range 100 {
					if _, err := in.Enqueue(ctx, "cal", []string{fmt.Sprintf("/p/u%d", n.Add(1))}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if w := in.WritersForTest(); w != 0 {
			t.Fatalf("round %d: every ping answered, but the intake holds %d writers", round, w)
		}
	}
}
