package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/internal/peertest"
)

func TestMain(m *testing.M) { os.Exit(peertest.WithPostgres(m.Run)) }

// openDB opens a new database, unmigrated: a SQLite file in a temporary
// directory, or a new PostgreSQL database when the suite runs on
// PostgreSQL (peertest.EnvTestDatabase).
func openDB(t testing.TB) *DB {
	t.Helper()
	var db *DB
	var err error
	if peertest.OnPostgres() {
		db, err = OpenPostgres(context.Background(), peertest.PostgresDatabase(t))
	} else {
		db, err = OpenSQLite(filepath.Join(t.TempDir(), "data", "notifyd.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// onlySQLite skips a test of the embedded database's own behaviour when the
// suite runs on PostgreSQL.
func onlySQLite(t testing.TB, why string) {
	t.Helper()
	if peertest.OnPostgres() {
		t.Skip("SQLite only: " + why)
	}
}

// migratedDB opens a new database and migrates it.
func migratedDB(t testing.TB) *DB {
	t.Helper()
	db := openDB(t)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// at is a time with a non-zero microsecond part, in UTC.
var at = time.Date(2025, 6, 1, 12, 30, 45, 123456000, time.UTC)

func sampleSub(id string) *notifyd.Subscription {
	return &notifyd.Subscription{
		ID:        id,
		System:    "bedework",
		Principal: "/principals/users/fred",
		Enabled:   true,
		Types:     []notifyd.NotificationType{notifyd.TypeShareInvite, notifyd.TypeReminder},
		Locale:    "fr-CA",
		TimeZone:  "America/Toronto",
		Methods: []notifyd.DeliveryMethod{
			{ID: "m_0000000000000001", Channel: notifyd.ChannelEmail, Address: "Fred@example.org", Enabled: true},
			{ID: "m_0000000000000002", Channel: notifyd.ChannelSMS, Address: "+14155550100", Enabled: false,
				Types: []notifyd.NotificationType{notifyd.TypeReminder}},
			{ID: "m_0000000000000003", Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/n?a=\"b\"&c=<d>",
				Enabled: true, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				PreviousSecret: "whsec_u6iX8/+XbWcSNl9o/gXqB0Ck0yXzDGfNx8tFfDWWnXs=", PreviousSecretExpires: at.Add(24 * time.Hour)},
		},
		CreatedAt: at,
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)

	err := db.Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "migrations pending") {
		t.Fatalf("Ready before Migrate = %v, want a \"migrations pending\" error", err)
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Fatalf("first Migrate applied %d migrations, want at least 1", n)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	n, err = db.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready after the second Migrate: %v", err)
	}

	// The schema survives closing and reopening the file.
	onlySQLite(t, "reopens the database file")
	path := db.path
	db.Close()
	db2, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Ready(ctx); err != nil {
		t.Fatalf("Ready after reopening: %v", err)
	}
	if n, err := db2.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("Migrate after reopening = %d, %v; want 0, nil", n, err)
	}
}

func TestReadyWhenClosed(t *testing.T) {
	db := migratedDB(t)
	db.Close()
	if err := db.Ready(context.Background()); err == nil {
		t.Fatal("Ready on a closed database = nil, want an error")
	}
}

func TestSubscriptionRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)

	s := sampleSub("0193a0b0-0000-7000-8000-000000000001")
	if err := db.CreateSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 || !s.UpdatedAt.Equal(s.CreatedAt) {
		t.Errorf("after create: Version %d, UpdatedAt %v; want 1 and CreatedAt %v", s.Version, s.UpdatedAt, s.CreatedAt)
	}
	got, err := db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, s)
	}
	if got.CreatedAt.Nanosecond() != 123456000 || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want the microseconds kept, in UTC", got.CreatedAt)
	}

	// Update every field.
	next := &notifyd.Subscription{
		ID:        s.ID,
		System:    "apple",
		Principal: "/principals/__uids__/F00/",
		Enabled:   false,
		Types:     []notifyd.NotificationType{notifyd.TypeOther},
		Locale:    "de",
		TimeZone:  "Europe/Berlin",
		Methods: []notifyd.DeliveryMethod{
			{ID: "m_0000000000000004", Channel: notifyd.ChannelIM, Address: "fred@example.org/Phone", Enabled: true},
		},
		CreatedAt: s.CreatedAt,
		UpdatedAt: at.Add(90*time.Minute + 654321*time.Microsecond),
	}
	if err := db.UpdateSubscription(ctx, next, 1); err != nil {
		t.Fatal(err)
	}
	if next.Version != 2 {
		t.Errorf("Version after update = %d, want 2", next.Version)
	}
	got, err = db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, next) {
		t.Fatalf("read back after update\n%+v\nwant\n%+v", got, next)
	}

	// ifVersion 0 updates whatever the version.
	next.Locale = "it"
	if err := db.UpdateSubscription(ctx, next, 0); err != nil || next.Version != 3 {
		t.Fatalf("unconditional update: %v, Version %d; want nil, 3", err, next.Version)
	}

	if err := db.DeleteSubscription(ctx, s.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Subscription(ctx, s.ID); !errors.Is(err, notifyd.ErrNotFound) {
		t.Fatalf("Subscription after delete: %v, want ErrNotFound", err)
	}
}

// TestSubscriptionEmptyLists checks that no types and no method types come
// back empty, whatever the JSON spelling.
func TestSubscriptionEmptyLists(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	s := sampleSub("id-1")
	s.Types = nil
	s.Methods[0].Types = nil
	if err := db.CreateSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Types) != 0 || len(got.Methods[0].Types) != 0 || len(got.Methods) != 3 {
		t.Errorf("read back Types %v, Methods %+v", got.Types, got.Methods)
	}
}

func TestCreateSubscriptionDuplicateID(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	if err := db.CreateSubscription(ctx, sampleSub("dup")); err != nil {
		t.Fatal(err)
	}
	other := sampleSub("dup")
	other.System = "apple"
	err := db.CreateSubscription(ctx, other)
	if err == nil {
		t.Fatal("second create with the same ID succeeded")
	}
	if errors.Is(err, notifyd.ErrUnavailable) {
		t.Errorf("constraint violation classified as unavailable (retrying will not cure it): %v", err)
	}
	got, err := db.Subscription(ctx, "dup")
	if err != nil || got.System != "bedework" {
		t.Errorf("first subscription now %+v, %v", got, err)
	}
}

func TestUpdateSubscriptionConflicts(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	s := sampleSub("id-1")
	if err := db.CreateSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.UpdatedAt = at.Add(time.Hour)
	if err := db.UpdateSubscription(ctx, s, 1); err != nil { // now version 2
		t.Fatal(err)
	}
	want, err := db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}

	for _, stale := range []int64{1, 3, -1} {
		change := sampleSub("id-1")
		change.Locale = "xx"
		change.Methods = nil
		change.UpdatedAt = at.Add(2 * time.Hour)
		err := db.UpdateSubscription(ctx, change, stale)
		if !errors.Is(err, notifyd.ErrConflict) {
			t.Errorf("update with version %d against 2: %v, want ErrConflict", stale, err)
		}
		if change.Version != 0 {
			t.Errorf("failed update set Version to %d", change.Version)
		}
	}
	got, err := db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conflicting updates changed the row:\n%+v\nwant\n%+v", got, want)
	}

	if err := db.DeleteSubscription(ctx, s.ID, 1); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("delete with a stale version: %v, want ErrConflict", err)
	}
	if _, err := db.Subscription(ctx, s.ID); err != nil {
		t.Errorf("row gone after a conflicting delete: %v", err)
	}
}

func TestSubscriptionNotFound(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	if _, err := db.Subscription(ctx, "missing"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("Subscription: %v, want ErrNotFound", err)
	}
	if err := db.UpdateSubscription(ctx, sampleSub("missing"), 0); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("UpdateSubscription: %v, want ErrNotFound", err)
	}
	if err := db.UpdateSubscription(ctx, sampleSub("missing"), 1); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("UpdateSubscription with a version: %v, want ErrNotFound", err)
	}
	if err := db.DeleteSubscription(ctx, "missing", 0); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("DeleteSubscription: %v, want ErrNotFound", err)
	}
	if subs, err := db.Subscriptions(ctx, notifyd.SubscriptionFilter{}); err != nil || len(subs) != 0 {
		t.Errorf("Subscriptions on an empty table = %v, %v", subs, err)
	}
}

func TestSubscriptionsFilter(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	// Created out of ID order, to check the listing sorts.
	rows := []struct{ id, system, principal string }{
		{"id-05", "bedework", "/p/fred"},
		{"id-01", "bedework", "/p/fred"},
		{"id-03", "apple", "/p/fred"},
		{"id-02", "bedework", "/p/wilma"},
		{"id-04", "bedework", "/p/fred"},
		{"id-06", "apple", "/p/wilma"},
	}
	for _, r := range rows {
		s := sampleSub(r.id)
		s.System, s.Principal = r.system, r.principal
		if err := db.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    notifyd.SubscriptionFilter
		want []string
	}{
		{"all", notifyd.SubscriptionFilter{}, []string{"id-01", "id-02", "id-03", "id-04", "id-05", "id-06"}},
		{"system", notifyd.SubscriptionFilter{System: "bedework"}, []string{"id-01", "id-02", "id-04", "id-05"}},
		{"principal", notifyd.SubscriptionFilter{Principal: "/p/fred"}, []string{"id-01", "id-03", "id-04", "id-05"}},
		{"system and principal", notifyd.SubscriptionFilter{System: "bedework", Principal: "/p/fred"}, []string{"id-01", "id-04", "id-05"}},
		{"after", notifyd.SubscriptionFilter{After: "id-03"}, []string{"id-04", "id-05", "id-06"}},
		{"after a missing ID", notifyd.SubscriptionFilter{After: "id-025"}, []string{"id-03", "id-04", "id-05", "id-06"}},
		{"after the last", notifyd.SubscriptionFilter{After: "id-06"}, nil},
		{"limit", notifyd.SubscriptionFilter{Limit: 2}, []string{"id-01", "id-02"}},
		{"limit above the count", notifyd.SubscriptionFilter{Limit: 100}, []string{"id-01", "id-02", "id-03", "id-04", "id-05", "id-06"}},
		{"system, after and limit", notifyd.SubscriptionFilter{System: "bedework", After: "id-01", Limit: 2}, []string{"id-02", "id-04"}},
		{"all filters", notifyd.SubscriptionFilter{System: "bedework", Principal: "/p/fred", After: "id-01", Limit: 1}, []string{"id-04"}},
		{"unknown system", notifyd.SubscriptionFilter{System: "google"}, nil},
		{"system matched exactly", notifyd.SubscriptionFilter{System: "Bedework"}, nil},
		{"principal matched exactly", notifyd.SubscriptionFilter{Principal: "/p/fred/"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subs, err := db.Subscriptions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range subs {
				ids = append(ids, s.ID)
				if len(s.Methods) != 3 || s.Locale != "fr-CA" {
					t.Errorf("%s read back incompletely: %+v", s.ID, s)
				}
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("IDs = %v, want %v", ids, tc.want)
			}
		})
	}

	// Walking the cursor visits every row once, in order.
	var walked []string
	f := notifyd.SubscriptionFilter{Limit: 4}
	for {
		subs, err := db.Subscriptions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) == 0 {
			break
		}
		for _, s := range subs {
			walked = append(walked, s.ID)
		}
		f.After = subs[len(subs)-1].ID
	}
	if want := []string{"id-01", "id-02", "id-03", "id-04", "id-05", "id-06"}; !slices.Equal(walked, want) {
		t.Errorf("cursor walk = %v, want %v", walked, want)
	}
}

func TestMarkDirty(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	fred := PrincipalKey{System: "bedework", Principal: "/p/fred"}
	wilma := PrincipalKey{System: "bedework", Principal: "/p/wilma"}
	fredApple := PrincipalKey{System: "apple", Principal: "/p/fred"}

	if _, err := db.Principal(ctx, fred.System, fred.Principal); !errors.Is(err, notifyd.ErrNotFound) {
		t.Fatalf("Principal before any ping: %v, want ErrNotFound", err)
	}

	t1 := at
	t2 := at.Add(3*time.Second + 7*time.Microsecond)
	mark := func(when time.Time, keys ...PrincipalKey) []bool {
		t.Helper()
		var need []bool
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			need, err = MarkDirty(ctx, tx, keys, when)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return need
	}
	if need := mark(t1, fred, wilma); !reflect.DeepEqual(need, []bool{true, true}) {
		t.Fatalf("first pings need jobs %v, want both", need)
	}
	p, err := db.Principal(ctx, fred.System, fred.Principal)
	if err != nil {
		t.Fatal(err)
	}
	want := &PrincipalState{PrincipalKey: fred, DirtyGen: 1, FirstPingAt: t1, LastPingAt: t1, Queued: true}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("after the first ping: %+v, want %+v", p, want)
	}

	// fred's job is still queued: his second ping joins it; fred of
	// another system is another principal.
	if need := mark(t2, fred, fredApple); !reflect.DeepEqual(need, []bool{false, true}) {
		t.Fatalf("second pings need jobs %v, want only the new principal's", need)
	}
	p, err = db.Principal(ctx, fred.System, fred.Principal)
	if err != nil {
		t.Fatal(err)
	}
	want = &PrincipalState{PrincipalKey: fred, DirtyGen: 2, FirstPingAt: t1, LastPingAt: t2, Queued: true}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("after the second ping: %+v, want %+v", p, want)
	}
	for _, k := range []struct {
		key PrincipalKey
		gen int64
	}{{wilma, 1}, {fredApple, 1}} {
		p, err := db.Principal(ctx, k.key.System, k.key.Principal)
		if err != nil {
			t.Fatal(err)
		}
		if p.DirtyGen != k.gen {
			t.Errorf("%v: DirtyGen = %d, want %d (principals are per system)", k.key, p.DirtyGen, k.gen)
		}
	}

	// wilma's job finishes with no ping since it started: it is released,
	// and her next ping queues a new one.
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		out, err := RecordSync(ctx, tx, SyncRecord{System: wilma.System, Principal: wilma.Principal, Token: "t1", SyncedGen: 1, Now: t2})
		if err == nil && out.Again {
			t.Error("RecordSync says wilma was pinged during her sync; she was not")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if need := mark(t2, wilma); !reflect.DeepEqual(need, []bool{true}) {
		t.Fatalf("ping after the job was released needs %v, want a job", need)
	}
	// fred's job finishes from generation 1 but he was pinged again (2):
	// it stays queued and must run again.
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		out, err := RecordSync(ctx, tx, SyncRecord{System: fred.System, Principal: fred.Principal, Token: "t1", SyncedGen: 1, Now: t2})
		if err == nil && !out.Again {
			t.Error("RecordSync released fred's job though he was pinged during the sync")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if need := mark(t2, fred); !reflect.DeepEqual(need, []bool{false}) {
		t.Fatalf("ping while fred's job must run again needs %v, want none", need)
	}

	// No keys: nothing to do, and no error.
	if need := mark(t2); len(need) != 0 {
		t.Errorf("MarkDirty with no keys: %v", need)
	}
}

func TestWriteRollsBack(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	key := PrincipalKey{System: "bedework", Principal: "/p/fred"}
	boom := errors.New("boom")
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		if _, err := MarkDirty(ctx, tx, []PrincipalKey{key}, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`)
VALUES ('x', 's', '/p', TRUE, '[]', 'en', 'UTC', '[]', 1, 0, 0, FALSE)`); err != nil {
			return err
		}
		return fmt.Errorf("later step: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want fn's error", err)
	}
	if errors.Is(err, notifyd.ErrUnavailable) {
		t.Errorf("fn's own error classified as unavailable: %v", err)
	}
	if _, err := db.Principal(ctx, key.System, key.Principal); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("principal state after rollback: %v, want ErrNotFound", err)
	}
	if _, err := db.Subscription(ctx, "x"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("subscription after rollback: %v, want ErrNotFound", err)
	}

	// The connection is usable afterwards: the transaction did not leak.
	for range 20 {
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			_, err := MarkDirty(ctx, tx, []PrincipalKey{key}, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := db.Principal(ctx, key.System, key.Principal); err != nil || p.DirtyGen != 20 {
		t.Errorf("after 20 committed pings: %+v, %v", p, err)
	}
}

func TestClassify(t *testing.T) {
	plain := errors.New("plain")
	wrapped := fmt.Errorf("%w: disk full", notifyd.ErrUnavailable)
	for _, tc := range []struct {
		name string
		in   error
		want error // nil: Classify(in) must be in itself
	}{
		{"nil", nil, nil},
		{"plain", plain, nil},
		{"not found", notifyd.ErrNotFound, nil},
		{"conflict", notifyd.ErrConflict, nil},
		{"no rows", sql.ErrNoRows, nil},
		{"already unavailable", wrapped, nil},
	} {
		if got := Classify(tc.in); got != tc.in {
			t.Errorf("%s: Classify(%v) = %v, want it unchanged", tc.name, tc.in, got)
		}
	}
}

// TestClassifyReadOnly checks that a write the database refuses because it
// is read-only comes back as notifyd.ErrUnavailable (the API answers 503
// and the caller retries) rather than as an internal error. The database is
// opened a second time in SQLite's read-only mode, which holds for root
// too, unlike file permissions.
func TestClassifyReadOnly(t *testing.T) {
	onlySQLite(t, "opens the database file in SQLite's read-only mode")
	ctx := context.Background()
	db := migratedDB(t)
	if err := db.CreateSubscription(ctx, sampleSub("existing")); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", "file:"+db.path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rodb := newDB(ro, ro, db.path, nil, db.path, nil)

	// Reads work.
	if _, err := rodb.Subscription(ctx, "existing"); err != nil {
		t.Fatalf("read through the read-only handle: %v", err)
	}

	checks := []struct {
		name  string
		write func() error
	}{
		{"CreateSubscription", func() error { return rodb.CreateSubscription(ctx, sampleSub("new")) }},
		{"UpdateSubscription", func() error { return rodb.UpdateSubscription(ctx, sampleSub("existing"), 0) }},
		{"DeleteSubscription", func() error { return rodb.DeleteSubscription(ctx, "existing", 0) }},
		{"Write MarkDirty", func() error {
			return rodb.Write(ctx, Durable, func(tx *sql.Tx) error {
				_, err := MarkDirty(ctx, tx, []PrincipalKey{{System: "s", Principal: "/p"}}, at)
				return err
			})
		}},
		{"Classify of a raw exec", func() error {
			_, err := ro.ExecContext(ctx, `DELETE FROM subscriptions`)
			if err == nil {
				return nil
			}
			if errors.Is(err, notifyd.ErrUnavailable) {
				return errors.New("the driver's error already is ErrUnavailable: the check proves nothing")
			}
			return Classify(err)
		}},
	}
	for _, c := range checks {
		err := c.write()
		if err == nil {
			t.Errorf("%s through a read-only handle succeeded", c.name)
			continue
		}
		if !errors.Is(err, notifyd.ErrUnavailable) {
			t.Errorf("%s through a read-only handle: %v, want errors.Is(err, notifyd.ErrUnavailable)", c.name, err)
		}
		if !strings.Contains(strings.ToLower(err.Error()), "readonly") && !strings.Contains(strings.ToLower(err.Error()), "read-only") &&
			!strings.Contains(strings.ToLower(err.Error()), "read only") {
			t.Logf("%s: error does not say read-only: %v", c.name, err)
		}
	}

	// Nothing was written.
	if subs, err := db.Subscriptions(ctx, notifyd.SubscriptionFilter{}); err != nil || len(subs) != 1 || subs[0].ID != "existing" {
		t.Errorf("after refused writes: %v, %v", subs, err)
	}
}
