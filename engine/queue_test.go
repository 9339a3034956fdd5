package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
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
	completed, cancel := r.eng.SubscribeForTest(river.EventKindJobCompleted)
	defer cancel()
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
		waitSynced(t, completed, p)
	}
}

// waitSynced waits for the completion of principal's sync job.
func waitSynced(t *testing.T, completed <-chan *river.Event, principal string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case ev := <-completed:
			var args engine.SyncPrincipalArgs
			if ev.Job.Kind == args.Kind() && json.Unmarshal(ev.Job.EncodedArgs, &args) == nil && args.Principal == principal {
				return
			}
		case <-deadline:
			t.Fatalf("the sync job of %s did not run within a minute: its insert did not wake the workers", principal)
		}
	}
}
