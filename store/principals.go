package store

import (
	"context"
	"database/sql"
	"time"
)

// PrincipalKey names a principal of a calendar system.
type PrincipalKey struct {
	System    string
	Principal string
}

const markDirtySQL = `INSERT INTO principal_state (system, principal, dirty_gen, first_ping_at, last_ping_at)
VALUES ($1, $2, 1, $3, $3)
ON CONFLICT (system, principal) DO UPDATE SET
    dirty_gen = principal_state.dirty_gen + 1,
    last_ping_at = excluded.last_ping_at`

// MarkDirty records, inside tx, that each principal has unseen
// notifications: it creates the principal's state or advances its dirty
// generation. The caller enqueues the sync jobs in the same tx.
func MarkDirty(ctx context.Context, tx *sql.Tx, keys []PrincipalKey, now time.Time) error {
	stmt, err := tx.PrepareContext(ctx, markDirtySQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	at := micros(now)
	for _, k := range keys {
		if _, err := stmt.ExecContext(ctx, k.System, k.Principal, at); err != nil {
			return err
		}
	}
	return nil
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
}

// Principal returns a principal's state, or notifyd.ErrNotFound.
func (db *DB) Principal(ctx context.Context, system, principal string) (*PrincipalState, error) {
	var p PrincipalState
	var first, last, synced int64
	err := db.SQL.QueryRowContext(ctx, `SELECT system, principal, dirty_gen, synced_gen, sync_token, first_ping_at, last_ping_at,
collection_url, last_sync_at, last_error, gone
FROM principal_state WHERE system = $1 AND principal = $2`, system, principal).
		Scan(&p.System, &p.Principal, &p.DirtyGen, &p.SyncedGen, &p.SyncToken, &first, &last,
			&p.CollectionURL, &synced, &p.LastError, &p.Gone)
	if err != nil {
		return nil, notFound(err)
	}
	p.FirstPingAt, p.LastPingAt = fromMicros(first), fromMicros(last)
	if synced != 0 {
		p.LastSyncAt = fromMicros(synced)
	}
	return &p, nil
}
