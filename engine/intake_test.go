package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// newIntake is the intake of a rig whose job queue is migrated but whose
// workers do not run.
func newIntake(tb testing.TB) (*store.DB, *engine.Intake) {
	r := newRigOn(tb, testdb.Open(tb), engine.PolicyKeep)
	if _, err := r.eng.Queue().Migrate(r.ctx); err != nil {
		tb.Fatal(err)
	}
	return r.db, r.intake
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

// However pings arrive, a principal has one sync job (the pings that find
// it waiting join it), and every write the intake starts is given back:
// once they are all answered, none is held (a leaked one would leave the
// intake with fewer writers, then none, and Close waiting forever).
func TestIntakeConcurrentPingsMakeOneJobAndGiveBackEveryWriter(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	ctx := context.Background()
	var n, newJobs, coalesced atomic.Int64
	for round := range 10 {
		var wg sync.WaitGroup
		// Few callers: a write often ends just as a ping takes a free one.
		for range 3 {
			wg.Go(func() {
				for range 100 {
					res, err := in.Enqueue(ctx, "cal", []string{"/p/wilma", fmt.Sprintf("/p/u%d", n.Add(1))})
					if err != nil {
						t.Error(err)
						return
					}
					newJobs.Add(int64(res.NewJobs))
					coalesced.Add(int64(res.Coalesced))
				}
			})
		}
		wg.Wait()
		if w := in.WritersForTest(); w != 0 {
			t.Fatalf("round %d: every ping answered, but the intake holds %d writers", round, w)
		}
	}
	if got := testdb.SyncJobs(t, db, "cal", "/p/wilma"); got != 1 {
		t.Fatalf("wilma has %d jobs after 3000 concurrent pings, want 1", got)
	}
	if newJobs.Load() != 3001 || coalesced.Load() != 2999 {
		t.Fatalf("new jobs %d coalesced %d, want 3001 and 2999", newJobs.Load(), coalesced.Load())
	}
	if st, err := db.Principal(ctx, "cal", "/p/wilma"); err != nil || st.DirtyGen < 1 || st.SyncedGen != 0 {
		t.Fatalf("wilma's state %+v, %v: want her marked dirty, none synced", st, err)
	}
}
