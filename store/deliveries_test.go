package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// An SMS provider's status callback finds its delivery by the message's
// SID through an index, and a callback naming another channel's provider
// ID (an email's Message-ID) finds nothing.
func TestProviderStatus(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now()
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: now,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d-sms", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "sms", Address: "+15550100"},
			{ID: "d-email", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "email", Address: "w@example.org"},
		}}
	recordSync(t, db, rec,
		DeliveryOutcome{ID: "d-sms", Status: DeliverySent, ProviderID: "SM123", Now: now},
		DeliveryOutcome{ID: "d-email", Status: DeliverySent, ProviderID: "<m1@example.org>", Now: now})

	d, err := db.ProviderStatus(ctx, "sms", "SM123", DeliveryDelivered, "", now)
	if err != nil || d.ID != "d-sms" || d.Status != DeliveryDelivered {
		t.Fatalf("ProviderStatus(sms) = %+v, %v; want d-sms delivered", d, err)
	}
	if _, err := db.ProviderStatus(ctx, "email", "<m1@example.org>", DeliveryDelivered, "", now); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("ProviderStatus(email) = %v, want not found (no email provider reports back)", err)
	}

	onlySQLite(t, "reads SQLite's query plan")
	if plan := queryPlan(t, db, deliveryByProviderID, "sms", "SM123"); !strings.Contains(plan, "deliveries_by_sms_provider_id") {
		t.Errorf("a status callback's lookup does not use the SMS provider index; plan:\n%s", plan)
	}
}

// recordSync writes a sync's outcome, then the outcomes of attempts at
// its deliveries, in one transaction.
func recordSync(t *testing.T, db *DB, rec SyncRecord, outcomes ...DeliveryOutcome) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		if _, err := RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		for _, o := range outcomes {
			if _, err := RecordDeliveryAttempt(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// queryPlan returns SQLite's plan for query.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	var plan strings.Builder
	err := db.each(context.Background(), "EXPLAIN QUERY PLAN "+query, args, func(r scanner) error {
		var id, parent, unused int
		var detail string
		err := r.Scan(&id, &parent, &unused, &detail)
		plan.WriteString(detail + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// The delivery log filters by status: the statuses operators look for
// (queued, retrying, failed) through the partial status index, the sent
// ones (most of the table) in time order; and the dead letters are
// counted by channel through the index.
func TestDeliveriesByStatus(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now()
	var ds []DeliveryRecord
	for _, id := range []string{"d-sent", "d-failed", "d-queued"} {
		ds = append(ds, DeliveryRecord{ID: id, NotificationID: "n1", SubscriptionID: "s", MethodID: id, Channel: "email", Address: id + "@example.org"})
	}
	recordSync(t, db, SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: now,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries:    ds},
		DeliveryOutcome{ID: "d-sent", Status: DeliverySent, Now: now},
		DeliveryOutcome{ID: "d-failed", Status: DeliveryFailed, Now: now})
	for status, want := range map[string]string{DeliverySent: "d-sent", DeliveryFailed: "d-failed", DeliveryQueued: "d-queued", DeliveryRetrying: ""} {
		got, err := db.Deliveries(ctx, DeliveryFilter{Status: status, Limit: 10})
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if err != nil || strings.Join(ids, ",") != want {
			t.Errorf("deliveries %s = %v, %v; want [%s]", status, ids, err, want)
		}
	}
	if counts, err := db.DeadLetterCounts(ctx); err != nil || len(counts) != 1 || counts["email"] != 1 {
		t.Errorf("DeadLetterCounts = %v, %v; want email: 1", counts, err)
	}

	onlySQLite(t, "reads SQLite's query plan")
	q, args := deliveriesQuery(DeliveryFilter{System: "cal", Status: DeliveryFailed, Limit: 10})
	if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, "deliveries_by_status") {
		t.Errorf("listing the failed deliveries does not use deliveries_by_status; plan:\n%s", plan)
	}
	if plan := queryPlan(t, db, deadLetterCountsQuery, DeliveryFailed); !strings.Contains(plan, "deliveries_by_status") {
		t.Errorf("counting the dead letters does not use deliveries_by_status; plan:\n%s", plan)
	}
}

// A discarded delivery is final, as sent and failed ones are: no job
// sends it, and it counts as done when its notification settles.
func TestDeliveryFinal(t *testing.T) {
	for status, final := range map[string]bool{DeliveryQueued: false, DeliveryRetrying: false, DeliverySent: true,
		DeliveryFailed: true, DeliverySkipped: true, DeliveryDiscarded: true} {
		if DeliveryFinal(status) != final {
			t.Errorf("DeliveryFinal(%s) = %v, want %v", status, !final, final)
		}
	}
}
