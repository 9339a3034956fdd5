package engine_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
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
	r := newRigOn(t, testdb.Open(t), engine.PolicyKeep)
	q := r.eng.Queue()
	if _, err := q.MigrateQueueToForTest(r.ctx, river047Schema); err != nil {
		t.Fatal(err)
	}
	r.invite(t, "wilma@example.org")
	if err := q.Ready(r.ctx); err == nil {
		t.Fatal("Ready = nil on a River v0.47 schema, want migrations pending")
	}
	if n, err := q.Migrate(r.ctx); err != nil || n == 0 {
		t.Fatalf("Migrate on a River v0.47 schema: %d migrations applied, %v; want some", n, err)
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

// A job that one process inserts (through the insert-only client, in a
// store transaction) wakes another process's idle workers when it
// commits, through PostgreSQL's LISTEN/NOTIFY. The workers here poll only
// every ten minutes: only the notification can make them fetch the job
// before the deadline.
func TestInsertedJobWakesAnotherReplica(t *testing.T) {
	if !peertest.OnPostgres() {
		t.Skip("LISTEN/NOTIFY: PostgreSQL only")
	}
	t.Parallel()
	ctx := context.Background()
	url := peertest.PostgresDatabase(t)
	open := func() *store.DB {
		db, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	r := newRigOn(t, open(), engine.PolicyKeep, func(o *engine.Options) { o.PollInterval = 10 * time.Minute })
	ends := r.jobEnds(t)
	r.start(t)

	other := open() // another replica: its own connections
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The first job may be fetched by the workers' first fetch at start;
	// the second can only be fetched on its notification.
	for _, p := range []string{"/dav/principals/user/first/", "/dav/principals/user/second/"} {
		// A queue per ping, as a process that just started: River sends
		// at most one insert notification per queue and fetch cooldown
		// from each client.
		q, err := engine.NewQueue(other, log)
		if err != nil {
			t.Fatal(err)
		}
		in := engine.NewIntake(other, q)
		if _, err := in.Enqueue(ctx, "cal", []string{p}); err != nil {
			t.Fatal(err)
		}
		in.Close()
		// Within the failsafe only if the insert woke the workers.
		nextEnd(t, ends, syncKind, river.EventKindJobCompleted)
	}
}
