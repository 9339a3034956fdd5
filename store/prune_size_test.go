package store

import (
	"context"
	"testing"
	"time"
)

// Under a steady load with retention on, the SQLite file stops growing:
// the pages that pruned rows free are reused by the next day's rows.
// Twelve "days" of history, kept three days, are written and pruned a day
// at a time; from the fifth day on, the database holds four days' rows
// and its page count stays where it was (freed pages, on the free list,
// are taken again rather than the file grown). What still grows is the
// dead letters (one in a hundred deliveries), kept until handled.
func TestSQLiteFileStopsGrowingWithRetention(t *testing.T) {
	onlySQLite(t, "the SQLite file's pages")
	t.Parallel()
	db := migratedDB(t)
	const perDay, days = 5000, 12
	const keep = 3 * 24 * time.Hour
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pages := make([]int64, days)
	for d := range days {
		dayStart := start.Add(time.Duration(d) * 24 * time.Hour)
		genHistory(t, db, d*perDay, perDay, 1000, dayStart, 24*time.Hour)
		pruneAll(t, db, dayStart.Add(24*time.Hour), keep, DefaultPruneBatch)
		var free int64
		if err := db.writer.QueryRowContext(context.Background(), `PRAGMA page_count`).Scan(&pages[d]); err != nil {
			t.Fatal(err)
		}
		if err := db.writer.QueryRowContext(context.Background(), `PRAGMA freelist_count`).Scan(&free); err != nil {
			t.Fatal(err)
		}
		var rows int64
		if err := db.reader.QueryRow(`SELECT count(*) FROM deliveries`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		t.Logf("day %2d: %6d deliveries, %5d pages, %5d free", d+1, rows, pages[d], free)
	}
	steady := pages[4]
	for d := 5; d < days; d++ {
		if pages[d] > steady+steady/20 {
			t.Errorf("day %d: %d pages, up from %d on day 5: the file keeps growing under retention", d+1, pages[d], steady)
		}
	}
}
