package engine_test

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
)

// When the database cannot take writes (a full disk) just after the
// provider accepted a message, the engine waits to record it rather than
// fail the job, which would send the message again.
func TestSentMessageIsRecordedOnceTheDatabaseTakesWritesAgain(t *testing.T) {
	if peertest.OnPostgres() {
		t.Skip("SQLite only: simulates a full disk with SQLite's query_only pragma (PostgreSQL unavailability is covered by e2e/replicas_test.go)")
	}
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.email.fail = func(_ *delivery.Request, attempt int) error {
		if attempt == 1 {
			// The writer connection refuses writes for a while, as with a
			// full disk (SQLITE_READONLY is classified like SQLITE_FULL).
			if _, err := testdb.Exec(r.db, `PRAGMA query_only = 1`); err != nil {
				t.Error(err)
			}
			time.AfterFunc(500*time.Millisecond, func() {
				if _, err := testdb.Exec(r.db, `PRAGMA query_only = 0`); err != nil {
					t.Error(err)
				}
			})
		}
		return nil
	}
	r.ping(t, principal)
	items := r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v, want one message: the record waited for the database", got)
	}
	if len(items) != 1 || items[0].Status != "sent" {
		t.Fatalf("delivery log %+v, want one sent delivery", items)
	}
}

// The database refusing writes for longer than the delivery job may run
// (jobs.timeout) does not make the job fail and run again: the message
// the provider accepted is recorded once writes come back, and sent once.
func TestSentMessageRecordOutlivesTheJobTimeout(t *testing.T) {
	if peertest.OnPostgres() {
		t.Skip("SQLite only: simulates a full disk with SQLite's query_only pragma")
	}
	const jobTimeout = 300 * time.Millisecond
	r := newRigOpts(t, engine.PolicyKeep, func(o *engine.Options) {
		o.JobTimeout = jobTimeout
		o.RetryBase, o.RetryMax = time.Millisecond, time.Millisecond
	})
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	restored := make(chan struct{})
	r.email.fail = func(_ *delivery.Request, attempt int) error {
		if attempt == 1 {
			if _, err := testdb.Exec(r.db, `PRAGMA query_only = 1`); err != nil {
				t.Error(err)
			}
			// Writes come back well after the job's timeout has passed
			// (the job started before this send).
			time.AfterFunc(5*jobTimeout, func() {
				defer close(restored)
				if _, err := testdb.Exec(r.db, `PRAGMA query_only = 0`); err != nil {
					t.Error(err)
				}
			})
		}
		return nil
	}
	r.ping(t, principal)
	<-restored
	items := r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v, want one message: the record outlived the job's timeout", got)
	}
	if len(items) != 1 || items[0].Status != "sent" {
		t.Fatalf("delivery log %+v, want one sent delivery", items)
	}
}
