package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PrincipalKey names a principal of a calendar system.
type PrincipalKey struct {
	System    string
	Principal string
}

// markDirtyChunk is how many principals one statement marks.
const markDirtyChunk = 256

// MarkDirty records, inside tx, that each principal has unseen
// notifications, and reports for each whether a sync job must be queued
// (none was queued or running): the caller inserts those jobs in the same
// tx. For the others the waiting or running job will sync again. keys
// must be distinct.
//
// Each principal's dirty generation advances; one with no job queued gets
// queued = true and enqueued_gen = its new dirty generation, which is how
// the statement tells which principals need a job.
func MarkDirty(ctx context.Context, tx *sql.Tx, keys []PrincipalKey, now time.Time) (needJob []bool, err error) {
	needJob = make([]bool, len(keys))
	index := make(map[PrincipalKey]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	// Rows are locked in the order written: the same order in every
	// transaction keeps two replicas marking overlapping principals from
	// deadlocking on PostgreSQL.
	keys = slices.SortedFunc(slices.Values(keys), func(a, b PrincipalKey) int {
		return cmp.Or(strings.Compare(a.System, b.System), strings.Compare(a.Principal, b.Principal))
	})
	for start := 0; start < len(keys); start += markDirtyChunk {
		chunk := keys[start:min(start+markDirtyChunk, len(keys))]
		var q strings.Builder
		q.WriteString(`INSERT INTO principal_state (system, principal, dirty_gen, first_ping_at, last_ping_at, queued, enqueued_gen) VALUES `)
		args := make([]any, 0, 1+2*len(chunk))
		args = append(args, micros(now))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "($%d, $%d, 1, $1, $1, TRUE, 1)", len(args)+1, len(args)+2)
			args = append(args, k.System, k.Principal)
		}
		q.WriteString(` ON CONFLICT (system, principal) DO UPDATE SET
    dirty_gen = principal_state.dirty_gen + 1,
    last_ping_at = excluded.last_ping_at,
    queued = TRUE,
    enqueued_gen = CASE WHEN principal_state.queued THEN principal_state.enqueued_gen ELSE principal_state.dirty_gen + 1 END
RETURNING system, principal, dirty_gen = enqueued_gen`)
		rows, err := tx.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k PrincipalKey
			var need bool
			if err := rows.Scan(&k.System, &k.Principal, &need); err != nil {
				rows.Close()
				return nil, err
			}
			needJob[index[k]] = need
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return needJob, nil
}

// PrincipalState is what the store knows about one principal's sync.
type PrincipalState struct {
	PrincipalKey
	// DirtyGen advances with every committed batch of pings; SyncedGen is the DirtyGen the last
	// finished sync started from. The principal is dirty while DirtyGen >
	// SyncedGen.
	DirtyGen, SyncedGen int64
	// SyncToken is the notification collection's last sync token.
	SyncToken string
	// FirstPingAt and LastPingAt bound the pings received.
	FirstPingAt, LastPingAt time.Time
	// CollectionURL is the principal's notification collection, once found.
	CollectionURL string
	// LastSyncAt is when the last sync finished; LastError why the last
	// attempt failed, if it did.
	LastSyncAt time.Time
	LastError  string
	// Gone is true once the CalDAV server said the principal does not exist.
	Gone bool
	// Queued is true while a sync job is waiting or running.
	Queued bool
}

// Principal returns a principal's state, or notifyd.ErrNotFound.
func (db *DB) Principal(ctx context.Context, system, principal string) (*PrincipalState, error) {
	var p PrincipalState
	var first, last, synced int64
	err := db.reader.QueryRowContext(ctx, `SELECT system, principal, dirty_gen, synced_gen, sync_token, first_ping_at, last_ping_at,
collection_url, last_sync_at, last_error, gone, queued
FROM principal_state WHERE system = $1 AND principal = $2`, system, principal).
		Scan(&p.System, &p.Principal, &p.DirtyGen, &p.SyncedGen, &p.SyncToken, &first, &last,
			&p.CollectionURL, &synced, &p.LastError, &p.Gone, &p.Queued)
	if err != nil {
		return nil, notFound(err)
	}
	p.FirstPingAt, p.LastPingAt = fromMicros(first), fromMicros(last)
	if synced != 0 {
		p.LastSyncAt = fromMicros(synced)
	}
	return &p, nil
}
