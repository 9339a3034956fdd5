package engine_test

import (
	"testing"

	"github.com/notifyd/notifyd/engine"
)

// river047Schema is the last job queue migration that River v0.47 had: a
// database that notifyd ran on before its upgrade to River v0.51 stands
// there.
const river047Schema = 7

// A database that an older notifyd (River v0.47) left with jobs waiting
// migrates forward: the queue reports the migration pending until it is
// applied, and the waiting jobs then run.
func TestQueueMigratesForwardFromRiver047(t *testing.T) {
	t.Parallel()
	r := newRigUnstarted(t, engine.PolicyKeep, func(*engine.Options) {})
	q := r.eng.Queue()
	if _, err := q.MigrateQueueToForTest(r.ctx, river047Schema); err != nil {
		t.Fatal(err)
	}
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)

	if err := q.Ready(r.ctx); err == nil {
		t.Fatal("Ready = nil on a River v0.47 schema, want migrations pending")
	}
	n, err := q.Migrate(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("Migrate applied nothing on a River v0.47 schema")
	}
	if err := q.Ready(r.ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	r.start(t)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "wilma@example.org" {
		t.Fatalf("sent to %v, want the job queued before the migration to deliver once", got)
	}
}
