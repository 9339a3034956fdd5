package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchDeliveries is how many deliveries the listing benchmarks' database
// holds (NOTIFYD_TEST_BENCH_DELIVERIES, default 1,000,000).
func benchDeliveries() int {
	if n, err := strconv.Atoi(os.Getenv("NOTIFYD_TEST_BENCH_DELIVERIES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchStart is when the benchmarks' history starts; it spans 90 days.
var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const benchSpan = 90 * 24 * time.Hour

// historyDB opens a migrated database holding n deliveries (genHistory,
// 100,000 principals). On SQLite the file is made once and kept in the
// temporary directory (keyed by n and the migrations), then copied for
// each run; on PostgreSQL it is generated each time.
func historyDB(b *testing.B, n int) *DB {
	b.Helper()
	if db := openDB(b); db.Postgres() {
		if _, err := db.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		genHistory(b, db, 0, n, 100_000, benchStart, benchSpan)
		if _, err := db.writer.Exec(`ANALYZE`); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d deliveries in %s", n, time.Since(start).Round(time.Second))
		return db
	} else {
		db.Close()
	}
	h := sha256.New()
	entries, _ := migrations.ReadDir("migrations")
	for _, e := range entries {
		data, _ := migrations.ReadFile("migrations/" + e.Name())
		h.Write(data)
	}
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("notifyd-bench-history-%d-%x.db", n, h.Sum(nil)[:6]))
	if _, err := os.Stat(cached); err != nil {
		tmp := cached + ".tmp"
		os.Remove(tmp)
		db, err := OpenSQLite(tmp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		genHistory(b, db, 0, n, 100_000, benchStart, benchSpan)
		if _, err := db.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.Logf("generated %d deliveries in %s", n, time.Since(start).Round(time.Second))
		if err := os.Rename(tmp, cached); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "notifyd.db")
	copyFile(b, cached, path)
	db, err := OpenSQLite(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// The delivery log's filters, on a database of NOTIFYD_TEST_BENCH_DELIVERIES
// deliveries over 90 days: each sub-benchmark lists a page of 100 for a
// random value of its filter and reports the p95 (p95-ms) of its runs, in
// the API's order (oldest first) and in the console's (newest first).
//
//	go test -run XXX -bench DeliveryListing -benchtime 50x ./store/
func BenchmarkDeliveryListing(b *testing.B) {
	n := benchDeliveries()
	db := historyDB(b, n)
	ctx := context.Background()
	at := func(r *rand.Rand) time.Time { return benchStart.Add(time.Duration(r.Int64N(int64(benchSpan)))) }
	p := func(r *rand.Rand) int { return r.IntN(100_000) }
	types := []string{"share-invite", "share-reply", "reminder", "event-modified", "resource-change"}
	for _, c := range []struct {
		name string
		f    func(r *rand.Rand) DeliveryFilter
	}{
		{"all", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{} }},
		{"system", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{System: "cal2"} }},
		{"principal", func(r *rand.Rand) DeliveryFilter {
			i := p(r)
			return DeliveryFilter{System: []string{"cal", "cal2"}[i%2], Principal: fmt.Sprintf("/p/%d/", i)}
		}},
		{"address", func(r *rand.Rand) DeliveryFilter {
			return DeliveryFilter{Address: fmt.Sprintf("u%d@example.org", p(r))}
		}},
		{"channel", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Channel: "im"} }},
		{"status-failed", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Status: DeliveryFailed} }},
		{"status-sent", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Status: DeliverySent} }},
		{"type", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Type: types[r.IntN(len(types))]} }},
		// One delivery in a thousand, and a type no delivery has.
		{"type-rare", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Type: "event-registration"} }},
		{"type-absent", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{Type: "approval"} }},
		{"hour", func(r *rand.Rand) DeliveryFilter { t := at(r); return DeliveryFilter{From: t, To: t.Add(time.Hour)} }},
		{"cursor", func(r *rand.Rand) DeliveryFilter { return DeliveryFilter{AfterTime: at(r), AfterID: "d"} }},
		{"system-type-day", func(r *rand.Rand) DeliveryFilter {
			t := at(r)
			return DeliveryFilter{System: "cal", Type: types[r.IntN(len(types))], From: t, To: t.Add(24 * time.Hour)}
		}},
		{"address-channel-status", func(r *rand.Rand) DeliveryFilter {
			return DeliveryFilter{Address: fmt.Sprintf("u%d@example.org", p(r)), Channel: "email", Status: DeliverySent}
		}},
	} {
		for _, newest := range []bool{false, true} {
			name := c.name
			if newest {
				name += "/newest-first" // the console's order
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				var took []time.Duration
				for b.Loop() {
					f := c.f(r)
					f.Limit, f.Newest = 101, newest
					start := time.Now()
					if _, err := db.Deliveries(ctx, f); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)*95/100])/float64(time.Millisecond), "p95-ms")
			})
		}
	}
}
