package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchSuppressions is how many entries the suppression list benchmark's
// list holds (NOTIFYD_TEST_BENCH_SUPPRESSIONS, default 100,000).
func benchSuppressions() int {
	if n, err := strconv.Atoi(os.Getenv("NOTIFYD_TEST_BENCH_SUPPRESSIONS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// suppressionsOf fills db's suppression list with n entries over 90 days,
// oldest first: email addresses u<i>@d<i%1000>.example (hard bounces,
// one in a hundred a manual entry, one in twenty-five a complaint) and,
// one in ten, phone numbers (STOP); none for unsubscribe.
func suppressionsOf(b *testing.B, db *DB, n int) {
	b.Helper()
	ctx := context.Background()
	step := benchSpan / time.Duration(n)
	const batch = 5000
	for lo := 0; lo < n; lo += batch {
		if err := db.Write(ctx, Lazy, func(tx *sql.Tx) error {
			for i := lo; i < min(lo+batch, n); i++ {
				ch, addr, reason := "email", fmt.Sprintf("u%d@d%d.example", i, i%1000), SuppressHardBounce
				switch {
				case i%10 == 9:
					ch, addr, reason = "sms", fmt.Sprintf("+3361%08d", i), SuppressStop
				case i%100 == 50:
					reason = SuppressManual
				case i%25 == 7:
					reason = SuppressComplaint
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO suppressions (`+suppressionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, fmt.Sprintf("%032x", i), ch, addr, reason, "550 5.1.1 user unknown",
					ActorKindNotifyd, "bounce report", micros(benchStart.Add(time.Duration(i)*step))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if db.Postgres() { // as its autovacuum does; notifyd never runs ANALYZE on SQLite
		if _, err := db.writer.Exec(`ANALYZE suppressions`); err != nil {
			b.Fatal(err)
		}
	}
}

// The console's searches of the suppression list (newest first, a page of
// 51), on a list of NOTIFYD_TEST_BENCH_SUPPRESSIONS entries; each
// sub-benchmark reports the p95 (p95-ms) of its runs.
//
//	go test -run XXX -bench SuppressionListing -benchtime 50x ./store/
func BenchmarkSuppressionListing(b *testing.B) {
	n := benchSuppressions()
	db := openDB(b)
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	suppressionsOf(b, db, n)
	b.Logf("generated %d suppressions in %s", n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	at := func(r *rand.Rand) time.Time { return benchStart.Add(time.Duration(r.Int64N(int64(benchSpan)))) }
	for _, c := range []struct {
		name string
		f    func(r *rand.Rand) SuppressionFilter
	}{
		{"all", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{} }},
		{"cursor", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{AfterTime: at(r), AfterID: "f"} }},
		{"address", func(r *rand.Rand) SuppressionFilter {
			i := r.IntN(n)
			return SuppressionFilter{Address: fmt.Sprintf("U%d@d%d.example", i, i%1000)}
		}},
		{"number", func(r *rand.Rand) SuppressionFilter {
			return SuppressionFilter{Address: fmt.Sprintf("+3361%08d", r.IntN(n/10)*10+9)}
		}},
		{"address-absent", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{Address: "nobody@example.org"} }},
		{"reason-common", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{Reason: SuppressHardBounce} }},
		{"reason-manual", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{Reason: SuppressManual} }},
		{"reason-absent", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{Reason: SuppressUnsubscribe} }},
		{"channel-sms", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{Channel: "sms"} }},
		{"prefix-common", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{AddressPrefix: "u1"} }},
		{"prefix-one", func(r *rand.Rand) SuppressionFilter {
			return SuppressionFilter{AddressPrefix: "u" + strconv.Itoa(r.IntN(n)) + "@"}
		}},
		{"prefix-absent", func(r *rand.Rand) SuppressionFilter { return SuppressionFilter{AddressPrefix: "nobody"} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var took []time.Duration
			for b.Loop() {
				f := c.f(r)
				f.Limit, f.Newest = 51, true
				start := time.Now()
				if _, err := db.Suppressions(ctx, f); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100])/float64(time.Millisecond), "p95-ms")
		})
	}
}
