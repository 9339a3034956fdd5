package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// Scheduling benchmark: 10,000 principals, each with 8 events and a daily
// meeting in the next 48 hours (the default horizon), one alarm each: 10
// alarm instances a principal, 100,000 in all.
const (
	schedPrincipals = 10000
	schedChunk      = 1000 // principals expanded, then recorded, at a time
	// schedWriters record at once, as the sync workers (8 by default) do.
	schedWriters = 8
)

// schedObjects are principal i's objects: 8 events spread over the
// horizon and a daily meeting (two instances within it), all starting an
// hour or more after now.
func schedObjects(i int, now time.Time) []store.CalendarObject {
	base := now.Truncate(time.Minute).Add(75*time.Minute + time.Duration(i%360)*time.Minute)
	var objs []store.CalendarObject
	add := func(name string, data []byte) {
		objs = append(objs, store.CalendarObject{Href: benchCalendar(i) + name, ETag: `"1"`, Data: data, FirstSeenAt: now})
	}
	for k := range 8 {
		uid := fmt.Sprintf("u%d-e%d@example.org", i, k)
		add(fmt.Sprintf("e%d.ics", k), benchEvent(uid, base.Add(time.Duration(k)*5*time.Hour), ""))
	}
	add("daily.ics", benchEvent(fmt.Sprintf("u%d-daily@example.org", i), base.Add(time.Hour), "FREQ=DAILY"))
	return objs
}

// BenchmarkReminderSchedule records 100,000 alarm instances over the
// horizon, through the engine's write of a calendar sync (its instances
// and their fire_reminder jobs, in one durable write per calendar, 8 at
// once), with the engine running. It reports the time per instance
// recorded (the expansion, measured by the calendar benchmarks, is not
// timed), the database's size after a checkpoint (SQLite: the file,
// and per table with its indexes; PostgreSQL with
// NOTIFYD_TEST_DATABASE=postgres: each table with its indexes), and the
// process's heap in use after a collection. Run it alone:
//
//	go test -run '^$' -bench ReminderSchedule -benchtime 1x ./engine/
func BenchmarkReminderSchedule(b *testing.B) {
	for range b.N {
		scheduleRound(b)
	}
}

func scheduleRound(b *testing.B) {
	b.StopTimer()
	var db *store.DB
	path := ""
	if peertest.OnPostgres() {
		db = testdb.Open(b)
	} else {
		path = filepath.Join(b.TempDir(), "notifyd.db")
		var err error
		if db, err = store.OpenSQLite(path); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	}
	r := newRigOn(b, db, engine.PolicyDelete, func(o *engine.Options) {
		o.PollInterval, o.RetryBase, o.RetryMax, o.MaxAttempts = 0, 0, 0, 0 // the defaults
		o.Reminders = engine.ReminderOptions{Enabled: true}
	})
	r.start(b)
	before := heapInUse()
	now := time.Now()
	var recording time.Duration
	instances := 0
	for first := 0; first < schedPrincipals; first += schedChunk {
		changes := make([]store.CalendarChange, 0, schedChunk)
		for i := first; i < first+schedChunk; i++ {
			key := store.PrincipalKey{System: "cal", Principal: benchPrincipal(i)}
			ch := store.CalendarChange{System: "cal", Principal: key.Principal, CalendarHref: benchCalendar(i), Now: now,
				Calendar: &store.CalendarRecord{System: "cal", Principal: key.Principal, Href: benchCalendar(i),
					DisplayName: "Work", SyncToken: "1", ListedTag: "sync-token:1"}}
			for _, o := range schedObjects(i, now) {
				oa, err := r.eng.ObjectAlarmsForTest(key, benchCalendar(i), o, parisZone, now)
				if err != nil {
					b.Fatal(err)
				}
				instances += len(oa.Reminders)
				ch.Changed = append(ch.Changed, oa)
			}
			changes = append(changes, ch)
		}
		start := time.Now()
		b.StartTimer()
		recordAll(b, r.eng, changes)
		b.StopTimer()
		recording += time.Since(start)
	}
	if instances != schedPrincipals*10 {
		b.Fatalf("%d alarm instances worked out, want %d", instances, schedPrincipals*10)
	}
	after := heapInUse()
	var jobs int
	if err := testdb.QueryRow(db, `SELECT COUNT(*) FROM river_job WHERE kind = $1 AND state = 'scheduled'`,
		(engine.FireReminderArgs{}).Kind()).Scan(&jobs); err != nil {
		b.Fatal(err)
	}
	if jobs != instances {
		b.Fatalf("%d fire_reminder jobs scheduled, want %d", jobs, instances)
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	r.eng.Stop(stop)
	cancel()
	b.ReportMetric(float64(recording.Nanoseconds())/float64(instances), "ns/instance")
	b.ReportMetric(float64(after)/1e6, "heap-MB")
	b.ReportMetric((float64(after)-float64(before))/1e6, "heap-growth-MB")
	sizes := tableSizes(b, db, path)
	for _, t := range []string{"total", "reminders", "calendar_objects", "river_job"} {
		b.ReportMetric(float64(sizes[t])/1e6, t+"-MB")
	}
	b.ReportMetric(float64(sizes["total"])/float64(instances), "B/instance")
}

// recordAll records changes with schedWriters writers at once.
func recordAll(b *testing.B, eng *engine.Engine, changes []store.CalendarChange) {
	var wg sync.WaitGroup
	next := make(chan store.CalendarChange)
	var mu sync.Mutex
	var failed error
	for range schedWriters {
		wg.Go(func() {
			for ch := range next {
				if err := eng.RecordCalendarForTest(context.Background(), ch); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for _, ch := range changes {
		next <- ch
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}

// heapInUse is the heap in use after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// tableSizes measures db, its engine stopped: on SQLite (the file at
// path) the file after a checkpoint ("total") and each table with its
// indexes (SQLite's dbstat); on PostgreSQL, each table with its indexes
// and TOAST, and the database ("total").
func tableSizes(b *testing.B, db *store.DB, path string) map[string]int64 {
	out := map[string]int64{}
	tables := []string{"reminders", "calendar_objects", "river_job"}
	if db.Postgres() {
		for _, t := range tables {
			var n int64
			if err := testdb.QueryRow(db, `SELECT pg_total_relation_size($1)`, t).Scan(&n); err != nil {
				b.Fatal(err)
			}
			out[t] = n
		}
		var n int64
		if err := testdb.QueryRow(db, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		out["total"] = n
		return out
	}
	raw, err := sql.Open(store.SQLiteDriver, "file:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if st, err := os.Stat(f); err == nil {
			out["total"] += st.Size()
		}
	}
	for _, t := range tables {
		var n int64
		err := raw.QueryRow(`SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = $1 OR name IN
(SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = $1)`, t).Scan(&n)
		if err != nil {
			b.Fatal(err)
		}
		out[t] = n
	}
	return out
}
