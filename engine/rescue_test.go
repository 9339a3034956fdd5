package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
)

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
