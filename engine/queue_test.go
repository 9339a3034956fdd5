package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
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

// A job a killed run left running (the process died mid-job: its row
// still says running) runs again as soon as an engine that owns the queue
// starts, once; one that does not own it leaves the job to River's
// stuck-job rescue, much later.
func TestStartRunsAgainJobsAKilledRunLeftRunning(t *testing.T) {
	t.Parallel()
	for _, owns := range []bool{true, false} {
		t.Run(fmt.Sprint("owns=", owns), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, engine.PolicyKeep, func(o *engine.Options) { o.OwnsQueue = owns })
			if err := r.eng.Stop(context.Background()); err != nil { // no job runs for long
				t.Fatal(err)
			}
			r.invite(t, "wilma@example.org")
			// As if a run had fetched the sync job and been killed.
			res, err := testdb.Exec(r.db, `UPDATE river_job SET state = 'running', attempt = 1 WHERE kind = 'sync_principal'`)
			if n, _ := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("marking the sync job running: %v (%d rows)", err, n)
			}
			ends := r.jobEnds(t)
			if err := r.eng.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if owns {
				r.settle(t)
				if sent := r.email.sentTo(); len(sent) != 1 {
					t.Errorf("sent %v; want the orphaned sync run at start and its notification sent once", sent)
				}
				return
			}
			// Another principal's sync runs to completion; the orphan does
			// not run meanwhile.
			r.ping(t, "/dav/principals/user/betty/")
			nextEnd(t, ends, syncKind, river.EventKindJobCompleted)
			state := r.jobs(t, syncKind)[0].State // the orphan, listed first
			if sent := r.email.sentTo(); len(sent) != 0 || state != "running" {
				t.Errorf("sent %v, sync job %s; want the job left to River's rescue", sent, state)
			}
		})
	}
}

// After a CalDAV outage, the after-delivery policies that failed meanwhile
// wait in the finish queue, which is polled rarely since it is usually
// empty. The backlog must still drain at the workers' pace once the
// server is back: once a fetch finds work, the next comes as soon as a
// worker is free, not at the next poll.
func TestFinishBacklogDrainsAtWorkerSpeed(t *testing.T) {
	t.Parallel()
	const n = 40
	ctx := context.Background()
	// A failed policy waits an hour before it is tried again.
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) { o.RetryBase, o.RetryMax = time.Hour, time.Hour })
	r.subscribe(t, principal, "wilma@example.org")
	for i := range n {
		r.dav.add(fmt.Sprintf("n%02d.xml", i), inviteXML(fmt.Sprintf("n%02d", i)))
	}
	// The server goes down once the sync has fetched everything: every
	// message is sent, every DELETE fails for now and gets a finish job.
	r.failWith(func(context.Context, *delivery.Request, int) error {
		r.dav.locked(func() { r.dav.down = &caldavclient.HTTPError{Method: "DELETE", Status: 503} })
		return nil
	})
	r.ping(t, principal)
	r.waitUntil(t, "a finish job for each notification", func() bool { return len(r.jobs(t, finishKind)) == n })
	if err := r.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// The server is back. Another engine whose queues are polled once an
	// hour takes over, with the backlog due now: only its first fetch, at
	// start, comes from polling.
	r.dav.locked(func() { r.dav.down = nil })
	next := newRigOn(t, r.db, engine.PolicyDelete, func(o *engine.Options) {
		o.PollInterval, o.Systems[0].CalDAV = time.Hour, r.dav
	})
	if got, err := next.eng.RetryJobsForTest(ctx, finishKind); err != nil || got != n {
		t.Fatalf("%d finish jobs made due (%v), want %d", got, err, n)
	}
	next.start(t)
	next.waitUntil(t, "every notification deleted", func() (done bool) {
		r.dav.locked(func() { done = len(r.dav.deleted) == n })
		return done
	})
}
