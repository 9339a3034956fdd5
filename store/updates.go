package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// UpdateState is an event, task or calendar as a pending update keeps it:
// the state before the first change of a burst.
type UpdateState struct {
	// CalendarHref and CalendarName are the calendar of an event or task,
	// or the calendar itself.
	CalendarHref string `json:"calendar_href"`
	CalendarName string `json:"calendar_name,omitempty"`
	// Href and Data are an event's or task's resource, as stored.
	Href string `json:"href,omitempty"`
	Data string `json:"data,omitempty"`
	// Description and TimeZone are a calendar's.
	Description string `json:"description,omitempty"`
	TimeZone    string `json:"time_zone,omitempty"`
	// SharedURL and Sharee are the calendar's (CalendarRecord).
	SharedURL string `json:"shared_url,omitempty"`
	Sharee    bool   `json:"sharee,omitempty"`
}

// PendingUpdate is a change to one event, task or calendar of a
// principal that waits for its burst window to close (DueAt): Before is
// its state before the burst's first change, nil when it did not exist.
type PendingUpdate struct {
	System, Principal string
	// Key is "uid:" and an event's or task's UID, or "calendar:" and a
	// calendar's href.
	Key          string
	CalendarHref string
	Before       *UpdateState
	FirstAt      time.Time
	DueAt        time.Time
}

// AddPendingUpdate records p in tx unless a change to the same key
// already waits: the first change of a burst sets what it is compared
// with and when it is told. It reports whether p was recorded (the
// caller then queues its job in tx).
func AddPendingUpdate(ctx context.Context, tx *sql.Tx, p PendingUpdate) (bool, error) {
	before := ""
	if p.Before != nil {
		b, err := json.Marshal(p.Before)
		if err != nil {
			return false, err
		}
		before = string(b)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO pending_updates (system, principal, key, calendar_href, before, first_at, due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (system, principal, key) DO NOTHING`,
		p.System, p.Principal, p.Key, p.CalendarHref, before, micros(p.FirstAt), micros(p.DueAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TakePendingUpdate removes, in tx, the pending update of key and returns
// it; nil when there is none (told already).
func TakePendingUpdate(ctx context.Context, tx *sql.Tx, system, principal, key string) (*PendingUpdate, error) {
	p := PendingUpdate{System: system, Principal: principal, Key: key}
	var before string
	var first, due int64
	err := tx.QueryRowContext(ctx, `SELECT calendar_href, before, first_at, due_at FROM pending_updates
WHERE system = $1 AND principal = $2 AND key = $3`, system, principal, key).Scan(&p.CalendarHref, &before, &first, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.FirstAt, p.DueAt = fromMicros(first), fromMicros(due)
	if before != "" {
		p.Before = &UpdateState{}
		if err := json.Unmarshal([]byte(before), p.Before); err != nil {
			return nil, err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM pending_updates WHERE system = $1 AND principal = $2 AND key = $3`, system, principal, key)
	return &p, err
}

// PendingUpdateKeys returns the keys of the principal's pending updates,
// for tests and the operator.
func (db *DB) PendingUpdateKeys(ctx context.Context, system, principal string) ([]string, error) {
	var out []string
	err := db.each(ctx, `SELECT key FROM pending_updates WHERE system = $1 AND principal = $2 ORDER BY key`,
		[]any{system, principal}, func(r scanner) error {
			var k string
			err := r.Scan(&k)
			out = append(out, k)
			return err
		})
	return out, err
}

// CalendarObjectsByUID returns, in tx, the principal's stored objects
// whose UID is uid, in href order.
func CalendarObjectsByUID(ctx context.Context, tx *sql.Tx, system, principal, uid string) ([]CalendarObject, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+calendarObjectColumns+` FROM calendar_objects
WHERE system = $1 AND principal = $2 AND uid = $3 ORDER BY href`, system, principal, uid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CalendarObject
	for rows.Next() {
		o, err := scanCalendarObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CalendarObjectsByUID is the package function of the same name, read
// outside a write.
func (db *DB) CalendarObjectsByUID(ctx context.Context, system, principal, uid string) ([]CalendarObject, error) {
	var out []CalendarObject
	err := db.each(ctx, `SELECT `+calendarObjectColumns+` FROM calendar_objects
WHERE system = $1 AND principal = $2 AND uid = $3 ORDER BY href`, []any{system, principal, uid}, func(r scanner) error {
		o, err := scanCalendarObject(r)
		out = append(out, o)
		return err
	})
	return out, err
}

// StoredCalendar returns, in tx, the principal's stored calendar href;
// nil when there is none.
func StoredCalendar(ctx context.Context, tx *sql.Tx, system, principal, href string) (*CalendarRecord, error) {
	c, err := scanCalendar(tx.QueryRowContext(ctx, `SELECT `+calendarColumns+` FROM calendars
WHERE system = $1 AND principal = $2 AND href = $3`, system, principal, href))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &c, err
}

// RemoveCalendar deletes, in tx, a calendar of the principal that is gone
// from its home, with its objects; their scheduled reminders are
// cancelled, and the pending updates of its objects dropped (the
// calendar's deletion says it all). It returns how many reminders it
// cancelled.
func RemoveCalendar(ctx context.Context, tx *sql.Tx, system, principal, href string, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE reminders SET state = 'cancelled', reason = 'the calendar was deleted', updated_at = $4
WHERE system = $1 AND principal = $2 AND calendar_href = $3 AND state = 'scheduled'`, system, principal, href, micros(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	for _, q := range []string{
		`DELETE FROM calendar_objects WHERE system = $1 AND principal = $2 AND calendar_href = $3`,
		`DELETE FROM calendars WHERE system = $1 AND principal = $2 AND href = $3`,
		`DELETE FROM pending_updates WHERE system = $1 AND principal = $2 AND calendar_href = $3 AND key LIKE 'uid:%'`,
	} {
		if _, err := tx.ExecContext(ctx, q, system, principal, href); err != nil {
			return 0, err
		}
	}
	return int(n), nil
}

// SetCalendarSharee records in tx that the calendar (the owner's path of
// it, as a sharing invitation names it) is shared with the principal with
// access ("read", "read-write"), or, with access "", that it no longer
// is.
func SetCalendarSharee(ctx context.Context, tx *sql.Tx, key PrincipalKey, calendar, access string, now time.Time) error {
	if access == "" {
		_, err := tx.ExecContext(ctx, `DELETE FROM calendar_sharees WHERE system = $1 AND principal = $2 AND calendar = $3`,
			key.System, key.Principal, calendar)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_sharees (system, principal, calendar, access, updated_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (system, principal, calendar) DO UPDATE SET access = excluded.access,
updated_at = excluded.updated_at`, key.System, key.Principal, calendar, access, micros(now))
	return err
}

// SharedCalendars returns the owners' paths of the calendars shared with
// the principal (SetCalendarSharee).
func (db *DB) SharedCalendars(ctx context.Context, system, principal string) ([]string, error) {
	var out []string
	err := db.each(ctx, `SELECT calendar FROM calendar_sharees WHERE system = $1 AND principal = $2 ORDER BY calendar`,
		[]any{system, principal}, func(r scanner) error {
			var c string
			err := r.Scan(&c)
			out = append(out, c)
			return err
		})
	return out, err
}

// HomeListed reports whether a sync recorded the principal's calendar
// home for updates before (MarkHomeListed): the calendars it finds are
// news only then.
func (db *DB) HomeListed(ctx context.Context, system, principal string) (bool, error) {
	var at int64
	err := db.reader.QueryRowContext(ctx, `SELECT listed_at FROM calendar_homes WHERE system = $1 AND principal = $2`,
		system, principal).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return at > 0, err
}

// MarkHomeListed records in tx that a sync recorded the principal's
// calendar home for updates.
func MarkHomeListed(ctx context.Context, tx *sql.Tx, key PrincipalKey, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_homes (system, principal, listed_at) VALUES ($1, $2, $3)
ON CONFLICT (system, principal) DO UPDATE SET listed_at = excluded.listed_at WHERE calendar_homes.listed_at = 0`,
		key.System, key.Principal, micros(now))
	return err
}

// ShareesOf returns the principals that sync a calendar of owner (its
// DAV:owner path, as a ping names the principal) shared with them: a
// change the ping tells of may be theirs to hear of.
func ShareesOf(ctx context.Context, tx *sql.Tx, system, owner string) ([]PrincipalKey, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT principal FROM calendars WHERE system = $1 AND owner = $2 AND sharee
ORDER BY principal`, system, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PrincipalKey
	for rows.Next() {
		k := PrincipalKey{System: system}
		if err := rows.Scan(&k.Principal); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
