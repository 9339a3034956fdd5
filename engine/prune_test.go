package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// retention90 prunes every kind of history after 90 days.
func retention90(o *engine.Options) {
	keep := 90 * 24 * time.Hour
	o.Retention = engine.RetentionOptions{Batch: 2, Rules: []engine.RetentionRule{
		{PruneRule: store.PruneDeliveries, Keep: keep},
		{PruneRule: store.PruneNotifications, Keep: keep},
		{PruneRule: store.PruneReminders, Keep: keep},
		{PruneRule: store.PrunePublished, Keep: keep},
		{PruneRule: store.PrunePendingUpdates, Keep: keep},
		{PruneRule: store.PruneAudit, Keep: keep},
	}}
}

// With after_delivery keep, the notifications stay in the collection:
// once their deliveries are pruned, their records stay, and a full
// resync (the server forgot its sync token) sends nothing again. One the
// user deleted is pruned after the sync that sees it gone; put back, a
// new version, it is new.
func TestPrunedThenResyncedCollectionSendsNothingTwice(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep, retention90)
	ctx := context.Background()
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.dav.add("n2.xml", inviteXML("n2"))
	r.dav.add("n3.xml", inviteXML("n3"))
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 3 {
		t.Fatalf("sent %d, want 3", n)
	}

	later := time.Now().Add(100 * 24 * time.Hour)
	if err := r.eng.PruneForTest(ctx, later); err != nil {
		t.Fatal(err)
	}
	if log := r.deliveryLog(t); len(log) != 0 {
		t.Fatalf("deliveries left after their retention: %+v", log)
	}
	known := func() int {
		t.Helper()
		var ids []string
		for i, n := range []string{"n1.xml", "n2.xml", "n3.xml"} { // as added: ETags "e1" to "e3"
			ids = append(ids, engine.NotificationIDForTest("cal", principal, "/dav/notifications/user/wilma/"+n, fmt.Sprintf(`"e%d"`, i+1)))
		}
		k, err := r.db.KnownNotifications(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		return len(k)
	}
	if k := known(); k != 3 {
		t.Fatalf("%d notification records left, want the 3 still in the collection", k)
	}

	r.dav.remove("n2.xml")
	r.ping(t, principal)
	r.settle(t)
	if err := r.eng.PruneForTest(ctx, later); err != nil {
		t.Fatal(err)
	}
	if k := known(); k != 2 {
		t.Fatalf("%d notification records left, want 2 (the one deleted on the server pruned)", k)
	}

	st, err := r.db.Principal(ctx, "cal", principal)
	if err != nil {
		t.Fatal(err)
	}
	r.dav.locked(func() { r.dav.badTokens[st.SyncToken] = true })
	gets := r.dav.count("GET")
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 3 {
		t.Fatalf("after a full resync of a pruned collection %d messages, want still 3", n)
	}
	if r.dav.count("GET") != gets {
		t.Errorf("the full resync read notifications it had handled: %v", r.dav.requests)
	}

	r.dav.add("n2.xml", inviteXML("n2"))
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 4 {
		t.Fatalf("a notification put back is new: %d messages, want 4", n)
	}
}

// The prune is a periodic job, queued by the leader (River's periodic
// jobs are), when some history has a retention; none otherwise.
func TestPruneIsAPeriodicJobWhenRetentionIsSet(t *testing.T) {
	t.Parallel()
	pruneKind := (engine.PruneArgs{}).Kind()
	r := newRig(t, engine.PolicyKeep, retention90)
	r.waitUntil(t, "pruned once", func() bool {
		return len(r.jobs(t, pruneKind, rivertype.JobStateCompleted)) == 1
	})

	off := newRig(t, engine.PolicyKeep)
	off.waitUntil(t, "swept once", func() bool { return len(off.jobs(t, sweepKind, rivertype.JobStateCompleted)) >= 1 })
	if jobs := off.jobs(t, pruneKind); len(jobs) != 0 {
		t.Errorf("prune jobs without retention: %d", len(jobs))
	}
}
