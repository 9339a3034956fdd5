package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// Every attempt at a delivery is kept, with when it started and ended,
// its outcome and the provider's reply, in the write that records the
// outcome; so are its hold, release, an operator's retry and discard, and
// the provider's later report.
func TestDeliveryEvents(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	t0 := at
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: t0,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d1", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "sms", Address: "+15550100"},
			{ID: "d2", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "email", Address: "w@example.org"},
		}}
	long := strings.Repeat("é", MaxEventDetail) // 2 bytes each
	recordSync(t, db, rec,
		DeliveryOutcome{ID: "d1", Status: DeliveryRetrying, Error: "421 try later", Started: t0.Add(time.Second), Now: t0.Add(2 * time.Second)},
		DeliveryOutcome{ID: "d1", Status: DeliverySent, ProviderID: "SM1", Started: t0.Add(time.Minute), Now: t0.Add(time.Minute + time.Second)},
		DeliveryOutcome{ID: "d2", Status: DeliveryFailed, Error: long, Now: t0.Add(time.Second)})
	if _, err := db.ProviderStatus(ctx, "sms", "SM1", DeliveryDelivered, "", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := RequeueDelivery(ctx, tx, "d2", t0.Add(3*time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		held, err := HoldDelivery(ctx, tx, "d2", t0.Add(time.Hour), "quiet-hours", false, t0.Add(4*time.Minute))
		if err != nil || !held {
			t.Errorf("HoldDelivery = %v, %v", held, err)
		}
		_, err = ReleaseHeld(ctx, tx, []string{"d2"}, t0.Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	got, err := db.DeliveryEvents(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	want := []DeliveryEvent{
		{DeliveryID: "d1", Kind: EventAttempt, Attempt: 1, StartedAt: t0.Add(time.Second), At: t0.Add(2 * time.Second),
			Status: DeliveryRetrying, Detail: "421 try later"},
		{DeliveryID: "d1", Kind: EventAttempt, Attempt: 2, StartedAt: t0.Add(time.Minute), At: t0.Add(time.Minute + time.Second),
			Status: DeliverySent, ProviderID: "SM1"},
		{DeliveryID: "d1", Kind: EventProvider, StartedAt: t0.Add(2 * time.Minute), At: t0.Add(2 * time.Minute),
			Status: DeliveryDelivered, ProviderID: "SM1"},
	}
	checkEvents(t, "d1", got, want)

	got, err = db.DeliveryEvents(ctx, "d2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("d2 has %d events, want 4 (attempt, requeued, held, released): %+v", len(got), got)
	}
	if d := got[0].Detail; len(d) > MaxEventDetail || !utf8.ValidString(d) || !strings.HasSuffix(d, "…") {
		t.Errorf("a long error is kept as %d bytes (valid UTF-8: %v), want at most %d ending with …",
			len(d), utf8.ValidString(d), MaxEventDetail)
	}
	got[0].Detail = ""
	checkEvents(t, "d2", got, []DeliveryEvent{
		{DeliveryID: "d2", Kind: EventAttempt, Attempt: 1, StartedAt: t0.Add(time.Second), At: t0.Add(time.Second), Status: DeliveryFailed},
		{DeliveryID: "d2", Kind: EventRequeued, StartedAt: t0.Add(3 * time.Minute), At: t0.Add(3 * time.Minute), Status: DeliveryQueued},
		{DeliveryID: "d2", Kind: EventHeld, StartedAt: t0.Add(4 * time.Minute), At: t0.Add(4 * time.Minute), Status: DeliveryHeld,
			Detail: "quiet-hours", ReleaseAt: t0.Add(time.Hour)},
		{DeliveryID: "d2", Kind: EventReleased, StartedAt: t0.Add(time.Hour), At: t0.Add(time.Hour), Status: DeliveryQueued},
	})

	if got, err := db.DeliveryEvents(ctx, "none"); err != nil || len(got) != 0 {
		t.Errorf("DeliveryEvents(none) = %+v, %v; want nothing", got, err)
	}
}

// A discarded dead letter's history says so.
func TestDeliveryEventsDiscard(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: at,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries:    []DeliveryRecord{{ID: "d1", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "a@b"}}}
	recordSync(t, db, rec, DeliveryOutcome{ID: "d1", Status: DeliveryFailed, Error: "550 no such user", Now: at})
	if err := db.DiscardDelivery(ctx, "d1", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := db.DeliveryEvents(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, "d1", got, []DeliveryEvent{
		{DeliveryID: "d1", Kind: EventAttempt, Attempt: 1, StartedAt: at, At: at, Status: DeliveryFailed, Detail: "550 no such user"},
		{DeliveryID: "d1", Kind: EventDiscarded, StartedAt: at.Add(time.Minute), At: at.Add(time.Minute), Status: DeliveryDiscarded},
	})
}

func checkEvents(t *testing.T, id string, got, want []DeliveryEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d:\n got %+v\nwant %+v", id, len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Attempt != w.Attempt || !g.StartedAt.Equal(w.StartedAt) || !g.At.Equal(w.At) ||
			g.Status != w.Status || g.ProviderID != w.ProviderID || g.Detail != w.Detail || !g.ReleaseAt.Equal(w.ReleaseAt) ||
			g.DeliveryID != w.DeliveryID {
			t.Errorf("%s: event %d = %+v\nwant %+v", id, i, g, w)
		}
	}
}

// A dead notification discarded is done, says so, and leaves the list,
// audited in the same write; discarding it again is a conflict.
func TestDiscardDeadNotification(t *testing.T) {
	ctx := WithAudit(context.Background(), Audit{Actor: AuditActor{Kind: ActorKindAPIKey, Name: "ops"}})
	db := migratedDB(t)
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: at,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "other", Parsed: []byte("{}"),
			Status: NotificationDead, Error: "not XML"}}}
	recordSync(t, db, rec)
	if err := db.DiscardDeadNotification(ctx, "n1", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if dead, err := db.DeadNotifications(ctx, NotificationFilter{Limit: 10}); err != nil || len(dead) != 0 {
		t.Errorf("dead notifications after the discard: %+v, %v", dead, err)
	}
	n, err := db.Notification(ctx, "n1")
	if err != nil || n.Status != NotificationDone || !strings.Contains(n.Error, "discarded") || !strings.Contains(n.Error, "not XML") {
		t.Errorf("discarded notification %+v, %v", n, err)
	}
	if err := db.DiscardDeadNotification(ctx, "n1", at); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("discarding it again: %v, want a conflict", err)
	}
	if err := db.DiscardDeadNotification(ctx, "none", at); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("discarding none: %v, want not found", err)
	}
	audit, err := db.AuditEntries(ctx, AuditFilter{ResourceID: "n1", Limit: 10})
	if err != nil || len(audit) != 1 || audit[0].Action != ActionDeadNotificationDiscarded || audit[0].Actor.Name != "ops" ||
		audit[0].System != "cal" || !strings.Contains(string(audit[0].Before), `"dead"`) {
		t.Errorf("audit %+v, %v", audit, err)
	}
}
