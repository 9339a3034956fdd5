package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// QueueCalendarSyncs records, in tx, that each principal's calendars are
// to be synced, and reports for each whether a calendar sync job must be
// inserted (none waits or runs): the caller inserts those in the same tx.
// One already queued is asked to run once more, so that it sees what
// changed since it started. keys must be distinct.
func QueueCalendarSyncs(ctx context.Context, tx *sql.Tx, keys []PrincipalKey) (needJob []bool, err error) {
	needJob = make([]bool, len(keys))
	for i, k := range keys {
		var again bool
		err := tx.QueryRowContext(ctx, `INSERT INTO calendar_homes (system, principal, queued) VALUES ($1, $2, TRUE)
ON CONFLICT (system, principal) DO UPDATE SET again = calendar_homes.queued, queued = TRUE
RETURNING again`, k.System, k.Principal).Scan(&again)
		if err != nil {
			return nil, err
		}
		needJob[i] = !again
	}
	return needJob, nil
}

// FinishCalendarSync records in tx that a principal's calendar sync job
// ended (failure, if not "", says why) and reports whether it must run
// again because it was asked for meanwhile; otherwise the job is released.
func FinishCalendarSync(ctx context.Context, tx *sql.Tx, key PrincipalKey, failure string, now time.Time) (again bool, err error) {
	err = tx.QueryRowContext(ctx, `UPDATE calendar_homes SET queued = again, again = FALSE, synced_at = $3, last_error = $4
WHERE system = $1 AND principal = $2 RETURNING queued`, key.System, key.Principal, micros(now), failure).Scan(&again)
	return again, err
}

// CalendarHomesToPoll returns up to limit principals whose subscriptions
// may want one of types (the types a calendar sync serves: reminders,
// scheduling messages, calendar updates) and whose calendars were last synced before cutoff
// (or never), with no calendar sync queued: the periodic poll queues
// them. A subscription wants a type when its types are all types or name
// it; the engine checks each method when it sends. No types, no
// principal.
func (db *DB) CalendarHomesToPoll(ctx context.Context, cutoff time.Time, limit int, types []string) ([]PrincipalKey, error) {
	if len(types) == 0 {
		return nil, nil
	}
	var w filter
	w.args = []any{micros(cutoff), limit}
	wants := []string{"s.types = '[]'"}
	for _, t := range types {
		wants = append(wants, "s.types LIKE "+w.param(`%"`+t+`"%`))
	}
	var out []PrincipalKey
	err := db.each(ctx, `SELECT DISTINCT s.system, s.principal FROM subscriptions s
LEFT JOIN calendar_homes h ON h.system = s.system AND h.principal = s.principal
WHERE s.enabled AND (`+strings.Join(wants, " OR ")+`)
  AND (h.principal IS NULL OR (NOT h.queued AND h.synced_at < $1))
ORDER BY s.system, s.principal LIMIT $2`, w.args, func(r scanner) error {
		var k PrincipalKey
		err := r.Scan(&k.System, &k.Principal)
		out = append(out, k)
		return err
	})
	return out, err
}

// CalendarRecord is a calendar notifyd syncs for reminders.
type CalendarRecord struct {
	System, Principal, Href string
	DisplayName             string
	// TimeZone is the calendar's own zone for its floating times and
	// dates: its id (CALDAV:calendar-timezone-id) or VTIMEZONE
	// (CALDAV:calendar-timezone), or "".
	TimeZone  string
	SyncToken string
	// ListedTag is what the listing of the calendar's home showed of it
	// (its DAV:sync-token property, else its CS:getctag, with a prefix
	// saying which) before the sync that stored SyncToken; "" when it
	// showed neither. The same tag listed again means nothing changed.
	ListedTag string
	SyncedAt  time.Time
	// Description and Color are what a person sees of it besides its
	// name (CALDAV:calendar-description, Apple's calendar-color).
	Description, Color string
	// SharedURL is the owner's path of the calendar when the server names
	// it (CS:shared-url), else "": the path a person knows it by.
	SharedURL string
	// Sharee reports a calendar of another principal shared with this
	// one: its changes are news to this one, its alarms are not this
	// one's reminders.
	Sharee bool
	// Owner is the path of its DAV:owner, "" when the server names none.
	Owner string
}

const calendarColumns = `system, principal, href, display_name, time_zone, sync_token, listed_tag, synced_at, description, color, shared_url, sharee, owner`

func scanCalendar(r scanner) (CalendarRecord, error) {
	var c CalendarRecord
	var synced int64
	err := r.Scan(&c.System, &c.Principal, &c.Href, &c.DisplayName, &c.TimeZone, &c.SyncToken, &c.ListedTag, &synced,
		&c.Description, &c.Color, &c.SharedURL, &c.Sharee, &c.Owner)
	c.SyncedAt = fromMicros(synced)
	return c, err
}

// Calendars returns the calendars of a principal that notifyd syncs.
func (db *DB) Calendars(ctx context.Context, system, principal string) ([]CalendarRecord, error) {
	var out []CalendarRecord
	err := db.each(ctx, `SELECT `+calendarColumns+` FROM calendars
WHERE system = $1 AND principal = $2 ORDER BY href`, []any{system, principal}, func(r scanner) error {
		c, err := scanCalendar(r)
		out = append(out, c)
		return err
	})
	return out, err
}

// maxStoredAddresses bounds the calendar user addresses stored for a
// principal (the CalDAV client keeps at most 50).
const maxStoredAddresses = 100

// SetCalendarUserAddresses records in tx a principal's calendar user
// addresses (its CALDAV:calendar-user-address-set, as the CalDAV client
// normalized them), at most 100.
func SetCalendarUserAddresses(ctx context.Context, tx *sql.Tx, key PrincipalKey, addrs []string) error {
	if addrs == nil {
		addrs = []string{}
	}
	data, err := json.Marshal(addrs[:min(len(addrs), maxStoredAddresses)])
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO calendar_homes (system, principal, addresses) VALUES ($1, $2, $3)
ON CONFLICT (system, principal) DO UPDATE SET addresses = excluded.addresses`, key.System, key.Principal, string(data))
	return err
}

// CalendarUserAddresses returns a principal's calendar user addresses as
// last recorded (SetCalendarUserAddresses); known is false when they
// never were.
func (db *DB) CalendarUserAddresses(ctx context.Context, system, principal string) (addrs []string, known bool, err error) {
	var data string
	err = db.reader.QueryRowContext(ctx, `SELECT addresses FROM calendar_homes WHERE system = $1 AND principal = $2`,
		system, principal).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil || data == "":
		return nil, false, err
	}
	if err := json.Unmarshal([]byte(data), &addrs); err != nil {
		return nil, false, fmt.Errorf("calendar user addresses of %s: %w", principal, err)
	}
	return addrs, true, nil
}

// CalendarObject is a calendar object resource (an event or a task with
// its overrides) as notifyd last read it.
type CalendarObject struct {
	System, Principal, Href string
	CalendarHref            string
	ETag, UID               string
	Data                    []byte
	// FirstSeenAt is when notifyd first saw this version (ETag).
	FirstSeenAt time.Time
	// ExpandAt is when its alarm instances must be worked out again (zero:
	// never).
	ExpandAt time.Time
}

const calendarObjectColumns = `system, principal, href, calendar_href, etag, uid, data, first_seen_at, expand_at`

func scanCalendarObject(r scanner) (CalendarObject, error) {
	var o CalendarObject
	var data string
	var seen, expand int64
	err := r.Scan(&o.System, &o.Principal, &o.Href, &o.CalendarHref, &o.ETag, &o.UID, &data, &seen, &expand)
	o.Data, o.FirstSeenAt = []byte(data), fromMicros(seen)
	if expand > 0 {
		o.ExpandAt = fromMicros(expand)
	}
	return o, err
}

// CalendarObjectETags returns the ETag of each object of a calendar, by
// href.
func (db *DB) CalendarObjectETags(ctx context.Context, system, principal, calendar string) (map[string]string, error) {
	out := make(map[string]string)
	err := db.each(ctx, `SELECT href, etag FROM calendar_objects WHERE system = $1 AND principal = $2 AND calendar_href = $3`,
		[]any{system, principal, calendar}, func(r scanner) error {
			var href, etag string
			err := r.Scan(&href, &etag)
			out[href] = etag
			return err
		})
	return out, err
}

// CalendarObjectsToExpand returns up to limit objects whose alarm
// instances must be worked out again before cutoff, soonest first.
func (db *DB) CalendarObjectsToExpand(ctx context.Context, cutoff time.Time, limit int) ([]CalendarObject, error) {
	var out []CalendarObject
	err := db.each(ctx, `SELECT `+calendarObjectColumns+` FROM calendar_objects
WHERE expand_at > 0 AND expand_at < $1 ORDER BY expand_at LIMIT $2`, []any{micros(cutoff), limit}, func(r scanner) error {
		o, err := scanCalendarObject(r)
		out = append(out, o)
		return err
	})
	return out, err
}

// PrincipalCalendarObjects returns up to limit stored objects of a
// principal, of every calendar, whose href sorts after after (""
// for the first), in href order.
func (db *DB) PrincipalCalendarObjects(ctx context.Context, system, principal, after string, limit int) ([]CalendarObject, error) {
	var out []CalendarObject
	err := db.each(ctx, `SELECT `+calendarObjectColumns+` FROM calendar_objects
WHERE system = $1 AND principal = $2 AND href > $3 ORDER BY href LIMIT $4`, []any{system, principal, after, limit}, func(r scanner) error {
		o, err := scanCalendarObject(r)
		out = append(out, o)
		return err
	})
	return out, err
}

// CalendarObjectsOf returns the stored objects of a principal with the
// given hrefs.
func (db *DB) CalendarObjectsOf(ctx context.Context, system, principal string, hrefs []string) ([]CalendarObject, error) {
	var out []CalendarObject
	for len(hrefs) > 0 {
		chunk := hrefs[:min(len(hrefs), 500)]
		hrefs = hrefs[len(chunk):]
		var w filter
		w.eq("system", system)
		w.eq("principal", principal)
		w.in("href", chunk)
		err := db.each(ctx, `SELECT `+calendarObjectColumns+` FROM calendar_objects`+w.where(), w.args, func(r scanner) error {
			o, err := scanCalendarObject(r)
			out = append(out, o)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
