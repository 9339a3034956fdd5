package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// countingChannel counts the messages and items handed to it.
type countingChannel struct{ messages, items atomic.Int64 }

func (c *countingChannel) Send(_ context.Context, req *delivery.Request) (delivery.Result, error) {
	c.messages.Add(1)
	if req.Digest != nil {
		c.items.Add(int64(len(req.Digest.Items)))
	} else {
		c.items.Add(1)
	}
	return delivery.Result{ProviderID: "p-" + req.DeliveryID}, nil
}

// BenchmarkReleaseHeld releases 100,000 deliveries held until the same
// minute (the end of everyone's quiet hours) and measures the time until
// the channel has them all, and the memory: "alone" are held on their
// own (queued again as deliveries), "digest" are gathered into digests
// of 100 items, one per subscription.
//
//	go test -run XXX -bench ReleaseHeld -benchtime 1x ./engine/
func BenchmarkReleaseHeld(b *testing.B) {
	for _, tc := range []struct {
		name   string
		digest bool
	}{{"alone", false}, {"digest", true}} {
		b.Run(tc.name, func(b *testing.B) {
			total, perSub := 100000, 100
			if n, err := strconv.Atoi(os.Getenv("NOTIFYD_BENCH_HELD")); err == nil && n > 0 {
				total = n // a smaller run: NOTIFYD_BENCH_HELD=2000
			}
			for b.Loop() {
				b.StopTimer()
				ch := &countingChannel{}
				r := newRig(b, "keep", func(o *engine.Options) {
					o.Channels = map[notifyd.Channel]delivery.Channel{notifyd.ChannelEmail: ch}
				})
				at := time.Now().Truncate(time.Minute) // due: the minute that began
				seeding := time.Now()
				seedHeld(b, r, total, perSub, at, tc.digest)
				b.Logf("seeded %d held deliveries in %v", total, time.Since(seeding).Round(time.Millisecond))
				var before, peak runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				start := time.Now()
				if err := r.eng.ScheduleReleaseForTest(r.ctx, at); err != nil {
					b.Fatal(err)
				}
				if _, err := r.eng.ReleaseNowForTest(r.ctx); err != nil {
					b.Fatal(err)
				}
				r.waitUntilLong(b, func() bool {
					if tc.digest {
						// Digest jobs are inserted by the release job.
						if _, err := r.eng.ReleaseNowForTest(r.ctx); err != nil {
							b.Fatal(err)
						}
					}
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak.HeapInuse = max(peak.HeapInuse, m.HeapInuse)
					return ch.items.Load() >= int64(total)
				})
				elapsed := time.Since(start)
				b.StopTimer()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				b.ReportMetric(elapsed.Seconds(), "s-to-hand-over")
				b.ReportMetric(float64(total)/elapsed.Seconds(), "items/s")
				b.ReportMetric(float64(ch.messages.Load()), "messages")
				b.ReportMetric(float64(peak.HeapInuse)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MiB")
				b.StartTimer()
			}
		})
	}
}

// waitUntilLong is waitUntil without its minute's failsafe (100,000
// deliveries take longer on a loaded machine), checking at each job end.
func (r *rig) waitUntilLong(tb testing.TB, cond func() bool) {
	tb.Helper()
	events, cancel := r.eng.SubscribeForTest(endKinds...)
	defer cancel()
	for !cond() {
		select {
		case <-events:
		case <-time.After(time.Second):
		case <-r.ctx.Done():
			tb.Fatal("stopped")
		}
	}
}

// seedHeld records total deliveries to total/perSub subscriptions, held
// until at (in digests if digest).
func seedHeld(tb testing.TB, r *rig, total, perSub int, at time.Time, digest bool) {
	tb.Helper()
	ctx := context.Background()
	for s := 0; s < total/perSub; s++ {
		p := fmt.Sprintf("/dav/principals/user/u%d/", s)
		w, err := r.subs.Create(ctx, subscriptions.Input{System: "cal", Principal: p,
			Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: fmt.Sprintf("u%d@example.org", s)}}})
		if err != nil {
			tb.Fatal(err)
		}
		sub := w.Subscription
		rec := store.SyncRecord{System: "cal", Principal: p, Token: "t", Now: time.Now()}
		for i := 0; i < perSub; i++ {
			id := fmt.Sprintf("n-%d-%d", s, i)
			rec.Notifications = append(rec.Notifications, store.NotificationRecord{ID: id, Href: p + id + ".xml", ETag: `"1"`,
				Type: string(notifyd.TypeShareInvite), Parsed: []byte(`{"type":"share-invite","element":"x"}`)})
			rec.Deliveries = append(rec.Deliveries, store.DeliveryRecord{ID: "d-" + id, NotificationID: id,
				SubscriptionID: sub.ID, MethodID: sub.Methods[0].ID, Channel: "email", Address: sub.Methods[0].Address})
		}
		if err := r.db.Write(ctx, store.Lazy, func(tx *sql.Tx) error {
			_, err := store.RecordSync(ctx, tx, rec)
			return err
		}); err != nil {
			tb.Fatal(err)
		}
	}
	reason := "quiet-hours"
	if digest {
		reason = "digest"
	}
	if err := r.eng.ExecForTest(ctx, `UPDATE deliveries SET status = 'held', release_at = $1, held_reason = $2, held_digest = $3`,
		at.UnixMicro(), reason, digest); err != nil {
		tb.Fatal(err)
	}
}
