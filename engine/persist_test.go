package engine_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
)

// fullDisk returns the statements that make every change of a delivery
// fail as on a full disk (SQLITE_FULL; PostgreSQL's disk_full), the rest
// of the database working on, and the one that ends it. It is a fault of
// a table, not of a connection: River's SQLite driver replaces a
// connection whose BEGIN fails, which would end a fault such as SQLite's
// query_only pragma at once.
func fullDisk(postgres bool) (fill []string, empty string) {
	if postgres {
		return []string{`CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
			`CREATE TRIGGER full_disk BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION full_disk()`}, `DROP TRIGGER full_disk ON deliveries`
	}
	return []string{`CREATE TABLE full_disk (id INTEGER PRIMARY KEY AUTOINCREMENT)`,
		`INSERT INTO full_disk (id) VALUES (9223372036854775807)`, // no rowid left
		`CREATE TRIGGER full_disk BEFORE UPDATE ON deliveries BEGIN INSERT INTO full_disk (id) VALUES (NULL); END`}, `DROP TRIGGER full_disk`
}

// When the database cannot take writes just after the provider accepted a
// message, for longer than the delivery job may run (jobs.timeout), the
// engine waits to record the message rather than fail the job, which
// would send it again: the message is recorded once writes come back, and
// sent once.
func TestSentMessageIsRecordedOnceTheDatabaseTakesWritesAgain(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, testdb.Open(t), engine.PolicyKeep, func(o *engine.Options) { o.JobTimeout = 300 * time.Millisecond })
	refused := &signal{Handler: slog.NewTextHandler(io.Discard, nil), on: "cannot take writes", seen: make(chan struct{})}
	r.db.SetLogger(slog.New(refused))
	r.start(t)
	fill, empty := fullDisk(r.db.Postgres())
	jobEnded := make(chan (<-chan struct{}), 1)
	r.failWith(func(ctx context.Context, _ *delivery.Request, attempt int) error {
		if attempt == 1 {
			for _, stmt := range fill {
				if _, err := testdb.Exec(r.db, stmt); err != nil {
					t.Error(err)
				}
			}
			jobEnded <- ctx.Done()
		}
		return nil
	})
	r.invite(t, "wilma@example.org")
	var jobDone <-chan struct{}
	select {
	case jobDone = <-jobEnded:
	case <-time.After(time.Minute):
		t.Fatal("nothing sent within a minute")
	}
	<-jobDone // the job's timeout passes,
	select {  // the record is refused,
	case <-refused.seen:
	case <-time.After(time.Minute):
		t.Fatal("the record was not refused within a minute")
	}
	if _, err := testdb.Exec(r.db, empty); err != nil { // and only then writes come back
		t.Fatal(err)
	}
	items := r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v, want one message: the record waited for the database", got)
	}
	if len(items) != 1 || items[0].Status != "sent" {
		t.Fatalf("delivery log %+v, want one sent delivery", items)
	}
}

// signal is a log handler that closes seen at the first record whose
// message contains on.
type signal struct {
	slog.Handler
	on   string
	once sync.Once
	seen chan struct{}
}

func (s *signal) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, s.on) {
		s.once.Do(func() { close(s.seen) })
	}
	return nil
}
