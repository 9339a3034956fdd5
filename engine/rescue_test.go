package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
)

// A job a killed run left running (the process died mid-job: its row
// still says running) runs again as soon as an engine that owns the queue
// starts, once; one that does not own it leaves the job to River's
// stuck-job rescue, much later.
func TestStartRunsAgainJobsAKilledRunLeftRunning(t *testing.T) {
	for _, owns := range []bool{true, false} {
		r := newRigOpts(t, engine.PolicyKeep, func(o *engine.Options) { o.OwnsQueue = owns })
		r.subscribe(t, principal, "wilma@example.org")
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := r.eng.Stop(stop); err != nil {
			t.Fatal(err)
		}
		cancel()
		r.dav.add("n1.xml", inviteXML("n1"))
		r.ping(t, principal)
		// As if a run had fetched the sync job and been killed.
		res, err := testdb.Exec(r.db, `UPDATE river_job SET state = 'running', attempt = 1 WHERE kind = 'sync_principal'`)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("marking the sync job running: %v (%d rows)", err, n)
		}
		if err := r.eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if owns {
			r.settle(t)
			if sent := r.email.sentTo(); len(sent) != 1 {
				t.Errorf("owning the queue: sent %v; want the orphaned sync run at start and its notification sent once", sent)
			}
			continue
		}
		// Another principal's sync runs to completion; the orphan does not
		// run meanwhile.
		events, stopEvents := r.eng.SubscribeForTest(river.EventKindJobCompleted)
		r.ping(t, "/dav/principals/user/betty/")
		for ev := range events {
			if ev.Job.Kind == (engine.SyncPrincipalArgs{}).Kind() {
				break
			}
		}
		stopEvents()
		var state string
		if err := testdb.QueryRow(r.db, `SELECT state FROM river_job WHERE kind = 'sync_principal' ORDER BY id LIMIT 1`).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if sent := r.email.sentTo(); len(sent) != 0 || state != "running" {
			t.Errorf("not owning the queue: sent %v, sync job %s; want the job left to River's rescue", sent, state)
		}
	}
}
