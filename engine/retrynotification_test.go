package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// A dead notification retried while the cause lasts is dead again, with
// the reason; retried once it is fixed, it is delivered like any other.
// Each retry is in the audit trail; a notification that is not dead
// cannot be retried.
func TestRetriedDeadNotificationIsDelivered(t *testing.T) {
	t.Parallel()
	ctx := store.WithAudit(context.Background(), store.Audit{Actor: store.AuditActor{Kind: store.ActorKindAPIKey, Name: "ops"}})
	r := newRig(t, engine.PolicyKeep)
	ends := r.jobEnds(t)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("bad.xml", inviteXML("bad"))
	r.dav.tooLarge = "/dav/notifications/user/wilma/bad.xml"
	r.ping(t, principal)
	r.settle(t)
	dead := deadNotifications(t, r)
	if len(dead) != 1 || !strings.Contains(dead[0].Error, "too large") {
		t.Fatalf("dead notifications %+v, want the large one", dead)
	}
	retryKind := engine.RetryNotificationArgs{}.Kind()

	// Still too large: dead again.
	if _, err := r.eng.RetryNotification(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	nextEnd(t, ends, retryKind, river.EventKindJobCompleted)
	if again := deadNotifications(t, r); len(again) != 1 || again[0].ID != dead[0].ID || !strings.Contains(again[0].Error, "too large") {
		t.Fatalf("after a retry with the cause still there: %+v, want it dead again", again)
	}
	if n := len(r.email.sentTo()); n != 0 {
		t.Fatalf("sent %d", n)
	}

	// Fixed (the server's limit raised): delivered.
	r.dav.locked(func() { r.dav.tooLarge = "" })
	if _, err := r.eng.RetryNotification(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	nextEnd(t, ends, retryKind, river.EventKindJobCompleted)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "wilma@example.org" {
		t.Fatalf("sent %v after the fixed retry, want the invite once", got)
	}
	if again := deadNotifications(t, r); len(again) != 0 {
		t.Fatalf("still dead: %+v", again)
	}
	var status string
	if err := testdb.QueryRow(r.db, `SELECT status FROM notifications WHERE id = $1`, dead[0].ID).Scan(&status); err != nil ||
		status == store.NotificationDead {
		t.Fatalf("the notification is %q (%v), want it read and delivered", status, err)
	}
	if _, err := r.eng.RetryNotification(ctx, dead[0].ID); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("retry of a notification no longer dead: %v, want a conflict", err)
	}
	if _, err := r.eng.RetryNotification(ctx, "none"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("retry of no notification: %v, want not found", err)
	}
	audit, err := r.db.AuditEntries(ctx, store.AuditFilter{Action: store.ActionDeadNotificationRetried, Limit: 10})
	if err != nil || len(audit) != 2 || audit[0].Actor.Name != "ops" || audit[0].ResourceID != dead[0].ID {
		t.Errorf("audit %+v, %v; want both retries by ops", audit, err)
	}
}

func deadNotifications(t *testing.T, r *rig) []store.NotificationRecord {
	t.Helper()
	dead, err := r.db.DeadNotifications(context.Background(), store.NotificationFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return dead
}
