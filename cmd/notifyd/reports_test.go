package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/store"
)

func TestMain(m *testing.M) { os.Exit(peertest.WithPostgres(m.Run)) }

// The bounce package's fixtures are for delivery fixtureID, with the
// bounce address fixtureAddr made under fixtureKey.
const (
	fixtureID   = "5f2b8c1e9a7d4036b1e2c3d4e5f60718"
	fixtureAddr = "bounces+5f2b8c1e9a7d4036b1e2c3d4e5f60718-2f3c468ba4750cc5@bounces.example.org"
	fixtureKey  = "0123456789abcdef0123456789abcdef"
)

// reportDB opens a new migrated database: SQLite, or PostgreSQL with
// NOTIFYD_TEST_DATABASE=postgres.
func reportDB(tb testing.TB) *store.DB {
	tb.Helper()
	var db *store.DB
	var err error
	if peertest.OnPostgres() {
		db, err = store.OpenPostgres(context.Background(), peertest.PostgresDatabase(tb))
	} else {
		db, err = store.OpenSQLite(filepath.Join(tb.TempDir(), "notifyd.db"))
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// sentEmails records one notification with a sent email delivery to
// each of addrs, with IDs ids.
func sentEmails(tb testing.TB, db *store.DB, ids, addrs []string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	rec := store.SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: now,
		Notifications: []store.NotificationRecord{{ID: "n-" + ids[0], Href: "/n/" + ids[0] + ".xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}}}
	for i, id := range ids {
		rec.Deliveries = append(rec.Deliveries, store.DeliveryRecord{ID: id, NotificationID: "n-" + ids[0], SubscriptionID: "s",
			MethodID: "m-" + id, Channel: "email", Address: addrs[i]})
	}
	err := db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := store.RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: id, Status: store.DeliverySent, Now: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func fixtureVERP(tb testing.TB) *bounce.VERP {
	tb.Helper()
	v, err := bounce.NewVERP("", "bounces.example.org", []byte(fixtureKey))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// fixtureFor is the bounce package's fixture file made about delivery
// id: its bounce address replaced by id's.
func fixtureFor(tb testing.TB, v *bounce.VERP, file, id string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "bounce", "testdata", file))
	if err != nil {
		tb.Fatal(err)
	}
	addr, err := v.Address(id)
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(raw), fixtureAddr, addr))
}

// A complaint read from a feedback report suppresses the address of the
// delivery it names (reason complaint, with the feedback type and the
// provider), once however often it comes, and leaves the delivery sent;
// with the recipient redacted, the delivery's address is the one
// suppressed. A not-spam report and a complaint about a delivery that is
// gone change nothing and are not errors (the listener would answer 451
// and the provider send it again). Each is counted.
func TestRecordReportsAppliesComplaints(t *testing.T) {
	ctx := context.Background()
	db := reportDB(t)
	sentEmails(t, db, []string{"d1", "d2", "d3"}, []string{"Wilma@Example.net", "barney@example.net", "fred@example.net"})
	v := fixtureVERP(t)
	m := newReportMetrics(prometheus.NewRegistry())
	handle := recordReports(db, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	apply := func(file, rcpt, id string) {
		t.Helper()
		r, err := bounce.Parse(fixtureFor(t, v, file, id), rcpt, v)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := handle(ctx, r); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	apply("yahoo-arf.eml", v.FeedbackAddress(), "d1")
	apply("yahoo-arf.eml", "", "d1") // the same report from the mailbox
	s, err := db.Suppressed(ctx, "email", "wilma@example.net")
	if err != nil || s == nil || s.Reason != store.SuppressComplaint ||
		s.Detail != "feedback type abuse from arf.mail.yahoo.com (Yahoo!-Mail-Feedback/2.0)" {
		t.Fatalf("suppression of wilma: %+v, %v", s, err)
	}
	if d, err := db.Delivery(ctx, "d1"); err != nil || d.Status != store.DeliverySent {
		t.Errorf("delivery d1: %+v, %v; want it sent still", d, err)
	}
	events, err := db.DeliveryEvents(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	complaints := 0
	for _, e := range events {
		if e.Kind == store.EventComplaint {
			complaints++
		}
	}
	if complaints != 1 {
		t.Errorf("%d complaint events on d1, want 1: %+v", complaints, events)
	}

	apply("microsoft-jmrp.eml", v.FeedbackAddress(), "d2") // recipient redacted
	if s, err := db.Suppressed(ctx, "email", "barney@example.net"); err != nil || s == nil || s.Reason != store.SuppressComplaint ||
		!strings.Contains(s.Detail, "hotmail.com") {
		t.Errorf("suppression of barney: %+v, %v", s, err)
	}

	notSpam := strings.Replace(string(fixtureFor(t, v, "yahoo-arf.eml", "d3")), "Feedback-Type: abuse", "Feedback-Type: not-spam", 1)
	r, err := bounce.Parse([]byte(notSpam), "", v)
	if err != nil || handle(ctx, r) != nil {
		t.Fatalf("not-spam: %+v, %v", r, err)
	}
	if s, _ := db.Suppressed(ctx, "email", "fred@example.net"); s != nil {
		t.Errorf("a not-spam report suppressed %+v", s)
	}
	apply("arf-headers-only.eml", "", "d4") // no such delivery (pruned)

	for _, c := range []struct {
		kind    bounce.Kind
		outcome string
		want    float64
	}{
		{bounce.Complaint, reportRecorded, 2}, {bounce.Complaint, reportDuplicate, 1},
		{bounce.Complaint, reportNoSuch, 1}, {bounce.NotSpam, reportIgnored, 1},
	} {
		if got := testutil.ToFloat64(m.reports.WithLabelValues(string(c.kind), c.outcome)); got != c.want {
			t.Errorf("notifyd_bounce_reports_total{kind=%q,outcome=%q} = %v, want %v", c.kind, c.outcome, got, c.want)
		}
	}
}

// Bounces are counted too: a hard bounce recorded, then again.
func TestRecordReportsCountsBounces(t *testing.T) {
	ctx := context.Background()
	db := reportDB(t)
	sentEmails(t, db, []string{"d1"}, []string{"wilma@example.net"})
	v := fixtureVERP(t)
	m := newReportMetrics(prometheus.NewRegistry())
	handle := recordReports(db, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	for range 2 {
		addr, _ := v.Address("d1")
		r, err := bounce.Parse(fixtureFor(t, v, "rfc3464.eml", "d1"), addr, v)
		if err != nil || handle(ctx, r) != nil {
			t.Fatalf("%+v, %v", r, err)
		}
	}
	if d, err := db.Delivery(ctx, "d1"); err != nil || d.Status != store.DeliveryBounced {
		t.Errorf("delivery: %+v, %v; want bounced", d, err)
	}
	if r, d := testutil.ToFloat64(m.reports.WithLabelValues("hard", reportRecorded)), testutil.ToFloat64(m.reports.WithLabelValues("hard", reportDuplicate)); r != 1 || d != 1 {
		t.Errorf("hard bounces: %v recorded, %v duplicate; want 1 and 1", r, d)
	}
}
