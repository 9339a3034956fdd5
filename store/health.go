package store

import (
	"context"
	"time"
)

// The console's health page reads these: aggregates over notifyd's own
// tables, no job queue internals.

// SystemHealth is what the store knows of one system's principals and
// their syncs.
type SystemHealth struct {
	System string
	// Principals is how many principals were ever pinged; PingedSince how
	// many were pinged at or after the time asked for.
	Principals, PingedSince int64
	// Queued counts principals whose sync is queued or running; Failing
	// those whose last sync attempt failed; Gone those the CalDAV server
	// said do not exist.
	Queued, Failing, Gone int64
	// LastPingAt and LastSyncAt are the latest ping and finished sync.
	LastPingAt, LastSyncAt time.Time
}

// SystemsHealth returns the health of every system that has principals,
// by system name; since bounds PingedSince.
func (db *DB) SystemsHealth(ctx context.Context, since time.Time) ([]SystemHealth, error) {
	var out []SystemHealth
	err := db.each(ctx, `SELECT system, count(*),
sum(CASE WHEN last_ping_at >= $1 THEN 1 ELSE 0 END), sum(CASE WHEN queued THEN 1 ELSE 0 END),
sum(CASE WHEN last_error <> '' THEN 1 ELSE 0 END), sum(CASE WHEN gone THEN 1 ELSE 0 END),
max(last_ping_at), max(last_sync_at)
FROM principal_state GROUP BY system ORDER BY system`, []any{micros(since)}, func(r scanner) error {
		var h SystemHealth
		var ping, sync int64
		if err := r.Scan(&h.System, &h.Principals, &h.PingedSince, &h.Queued, &h.Failing, &h.Gone, &ping, &sync); err != nil {
			return err
		}
		if ping != 0 {
			h.LastPingAt = fromMicros(ping)
		}
		if sync != 0 {
			h.LastSyncAt = fromMicros(sync)
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// SyncErrors lists up to limit principals of system whose last sync
// attempt failed (LastError says why), most recently pinged first.
func (db *DB) SyncErrors(ctx context.Context, system string, limit int) ([]PrincipalState, error) {
	var out []PrincipalState
	err := db.each(ctx, `SELECT principal, last_ping_at, last_sync_at, last_error, gone FROM principal_state
WHERE system = $1 AND last_error <> '' ORDER BY last_ping_at DESC LIMIT $2`, []any{system, limit}, func(r scanner) error {
		p := PrincipalState{PrincipalKey: PrincipalKey{System: system}}
		var ping, sync int64
		if err := r.Scan(&p.Principal, &ping, &sync, &p.LastError, &p.Gone); err != nil {
			return err
		}
		p.LastPingAt = fromMicros(ping)
		if sync != 0 {
			p.LastSyncAt = fromMicros(sync)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// DeliveryCount counts the deliveries of one system and channel in one
// status made within one hour.
type DeliveryCount struct {
	System, Channel, Status string
	// Hour is the start of the hour (UTC) the deliveries were made in.
	Hour time.Time
	N    int64
}

// DeliveryCounts counts the deliveries made at or after since, by system,
// channel, status and hour; it reads the deliveries_by_time index's range.
func (db *DB) DeliveryCounts(ctx context.Context, since time.Time) ([]DeliveryCount, error) {
	const hour = int64(time.Hour / time.Microsecond)
	var out []DeliveryCount
	err := db.each(ctx, `SELECT system, channel, status, created_at / 3600000000, count(*) FROM deliveries
WHERE created_at >= $1 GROUP BY system, channel, status, created_at / 3600000000`, []any{micros(since)}, func(r scanner) error {
		var c DeliveryCount
		var h int64
		if err := r.Scan(&c.System, &c.Channel, &c.Status, &h, &c.N); err != nil {
			return err
		}
		c.Hour = fromMicros(h * hour)
		out = append(out, c)
		return nil
	})
	return out, err
}

// OldestWaiting returns, by system, when the delivery waiting longest to
// be sent (queued, or retrying after a temporary failure) was queued.
func (db *DB) OldestWaiting(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := db.each(ctx, `SELECT d.system, min(CASE WHEN d.queued_at > d.created_at THEN d.queued_at ELSE d.created_at END)
FROM deliveries d WHERE d.status IN ('`+DeliveryQueued+`', '`+DeliveryRetrying+`') AND `+inStatusIndex+` GROUP BY d.system`,
		nil, func(r scanner) error {
			var sys string
			var at int64
			err := r.Scan(&sys, &at)
			out[sys] = fromMicros(at)
			return err
		})
	return out, err
}
