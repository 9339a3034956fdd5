package engine

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd/store"
)

// rescueOrphans runs again the jobs a previous run of the process left
// running, and returns how many there were. It is only right when the
// database belongs to this process alone (the embedded SQLite file),
// before the workers start: a job still marked running then belongs to a
// run that was killed (SIGKILL, a crash, power loss) and will never
// finish. River would rescue it only after RescueStuckJobsAfter, and
// meanwhile a principal whose sync job it is gets no sync (pings join the
// stuck job), and a delivery waits.
//
// River cannot move a running job back to available, so each orphan is
// cancelled (River's rescuer finalises it as cancelled later, never runs
// it again) and a copy of it, with the attempts it has left, is inserted
// in the same transaction.
//
// A delivery rescued this way may have been accepted by its provider just
// before the kill: it is sent again (the one message in flight per worker
// that the delivery guarantee allows for).
func (q *Queue) rescueOrphans(ctx context.Context) (int, error) {
	var n int
	err := q.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		n = 0
		params := river.NewJobListParams().States(rivertype.JobStateRunning).First(1000)
		for {
			page, err := q.client.JobListTx(ctx, tx, params)
			if err != nil {
				return err
			}
			if len(page.Jobs) == 0 {
				return nil
			}
			copies := make([]river.InsertManyParams, len(page.Jobs))
			for i, j := range page.Jobs {
				if _, err := q.client.JobCancelTx(ctx, tx, j.ID); err != nil {
					return err
				}
				copies[i] = river.InsertManyParams{Args: orphanArgs{j.Kind, j.EncodedArgs}, InsertOpts: &river.InsertOpts{
					// No ScheduledAt: River would store the copy as scheduled and
					// leave it to its scheduler (every 5 s).
					Queue: j.Queue, Priority: j.Priority, Tags: j.Tags, MaxAttempts: max(1, j.MaxAttempts-j.Attempt),
				}}
			}
			if err := q.insert(ctx, tx, copies...); err != nil {
				return err
			}
			n += len(page.Jobs)
			params = params.After(river.JobListCursorFromJob(page.Jobs[len(page.Jobs)-1]))
		}
	})
	if err != nil {
		return 0, fmt.Errorf("job queue: run again the jobs a killed run left running: %w", err)
	}
	return n, nil
}

// orphanArgs are the arguments of an orphaned job, as stored, for its
// copy.
type orphanArgs struct {
	kind string
	args []byte
}

// Kind is the orphan's River kind.
func (a orphanArgs) Kind() string { return a.kind }

// MarshalJSON returns the orphan's arguments unchanged.
func (a orphanArgs) MarshalJSON() ([]byte, error) { return a.args, nil }
