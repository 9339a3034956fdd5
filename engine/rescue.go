package engine

import (
	"context"
	"database/sql"
	"fmt"
)

// rescueOrphans makes the jobs a previous run of the process left
// running available again, and returns how many there were. It is only
// right when the database belongs to this process alone (the embedded
// SQLite file), before the workers start: a job still marked running then
// belongs to a run that was killed (SIGKILL, a crash, power loss) and will
// never finish. River would rescue it only after RescueStuckJobsAfter
// (more than an hour), and meanwhile a principal whose sync job it is
// gets no sync (pings join the stuck job), and a delivery waits.
//
// A delivery rescued this way may have been accepted by its provider just
// before the kill: it is sent again (the one message in flight per worker
// that the delivery guarantee allows for).
func (q *Queue) rescueOrphans(ctx context.Context) (int64, error) {
	var n int64
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("job queue: run again the jobs a killed run left running: %w", err)
	}
	return n, nil
}
