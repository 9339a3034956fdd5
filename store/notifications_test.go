package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The sweep finds a notification whose deliveries are all final but whose
// after-delivery policy was not applied, and the dead notifications are
// listed by principal; both through partial indexes of their status.
func TestSettledAndDeadNotifications(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now()
	rec := func(principal string, ns []NotificationRecord, ds []DeliveryRecord, outcomes ...DeliveryOutcome) {
		t.Helper()
		recordSync(t, db, SyncRecord{System: "cal", Principal: principal, Token: "t", Now: now,
			Notifications: ns, Deliveries: ds}, outcomes...)
	}
	rec("/p/wilma/", []NotificationRecord{
		{ID: "settled", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
		{ID: "waiting", Href: "/n/2.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
		{ID: "dead-w", Href: "/n/3.xml", ETag: `"1"`, Type: "other", Parsed: []byte("{}"), Status: NotificationDead, Error: "not XML"},
	}, []DeliveryRecord{
		{ID: "d1", NotificationID: "settled", SubscriptionID: "s", MethodID: "m", Channel: "email", Address: "w@example.org"},
		{ID: "d2", NotificationID: "waiting", SubscriptionID: "s", MethodID: "m", Channel: "email", Address: "w@example.org"},
	}, DeliveryOutcome{ID: "d1", Status: DeliverySent, Now: now})
	rec("/p/fred/", []NotificationRecord{
		{ID: "dead-f", Href: "/n/4.xml", ETag: `"1"`, Type: "other", Parsed: []byte("{}"), Status: NotificationDead, Error: "too large"},
	}, nil)

	ids, err := db.Unfinished(ctx, now.Add(time.Second), 10)
	if err != nil || strings.Join(ids, ",") != "settled" {
		t.Errorf("Unfinished = %v, %v; want [settled]", ids, err)
	}
	if err := db.FinishNotification(ctx, "settled", "deleted", true, now); err != nil {
		t.Fatal(err)
	}
	if ids, err := db.Unfinished(ctx, now.Add(time.Second), 10); err != nil || len(ids) != 0 {
		t.Errorf("Unfinished after the policy = %v, %v; want none", ids, err)
	}
	dead, err := db.DeadNotifications(ctx, NotificationFilter{System: "cal", Principal: "/p/wilma/", Limit: 10})
	if err != nil || len(dead) != 1 || dead[0].ID != "dead-w" || dead[0].Error != "not XML" {
		t.Errorf("wilma's dead notifications = %+v, %v; want dead-w, not XML", dead, err)
	}

	onlySQLite(t, "reads SQLite's query plan")
	if plan := queryPlan(t, db, unfinishedQuery, 0, 10); !strings.Contains(plan, "notifications_settled") {
		t.Errorf("the sweep's lookup does not use notifications_settled; plan:\n%s", plan)
	}
	q, args := deadNotificationsQuery(NotificationFilter{System: "cal", Principal: "/p/wilma/", Limit: 10})
	if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, "notifications_dead") {
		t.Errorf("the dead notifications' listing does not use notifications_dead; plan:\n%s", plan)
	}
}
