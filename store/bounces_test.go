package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// A hard bounce of a sent email marks it bounced with the diagnostic and
// suppresses the address the report names (once, however often the
// report comes); a soft one is only kept in the delivery's history; a
// report for an unknown or non-email delivery is not found.
func TestRecordBounce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now()
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: now,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d-email", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "Wilma@Example.org"},
			{ID: "d-soft", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "email", Address: "w2@example.org"},
			{ID: "d-sms", NotificationID: "n1", SubscriptionID: "s", MethodID: "m3", Channel: "sms", Address: "+15550100"},
		}}
	recordSync(t, db, rec,
		DeliveryOutcome{ID: "d-email", Status: DeliverySent, Now: now},
		DeliveryOutcome{ID: "d-soft", Status: DeliverySent, Now: now},
		DeliveryOutcome{ID: "d-sms", Status: DeliverySent, Now: now})

	hard := Bounce{DeliveryID: "d-email", Hard: true, Recipient: "", Detail: "5.1.1 550 user unknown", At: now}
	out, err := db.RecordBounce(ctx, hard)
	if err != nil || !out.Bounced || out.Delivery.Status != DeliveryBounced || out.Suppressed != "wilma@example.org" {
		t.Fatalf("hard bounce: %+v, %v; want bounced, wilma@example.org suppressed", out, err)
	}
	d, err := db.Delivery(ctx, "d-email")
	if err != nil || d.Status != DeliveryBounced || d.LastError != hard.Detail {
		t.Fatalf("delivery after the bounce: %+v, %v", d, err)
	}
	if s, err := db.Suppressed(ctx, "email", "wilma@example.org"); err != nil || s == nil || s.Reason != SuppressHardBounce || s.Detail != hard.Detail ||
		s.DeliveryID != hard.DeliveryID {
		t.Fatalf("suppression: %+v, %v; want hard_bounce with the diagnostic and the delivery that bounced", s, err)
	}
	// Sent again: nothing more.
	out, err = db.RecordBounce(ctx, hard)
	if err != nil || out.Bounced || out.Delivery.Status != DeliveryBounced {
		t.Fatalf("the same report again: %+v, %v; want no change", out, err)
	}
	events, err := db.DeliveryEvents(ctx, "d-email")
	if err != nil {
		t.Fatal(err)
	}
	var bounces int
	for _, e := range events {
		if e.Kind == EventBounce {
			bounces++
		}
	}
	if bounces != 1 {
		t.Errorf("%d bounce events, want 1: %+v", bounces, events)
	}

	soft := Bounce{DeliveryID: "d-soft", Recipient: "w2@example.org", Detail: "4.2.2 mailbox full", At: now}
	if out, err := db.RecordBounce(ctx, soft); err != nil || out.Bounced || out.Suppressed != "" || out.Delivery.Status != DeliverySent {
		t.Fatalf("soft bounce: %+v, %v; want recorded only", out, err)
	}
	if s, _ := db.Suppressed(ctx, "email", "w2@example.org"); s != nil {
		t.Errorf("a soft bounce suppressed %+v", s)
	}

	for _, id := range []string{"d-sms", "nosuch"} {
		if _, err := db.RecordBounce(ctx, Bounce{DeliveryID: id, Hard: true, Detail: "5.0.0", At: now}); !errors.Is(err, notifyd.ErrNotFound) {
			t.Errorf("bounce of %s: %v, want not found", id, err)
		}
	}
}
