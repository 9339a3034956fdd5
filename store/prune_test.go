package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"
)

// pruneAll runs every rule with retention keep as of now, in batches of
// batch, until each has nothing left, and returns the rows deleted by
// rule.
func pruneAll(t testing.TB, db *DB, now time.Time, keep time.Duration, batch int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range []PruneRule{PruneDeliveries, PruneNotifications, PruneReminders, PrunePublished, PrunePendingUpdates, PruneAudit} {
		var after time.Time
		for {
			n, last, err := db.PruneBatch(context.Background(), r, now.Add(-keep), after, batch)
			if err != nil {
				t.Fatalf("prune %s: %v", r.Name, err)
			}
			out[r.Name] += n
			if n < batch {
				break
			}
			after = last
		}
	}
	return out
}

// ids returns the keys of a table, sorted.
func ids(t testing.TB, db *DB, q string) []string {
	t.Helper()
	var out []string
	err := db.each(context.Background(), q, nil, func(r scanner) error {
		var id string
		err := r.Scan(&id)
		out = append(out, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The pruner deletes exactly the history past its retention that nothing
// needs: final deliveries (not dead letters, not those changed lately),
// notifications without deliveries whose resource no sync can meet again,
// rung reminders, processed published events, stale pending updates.
func TestPruneDeletesOnlyWhatIsPastRetentionAndUnneeded(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	now := time.Now()
	old := now.Add(-100 * 24 * time.Hour)
	const keep = 90 * 24 * time.Hour
	coll := "/n/p/"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(fn func(tx *sql.Tx) error) { t.Helper(); must(db.Write(ctx, Durable, fn)) }
	key := func(p string) []PrincipalKey { return []PrincipalKey{{"cal", p}} }
	write(func(tx *sql.Tx) error { _, err := MarkDirty(ctx, tx, key("/p/"), old); return err })
	write(func(tx *sql.Tx) error { _, err := MarkDirty(ctx, tx, key("/unknown/"), old); return err })

	// sync records notifications (id: its href) of principal p at time at,
	// each with one email delivery (id: its href and "d") unless in none.
	sync := func(p, collection string, at time.Time, none []string, hrefs ...string) {
		t.Helper()
		rec := SyncRecord{System: "cal", Principal: p, Token: "t", CollectionURL: collection, Now: at}
		for _, h := range hrefs {
			rec.Notifications = append(rec.Notifications, NotificationRecord{ID: h, Href: h, ETag: `"1"`, Type: "invite", Parsed: []byte("{}")})
			if !slices.Contains(none, h) {
				rec.Deliveries = append(rec.Deliveries, DeliveryRecord{ID: h + "d", NotificationID: h, SubscriptionID: "s",
					MethodID: "m", Channel: "email", Address: "a@example.org"})
			}
		}
		write(func(tx *sql.Tx) error { _, err := RecordSync(ctx, tx, rec); return err })
	}
	outcome := func(id, status string, at time.Time) {
		t.Helper()
		write(func(tx *sql.Tx) error {
			_, err := RecordDeliveryAttempt(ctx, tx, DeliveryOutcome{ID: id, Status: status, Now: at})
			return err
		})
	}
	finish := func(id string, gone bool, at time.Time) {
		t.Helper()
		must(db.FinishNotification(ctx, id, "note", gone, at))
	}

	sync("/p/", coll, old, []string{coll + "nobody"},
		coll+"deleted", coll+"kept", coll+"dead-letter", coll+"discarded", coll+"retried", coll+"queued",
		coll+"user-deleted", coll+"replaced", coll+"nobody", "/cal/p/work/event.ics", "enp:///ics/x")
	outcome(coll+"deletedd", DeliverySent, old)
	finish(coll+"deleted", true, old) // the after-delivery policy deleted it
	outcome(coll+"keptd", DeliverySent, old)
	finish(coll+"kept", false, old) // after_delivery: keep
	outcome(coll+"dead-letterd", DeliveryFailed, old)
	outcome(coll+"discardedd", DeliveryFailed, old)
	must(db.DiscardDelivery(ctx, coll+"discardedd", old.Add(time.Hour)))
	finish(coll+"discarded", true, old)
	outcome(coll+"retriedd", DeliverySent, now) // sent by an operator's retry, lately
	finish(coll+"retried", true, now)
	for _, n := range []string{coll + "user-deleted", coll + "replaced", "/cal/p/work/event.ics", "enp:///ics/x"} {
		outcome(n+"d", DeliverySent, old)
		finish(n, false, old)
	}
	// A later sync sees one deleted and one replaced by a new version.
	write(func(tx *sql.Tx) error {
		_, err := RecordSync(ctx, tx, SyncRecord{System: "cal", Principal: "/p/", Token: "t2", CollectionURL: coll, Now: now,
			Deleted: []string{coll + "user-deleted", coll + "queued"},
			Listed:  []ResourceVersion{{coll + "replaced", `"2"`}, {coll + "kept", `"1"`}}})
		return err
	})
	// Recent: kept whatever else.
	sync("/p/", coll, now, nil, coll+"recent")
	outcome(coll+"recentd", DeliverySent, now)
	finish(coll+"recent", true, now)
	// A principal whose collection is not known: kept.
	sync("/unknown/", "", old, nil, "/n/unknown/x")
	outcome("/n/unknown/xd", DeliverySent, old)
	finish("/n/unknown/x", false, old)

	write(func(tx *sql.Tx) error {
		for _, r := range []struct {
			key, state string
			at         time.Time
		}{{"rung", ReminderFired, old}, {"cancelled", ReminderCancelled, old}, {"scheduled", ReminderScheduled, old},
			{"rung-lately", ReminderFired, now}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO reminders (fire_key, system, principal, calendar_href, object_href,
trigger_at, details, state, created_at, updated_at) VALUES ($1, 'cal', '/p/', '/c/', '/c/o', $2, '{}', $3, $2, $2)`,
				r.key, micros(r.at), r.state); err != nil {
				return err
			}
		}
		for _, e := range []PublishedEvent{{ID: "processed", ReceivedAt: old}, {ID: "waiting", ReceivedAt: old},
			{ID: "processed-lately", ReceivedAt: now}} {
			e.System, e.Topic, e.Principal, e.Notification = "cal", "alarm", "/p/", []byte("{}")
			if _, _, err := RecordPublished(ctx, tx, e); err != nil {
				return err
			}
			if e.ID != "waiting" {
				if _, err := ClaimPublished(ctx, tx, e.ID, e.ReceivedAt); err != nil {
					return err
				}
			}
		}
		for _, a := range []struct {
			id string
			at time.Time
		}{{"a-old", old}, {"a-lately", now}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_kind, actor, action, resource_type, resource_id,
system, principal) VALUES ($1, $2, 'key', 'ops', 'update', 'subscription', 's1', 'cal', '/p/')`, a.id, micros(a.at)); err != nil {
				return err
			}
		}
		for _, p := range []PendingUpdate{{Key: "uid:stale", FirstAt: old, DueAt: old}, {Key: "uid:due", FirstAt: now, DueAt: now}} {
			p.System, p.Principal, p.CalendarHref = "cal", "/p/", "/c/"
			if _, err := AddPendingUpdate(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})

	got := pruneAll(t, db, now, keep, 2)
	want := map[string]int{"deliveries": 8, "notifications": 6, "reminders": 2, "published_events": 1, "pending_updates": 1,
		"audit": 2} // a-old, and the discard's record
	if !mapsEqual(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	if d, want := ids(t, db, `SELECT id FROM deliveries`), []string{coll + "dead-letterd", coll + "queuedd", coll + "recentd",
		coll + "retriedd"}; !slices.Equal(d, want) {
		t.Errorf("deliveries left %v, want %v", d, want)
	}
	// A delivery's history goes with it, and stays with those kept.
	if e, want := ids(t, db, `SELECT DISTINCT delivery_id FROM delivery_events`), []string{coll + "dead-letterd",
		coll + "recentd", coll + "retriedd"}; !slices.Equal(e, want) {
		t.Errorf("delivery histories left %v, want %v", e, want)
	}
	if n, want := ids(t, db, `SELECT id FROM notifications`), []string{coll + "dead-letter", coll + "kept",
		coll + "nobody", coll + "queued", coll + "recent", coll + "retried", "/n/unknown/x"}; !slices.Equal(n, want) {
		t.Errorf("notifications left %v, want %v", n, want)
	}
	if r, want := ids(t, db, `SELECT fire_key FROM reminders`), []string{"rung-lately", "scheduled"}; !slices.Equal(r, want) {
		t.Errorf("reminders left %v, want %v", r, want)
	}
	if p, want := ids(t, db, `SELECT id FROM published_events`), []string{"processed-lately", "waiting"}; !slices.Equal(p, want) {
		t.Errorf("published events left %v, want %v", p, want)
	}
	if a, want := ids(t, db, `SELECT id FROM audit_log`), []string{"a-lately"}; !slices.Equal(a, want) {
		t.Errorf("audit records left %v, want %v", a, want)
	}
	if u, want := ids(t, db, `SELECT key FROM pending_updates`), []string{"uid:due"}; !slices.Equal(u, want) {
		t.Errorf("pending updates left %v, want %v", u, want)
	}
	// A second run finds nothing more.
	if got := pruneAll(t, db, now, keep, 2); !mapsEqual(got, map[string]int{"deliveries": 0, "notifications": 0,
		"reminders": 0, "published_events": 0, "pending_updates": 0, "audit": 0}) {
		t.Errorf("a second run pruned %v", got)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
