package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// deliveryIDsOfType lists the IDs of the deliveries the delivery log
// finds for a notification type, oldest first.
func deliveryIDsOfType(t *testing.T, db *DB, typ string) []string {
	t.Helper()
	items, err := db.Deliveries(context.Background(), DeliveryFilter{Type: typ, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

// A search of the delivery log by notification type finds the deliveries
// of every path that makes one: a sync's, a fallback's, and one recorded
// unsent (suppressed); a type no delivery has finds none.
func TestDeliveryLogByTypeFindsEveryPath(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	d := func(id, n, status string) DeliveryRecord {
		return DeliveryRecord{ID: id, NotificationID: n, SubscriptionID: "s1", MethodID: "m1", Channel: "email",
			Address: "fred@example.org", Status: status}
	}
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := AddNotifications(ctx, tx, "cal", "/p/fred", []NotificationRecord{
			{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "share-invite", Parsed: []byte("{}")},
			{ID: "n2", Href: "/n/2.xml", ETag: `"1"`, Type: "share-reply", Parsed: []byte("{}")},
		}, []DeliveryRecord{d("d1", "n1", "")}, at)
		if err != nil {
			return err
		}
		if _, err := AddDelivery(ctx, tx, "cal", "/p/fred", d("d2", "n1", ""), at.Add(1)); err != nil {
			return err
		}
		return AddUnsentDeliveries(ctx, tx, "cal", "/p/fred", []DeliveryRecord{d("d3", "n2", DeliverySuppressed)}, at.Add(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string][]string{"share-invite": {"d1", "d2"}, "share-reply": {"d3"}, "approval": nil} {
		if got := deliveryIDsOfType(t, db, typ); !slices.Equal(got, want) {
			t.Errorf("deliveries of type %s: %v, want %v", typ, got, want)
		}
	}
}

// Upgrading a database whose deliveries predate their copy of the
// notification type (migration 00021) fills it: the search by type finds
// them.
func TestDeliveryTypeFilledOnUpgrade(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	if _, err := db.goose.UpTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(`INSERT INTO notifications (id, system, principal, href, etag, type, parsed, status, created_at)
VALUES ('n1', 'cal', '/p/fred', '/n/1.xml', '"1"', 'share-invite', '{}', 'done', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(`INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, status, created_at, updated_at, queued_at)
VALUES ('d1', 'n1', 'cal', '/p/fred', 's1', 'm1', 'email', 'fred@example.org', 'sent', 1, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDsOfType(t, db, "share-invite"); !slices.Equal(got, []string{"d1"}) {
		t.Errorf("deliveries of type share-invite after the upgrade: %v, want [d1]", got)
	}
}
