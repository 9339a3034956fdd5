package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// What pruning a day of history costs the intake. The database holds
// NOTIFYD_TEST_BENCH_PRUNE deliveries (default 1,000,000: a day's worth at a
// million notifications a day), all past retention. The intake's write,
// a ping marking a new principal dirty durably (store.MarkDirty in a
// Durable write, from 32 goroutines), runs alone, then while the pruner
// deletes those deliveries and their notifications at its pace (batches
// of DefaultPruneBatch, a pause of DefaultPrunePause times each batch). It
// reports pings/s and, while pruning, the rows pruned per second;
// compare the two pings/s.
//
//	go test -run XXX -bench IntakeWhilePruning -benchtime 100000x ./store/
//
// (A fixed count: each run of the function gets a new database.)
func BenchmarkIntakeWhilePruning(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("NOTIFYD_TEST_BENCH_PRUNE")); err == nil && v > 0 {
		n = v
	}
	for _, pruning := range []bool{false, true} {
		name := "alone"
		if pruning {
			name = "pruning"
		}
		b.Run(name, func(b *testing.B) {
			db := historyDB(b, n)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pruned atomic.Int64
			var wg sync.WaitGroup
			cutoff := benchStart.Add(benchSpan + time.Hour)
			if pruning {
				wg.Go(func() {
					for _, r := range []PruneRule{PruneDeliveries, PruneNotifications} {
						if _, err := db.Prune(ctx, r, cutoff, DefaultPruneBatch, DefaultPrunePause, func(n int) { pruned.Add(int64(n)) }); err != nil && ctx.Err() == nil {
							b.Error(err)
						}
					}
				})
			}
			var next atomic.Int64
			b.SetParallelism(16)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := []PrincipalKey{{"bench", fmt.Sprintf("/principals/users/u%d", next.Add(1))}}
					err := db.Write(ctx, Durable, func(tx *sql.Tx) error { _, err := MarkDirty(ctx, tx, k, time.Now()); return err })
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			took := time.Since(start)
			b.ReportMetric(float64(b.N)/took.Seconds(), "pings/s")
			if pruning {
				b.ReportMetric(float64(pruned.Load())/took.Seconds(), "pruned/s")
			}
			cancel()
			wg.Wait()
		})
	}
}
