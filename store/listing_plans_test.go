package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// onlyPostgres skips a test unless the suite runs on PostgreSQL.
func onlyPostgres(t testing.TB, why string) {
	t.Helper()
	if !peertest.OnPostgres() {
		t.Skip("PostgreSQL only: " + why)
	}
}

// pgPlan is a node of PostgreSQL's EXPLAIN (FORMAT JSON).
type pgPlan struct {
	NodeType  string   `json:"Node Type"`
	Relation  string   `json:"Relation Name"`
	Index     string   `json:"Index Name"`
	IndexCond string   `json:"Index Cond"`
	Rows      float64  `json:"Plan Rows"`
	Plans     []pgPlan `json:"Plans"`
}

// pgExplain returns PostgreSQL's plan of q run with args.
func pgExplain(t *testing.T, db *DB, q string, args []any) pgPlan {
	t.Helper()
	var out string
	if err := db.reader.QueryRow("EXPLAIN (FORMAT JSON) "+q, args...).Scan(&out); err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	var plans []struct{ Plan pgPlan }
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN %s: %v\n%s", q, err, out)
	}
	return plans[0].Plan
}

// find returns the first node of p, depth first, for which match is true.
func (p pgPlan) find(match func(pgPlan) bool) (pgPlan, bool) {
	if match(p) {
		return p, true
	}
	for _, c := range p.Plans {
		if n, ok := c.find(match); ok {
			return n, true
		}
	}
	return pgPlan{}, false
}

// historyOf stores n deliveries over a day (genHistory: systems cal and
// cal2 in turn, five notification types) and has PostgreSQL gather its
// statistics, as its autovacuum does on a live database.
func historyOf(t *testing.T, n int) (*DB, time.Time) {
	t.Helper()
	db := migratedDB(t)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	genHistory(t, db, 0, n, 1000, start, 24*time.Hour)
	if err := db.Write(context.Background(), Lazy, func(tx *sql.Tx) error {
		_, err := tx.Exec(`ANALYZE deliveries, notifications`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db, start
}

// On PostgreSQL, a search of the log by system (without a principal)
// knows from the statistics how much of the log the system is: a large
// part, whose page is found in a few rows read in time order. (Guessing
// that a system matched one delivery in 200, it took a search by system,
// type and day at ten million deliveries for a read of the whole day,
// costly enough to be compiled (JIT) and run by parallel workers: p95
// 200-900 ms.)
func TestPostgresKnowsASystemsShare(t *testing.T) {
	onlyPostgres(t, "reads PostgreSQL's estimates")
	t.Parallel()
	const n = 20000
	db, start := historyOf(t, n)
	for _, c := range []struct {
		f     DeliveryFilter
		share float64 // of the log the scan would return
	}{
		{DeliveryFilter{System: "cal"}, 0.5},
		{DeliveryFilter{Systems: []string{"cal"}}, 0.5},
		// Read by type (deliveries_by_type): a fifth of the log, of which
		// half is of cal.
		{DeliveryFilter{System: "cal", Type: "reminder", From: start, To: start.Add(24 * time.Hour), Newest: true}, 0.1},
	} {
		f := c.f
		f.Limit = 101
		q, args := deliveriesQuery(f)
		scan, ok := pgExplain(t, db, q, args).find(func(p pgPlan) bool { return p.Relation == "deliveries" })
		if !ok {
			t.Fatalf("%+v: no scan of deliveries in the plan of\n%s", f, q)
		}
		// The plan's figure is of the rows its scan would return, were it
		// not stopped by the LIMIT.
		if want := c.share * n; scan.Rows < want/2 {
			t.Errorf("%+v: PostgreSQL expects %.0f deliveries of the system among %d, want about %.0f", f, scan.Rows, n, want)
		}
	}
}

// On PostgreSQL, a page of the log before a cursor, newest first (the
// console's next page), reads the index by time from the cursor down, not
// from the newest delivery (seconds for a page in the middle of ten
// million deliveries).
func TestPostgresCursorBoundsTheRange(t *testing.T) {
	onlyPostgres(t, "reads PostgreSQL's plans")
	t.Parallel()
	db, start := historyOf(t, 20000)
	q, args := deliveriesQuery(DeliveryFilter{Newest: true, AfterTime: start.Add(12 * time.Hour), AfterID: "d", Limit: 101})
	plan := pgExplain(t, db, q, args)
	scan, ok := plan.find(func(p pgPlan) bool { return p.Index == "deliveries_by_time" })
	if !ok {
		t.Fatalf("the page is not read by time: plan %+v of\n%s", plan, q)
	}
	if scan.IndexCond == "" {
		t.Errorf("the index by time is read from its end: plan %+v of\n%s", scan, q)
	}
}

// Paging through the log a page of one at a time, in either order, meets
// every delivery once and in order, also among deliveries made at the
// same moment (the cursor's ID then decides).
func TestDeliveriesPageThroughTies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var want []string
	for i, at := range []time.Time{now.Add(-time.Hour), now, now.Add(time.Hour)} {
		n := fmt.Sprintf("n%d", i)
		rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t", Now: at,
			Notifications: []NotificationRecord{{ID: n, Href: "/" + n + ".xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}}}
		for _, ch := range []string{"email", "im", "sms"} { // created together: same time, IDs in order
			id := n + "-" + ch
			rec.Deliveries = append(rec.Deliveries, DeliveryRecord{ID: id, NotificationID: n, SubscriptionID: "s",
				MethodID: ch, Channel: ch, Address: "w@example.org"})
			want = append(want, id)
		}
		recordSync(t, db, rec)
	}
	for _, newest := range []bool{false, true} {
		f := DeliveryFilter{Newest: newest, System: "cal", Limit: 1}
		var got []string
		for range 20 {
			page, err := db.Deliveries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page[0].ID)
			f.AfterTime, f.AfterID = page[0].CreatedAt, page[0].ID
		}
		w := slices.Clone(want)
		if newest {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Errorf("newest first %v: pages %v, want %v", newest, got, w)
		}
	}
}
