package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"testing"
	"time"
)

// backlogIs fails t unless Backlog counts want (every kind present).
func backlogIs(t *testing.T, db *DB, step string, want map[string]int64) {
	t.Helper()
	got, err := db.Backlog(context.Background())
	if err != nil {
		t.Fatalf("%s: Backlog: %v", step, err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s: Backlog = %v, want %v", step, got, want)
	}
}

// The backlog follows work through notifyd: a pinged principal's sync
// counts until the sync is recorded or given up, a delivery until it is
// final (retrying counts: it will be tried again), and a settled
// notification until its after-delivery policy is applied, queued as a
// job or not; a dead letter an operator retries counts again.
func TestBacklog(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inTx := func(fn func(*sql.Tx) error) { t.Helper(); must(db.Write(ctx, Durable, fn)) }
	counts := func(syncs, deliveries, policies int64) map[string]int64 {
		return map[string]int64{BacklogSyncs: syncs, BacklogDeliveries: deliveries, BacklogPolicies: policies, BacklogPublished: 0, BacklogUpdates: 0}
	}
	attempt := func(o DeliveryOutcome) {
		t.Helper()
		o.Now = now
		inTx(func(tx *sql.Tx) error { _, err := RecordDeliveryAttempt(ctx, tx, o); return err })
	}
	ping := func(principals ...string) {
		t.Helper()
		var keys []PrincipalKey
		for _, p := range principals {
			keys = append(keys, PrincipalKey{"cal", p})
		}
		inTx(func(tx *sql.Tx) error { _, err := MarkDirty(ctx, tx, keys, now); return err })
	}

	backlogIs(t, db, "empty", counts(0, 0, 0))
	ping("/p/wilma/", "/p/fred/")
	ping("/p/wilma/") // joins wilma's queued sync
	backlogIs(t, db, "two principals pinged", counts(2, 0, 0))

	// wilma's sync started from her second ping: it is recorded and
	// released, leaving three deliveries to send; a dead notification is
	// no work.
	var again bool
	inTx(func(tx *sql.Tx) error {
		out, err := RecordSync(ctx, tx, SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t", SyncedGen: 2, Now: now,
			Notifications: []NotificationRecord{
				{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
				{ID: "n2", Href: "/n/2.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
				{ID: "dead", Href: "/n/3.xml", ETag: `"1"`, Type: "other", Parsed: []byte("{}"), Status: NotificationDead, Error: "not XML"},
			},
			Deliveries: []DeliveryRecord{
				{ID: "d1", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "w@example.org"},
				{ID: "d2", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "sms", Address: "+15550100"},
				{ID: "d3", NotificationID: "n2", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "w@example.org"},
			}})
		again = out.Again
		return err
	})
	if again {
		t.Fatal("wilma's sync was not released")
	}
	backlogIs(t, db, "wilma synced", counts(1, 3, 0))
	again, err := db.GiveUpSync(ctx, "cal", "/p/fred/", "gone", true, 1)
	must(err)
	if again {
		t.Fatal("fred's sync was not released")
	}
	backlogIs(t, db, "fred given up", counts(0, 3, 0))

	attempt(DeliveryOutcome{ID: "d1", Status: DeliverySent})
	attempt(DeliveryOutcome{ID: "d2", Status: DeliveryRetrying, Error: "503"})
	backlogIs(t, db, "one sent, one retrying later", counts(0, 2, 0))
	attempt(DeliveryOutcome{ID: "d2", Status: DeliverySent, ProviderID: "SM1"})
	backlogIs(t, db, "n1 settled", counts(0, 1, 1))
	_, err = db.ProviderStatus(ctx, "sms", "SM1", DeliveryDelivered, "", now)
	must(err)
	attempt(DeliveryOutcome{ID: "d3", Status: DeliveryFailed, Error: "550"})
	backlogIs(t, db, "n2 settled, its delivery a dead letter", counts(0, 0, 2))

	// A policy queued as a job is still outstanding until applied.
	inTx(func(tx *sql.Tx) error { _, err := ClaimFinish(ctx, tx, "n2"); return err })
	backlogIs(t, db, "n2's policy queued", counts(0, 0, 2))
	must(db.FinishNotification(ctx, "n1", "deleted", true, now))
	must(db.FinishNotification(ctx, "n2", "deleted", true, now))
	backlogIs(t, db, "policies applied", counts(0, 0, 0))

	inTx(func(tx *sql.Tx) error { _, err := RequeueDelivery(ctx, tx, "d3", now); return err })
	backlogIs(t, db, "dead letter retried", counts(0, 1, 0))
	attempt(DeliveryOutcome{ID: "d3", Status: DeliverySent})
	backlogIs(t, db, "retried dead letter sent", counts(0, 0, 0))

	// A ping during a sync keeps the principal's sync outstanding.
	ping("/p/wilma/") // queues a sync, which starts from generation 3
	ping("/p/wilma/") // during the sync
	inTx(func(tx *sql.Tx) error {
		out, err := RecordSync(ctx, tx, SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t2", SyncedGen: 3, Now: now})
		again = out.Again
		return err
	})
	backlogIs(t, db, "wilma synced while pinged again", counts(1, 0, 0))
	if !again {
		t.Error("wilma's sync was released although she was pinged during it")
	}
}

// fillBacklog adds principals principal_state rows and as many
// notifications, each with one delivery, shaped like real ones; one in
// outstanding of each is outstanding work (a principal queued, a delivery
// queued or retrying, a notification settled), the rest is done.
func fillBacklog(tb testing.TB, db *DB, principals, outstanding int) {
	tb.Helper()
	ctx := context.Background()
	now := micros(time.Now())
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		for i := range principals {
			p := fmt.Sprintf("/principals/users/user%07d/", i)
			queued := i%outstanding == 0
			_, err := tx.ExecContext(ctx, `INSERT INTO principal_state (system, principal, dirty_gen, synced_gen, queued, enqueued_gen,
sync_token, first_ping_at, last_ping_at, collection_url, last_sync_at) VALUES ('cal', $1, 2, 1, $2, 2, $3, $4, $4, $5, $4)`,
				p, queued, fmt.Sprintf("http://cyrusimap.org/ns/sync/%d/%d", i, now), now,
				"https://cal.example.org/dav/notifications/user/user"+fmt.Sprint(i)+"/")
			if err != nil {
				return err
			}
			n := fmt.Sprintf("%016x%016x", i, now)
			nstatus, dstatus := NotificationDone, DeliverySent
			switch i % outstanding {
			case 1:
				nstatus, dstatus = NotificationDelivering, DeliveryQueued
			case 2:
				nstatus, dstatus = NotificationDelivering, DeliveryRetrying
			case 3:
				nstatus = NotificationDelivered
			case 4:
				dstatus = DeliveryFailed
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO notifications (id, system, principal, href, etag, type, parsed, status, created_at, settled_at)
VALUES ($1, 'cal', $2, $3, '"1"', 'invite-notification', '{"type":"invite-notification","summary":"Team meeting"}', $4, $5, $5)`,
				n, p, p+"notifications/"+n+".xml", nstatus, now)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, status, provider_id, attempts, created_at, updated_at, sent_at, queued_at)
VALUES ($1, $2, 'cal', $3, 'sub_0123456789abcdef', 'm_0000000000000001', 'email', 'user@example.org', $4, $5, 1, $6, $6, $6, $6)`,
				"d"+n, n, p, dstatus, "<"+n+"@notifyd.example.org>", now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBacklog measures a scrape's count of the backlog on 100,000
// principals, notifications and deliveries, 1% of each outstanding.
func BenchmarkBacklog(b *testing.B) {
	const principals, outstanding = 100_000, 100
	db := migratedDB(b)
	fillBacklog(b, db, principals, outstanding)
	want := map[string]int64{BacklogSyncs: principals / outstanding, BacklogDeliveries: 2 * principals / outstanding,
		BacklogPolicies: principals / outstanding, BacklogPublished: 0, BacklogUpdates: 0}
	ctx := context.Background()
	for b.Loop() {
		got, err := db.Backlog(ctx)
		if err != nil || !maps.Equal(got, want) {
			b.Fatalf("Backlog = %v, %v; want %v", got, err, want)
		}
	}
}
