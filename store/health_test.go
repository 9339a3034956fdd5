package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// consoleWorld stores two systems' principals and deliveries: wilma of
// cal (an email sent, an SMS failed), fred of hosp (an email queued, his
// last sync failed).
func consoleWorld(t *testing.T) (*DB, time.Time) {
	t.Helper()
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := MarkDirty(ctx, tx, []PrincipalKey{{"cal", "/p/wilma/"}, {"hosp", "/p/fred/"}}, now.Add(-time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	recordSync(t, db, SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", SyncedGen: 1, Now: now.Add(-2 * time.Hour),
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invitation", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d-email", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "w@example.org"},
			{ID: "d-sms", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "sms", Address: "+15550100"},
		}},
		DeliveryOutcome{ID: "d-email", Status: DeliverySent, Now: now.Add(-2 * time.Hour)},
		DeliveryOutcome{ID: "d-sms", Status: DeliveryFailed, Error: "21211 invalid number", Now: now.Add(-2 * time.Hour)})
	recordSync(t, db, SyncRecord{System: "hosp", Principal: "/p/fred/", Token: "t1", SyncedGen: 0, Now: now,
		Notifications: []NotificationRecord{{ID: "n2", Href: "/n/2.xml", ETag: `"1"`, Type: "share-invite", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d-fred", NotificationID: "n2", SubscriptionID: "s2", MethodID: "m1", Channel: "email", Address: "f@example.org"},
		}})
	if err := db.RecordSyncFailure(ctx, "hosp", "/p/fred/", "CalDAV 503"); err != nil {
		t.Fatal(err)
	}
	return db, now
}

// The console's search filters the delivery log by address, notification
// type and time range, newest first with a cursor that pages back.
func TestDeliveriesConsoleFilters(t *testing.T) {
	ctx := context.Background()
	db, now := consoleWorld(t)
	ids := func(f DeliveryFilter) []string {
		t.Helper()
		f.Limit = 10
		items, err := db.Deliveries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    DeliveryFilter
		want []string
	}{
		{"address", DeliveryFilter{Address: "+15550100"}, []string{"d-sms"}},
		{"type", DeliveryFilter{Type: "share-invite"}, []string{"d-fred"}},
		{"from", DeliveryFilter{From: now.Add(-time.Hour)}, []string{"d-fred"}},
		{"to", DeliveryFilter{To: now.Add(-time.Hour), Channel: "email"}, []string{"d-email"}},
		{"newest first", DeliveryFilter{Newest: true, Status: DeliveryFailed, System: "cal"}, []string{"d-sms"}},
	} {
		if got := ids(c.f); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	all := ids(DeliveryFilter{Newest: true})
	if len(all) != 3 || all[0] != "d-fred" {
		t.Fatalf("newest first: %v", all)
	}
	first, err := db.Deliveries(ctx, DeliveryFilter{Newest: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	rest := ids(DeliveryFilter{Newest: true, AfterTime: first[0].CreatedAt, AfterID: first[0].ID})
	if len(rest) != 2 || rest[0] == "d-fred" || rest[1] == "d-fred" {
		t.Errorf("the second page, newest first: %v", rest)
	}
}

// The health page's aggregates: per system, pings, queued and failing
// syncs; deliveries by channel, status and hour; the oldest waiting
// delivery.
func TestHealthAggregates(t *testing.T) {
	ctx := context.Background()
	db, now := consoleWorld(t)
	hs, err := db.SystemsHealth(ctx, now.Add(-5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].System != "cal" || hs[1].System != "hosp" {
		t.Fatalf("systems %+v", hs)
	}
	if h := hs[1]; h.Principals != 1 || h.PingedSince != 1 || h.Failing != 1 || h.LastPingAt.IsZero() {
		t.Errorf("hosp %+v", h)
	}
	if h := hs[0]; h.Failing != 0 || h.LastSyncAt.IsZero() {
		t.Errorf("cal %+v", h)
	}
	errs, err := db.SyncErrors(ctx, "hosp", 10)
	if err != nil || len(errs) != 1 || errs[0].Principal != "/p/fred/" || errs[0].LastError != "CalDAV 503" {
		t.Errorf("sync errors %+v %v", errs, err)
	}
	counts, err := db.DeliveryCounts(ctx, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.System+"/"+c.Channel+"/"+c.Status] += c.N
		if c.Hour.After(now) || c.Hour.Minute() != 0 {
			t.Errorf("hour %v", c.Hour)
		}
	}
	if got["cal/email/sent"] != 1 || got["cal/sms/failed"] != 1 || got["hosp/email/queued"] != 1 || len(got) != 3 {
		t.Errorf("counts %v", got)
	}
	oldest, err := db.OldestWaiting(ctx)
	if err != nil || len(oldest) != 1 || !oldest["hosp"].Equal(now) {
		t.Errorf("oldest waiting %v %v, want hosp at %v", oldest, err, now)
	}
}
