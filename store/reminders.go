package store

import (
	"context"
	"database/sql"
	"time"
)

// Reminder states.
const (
	ReminderScheduled = "scheduled"
	ReminderFired     = "fired"
	ReminderSkipped   = "skipped"
	ReminderCancelled = "cancelled"
)

// ReminderRecord is one alarm instance: a reminder of one instance of an
// event or task, fired once at TriggerAt.
type ReminderRecord struct {
	// FireKey identifies the instance across edits of its object.
	FireKey                  string
	System, Principal        string
	CalendarHref, ObjectHref string
	TriggerAt                time.Time
	// Details is the notifyd.Notification the reminder sends, as JSON.
	Details []byte
	// State is ReminderScheduled, ReminderFired, ReminderSkipped or
	// ReminderCancelled; Reason says why for the last two (and, for a
	// reminder fired late, how late).
	State, Reason        string
	FiredAt              time.Time
	CreatedAt, UpdatedAt time.Time
}

// ObjectAlarms is an object as read from its calendar, with its alarm
// instances within the horizon.
type ObjectAlarms struct {
	Object CalendarObject
	// From is where the instances start: a scheduled instance of the
	// object triggering before it is not compared with them (it is left to
	// fire, late if it must).
	From      time.Time
	Reminders []ReminderRecord
	// NoAlarms says its alarms were not worked out (reminders are off, or
	// the calendar is another principal's, shared with this one): its
	// stored instances are left as they are.
	NoAlarms bool
}

// CalendarChange is what one sync of one calendar found, written in one
// transaction by RecordCalendar.
type CalendarChange struct {
	System, Principal, CalendarHref string
	// Calendar, if not nil, is the calendar's new state (its new sync
	// token); nil leaves it as it is (the horizon rolling on).
	Calendar *CalendarRecord
	// Changed are the objects added or changed, with all their alarm
	// instances within the horizon; Removed the hrefs of objects gone.
	Changed []ObjectAlarms
	Removed []string
	Now     time.Time
	// Revivable are the reasons of a skip the object's data decided
	// (declined, acknowledged, …), as opposed to one decided when it was
	// due (late): an instance skipped for one of them that now rings, and
	// whose trigger is after Now, is scheduled again.
	Revivable []string
}

// CalendarOutcome is what RecordCalendar did to the alarm instances.
type CalendarOutcome struct {
	// Scheduled are the instances it scheduled, for the caller to queue
	// their jobs in the same transaction.
	Scheduled []ReminderRecord
	// Skipped are the instances it recorded as skipped (new ones, and
	// scheduled ones now skipped), with their Reason.
	Skipped []ReminderRecord
	// Cancelled counts the instances it cancelled.
	Cancelled int
}

// RecordCalendar writes a calendar's sync in tx: the calendar and its new
// sync token, the objects changed and their alarm instances, and the
// objects removed. An object's instances are compared by fire key with
// those stored: new ones are scheduled (and returned, for the caller to
// queue their jobs in tx), or stored as skipped when their State says so
// (with the Reason), ones no longer there are cancelled unless they fired
// already, and ones stored already are brought up to date by recordAgain:
// scheduled ones now skipped (acknowledged, say) are skipped, cancelled
// ones back again (an event moved away and back before its trigger) and
// skipped ones that now ring, with their reason in c.Revivable, are
// scheduled again (returned with the new ones) when their trigger is
// still ahead, and fired ones are left alone, so that an edit that
// changes no trigger fires nothing again. A removed object's scheduled
// instances are cancelled.
func RecordCalendar(ctx context.Context, tx *sql.Tx, c CalendarChange) (out CalendarOutcome, err error) {
	now := micros(c.Now)
	cal := CalendarRecord{System: c.System, Principal: c.Principal, Href: c.CalendarHref}
	if c.Calendar != nil {
		cal = *c.Calendar
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (`+calendarColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (system, principal, href) DO UPDATE SET
display_name = excluded.display_name, time_zone = excluded.time_zone, sync_token = excluded.sync_token,
listed_tag = excluded.listed_tag, synced_at = excluded.synced_at, description = excluded.description,
color = excluded.color, shared_url = excluded.shared_url, sharee = excluded.sharee, owner = excluded.owner`,
			cal.System, cal.Principal, cal.Href, cal.DisplayName, cal.TimeZone, cal.SyncToken, cal.ListedTag, now,
			cal.Description, cal.Color, cal.SharedURL, cal.Sharee, cal.Owner); err != nil {
			return out, err
		}
	}
	for _, href := range c.Removed {
		n, err := cancelReminders(ctx, tx, cal.System, cal.Principal, href, nil, time.Time{}, "the event or task was deleted", now)
		if err != nil {
			return out, err
		}
		out.Cancelled += n
		if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_objects WHERE system = $1 AND principal = $2 AND href = $3`,
			cal.System, cal.Principal, href); err != nil {
			return out, err
		}
	}
	for _, oa := range c.Changed {
		o := oa.Object
		var expand int64
		if !o.ExpandAt.IsZero() {
			expand = micros(o.ExpandAt)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_objects (`+calendarObjectColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (system, principal, href) DO UPDATE SET
calendar_href = excluded.calendar_href, uid = excluded.uid, data = excluded.data, expand_at = excluded.expand_at,
first_seen_at = CASE WHEN calendar_objects.etag = excluded.etag THEN calendar_objects.first_seen_at ELSE excluded.first_seen_at END,
etag = excluded.etag`,
			cal.System, cal.Principal, o.Href, cal.Href, o.ETag, o.UID, string(o.Data), micros(o.FirstSeenAt), expand); err != nil {
			return out, err
		}
		if oa.NoAlarms {
			continue
		}
		keep := make(map[string]bool, len(oa.Reminders))
		for _, r := range oa.Reminders {
			keep[r.FireKey] = true
			r.System, r.Principal, r.CalendarHref, r.ObjectHref = cal.System, cal.Principal, cal.Href, o.Href
			state := r.State
			if state != ReminderSkipped {
				state = ReminderScheduled
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO reminders (fire_key, system, principal, calendar_href, object_href,
trigger_at, details, state, reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (fire_key) DO NOTHING`,
				r.FireKey, cal.System, cal.Principal, cal.Href, o.Href, micros(r.TriggerAt), string(r.Details), state, r.Reason, now)
			if err != nil {
				return out, err
			}
			scheduled, skipped := false, false
			if n, _ := res.RowsAffected(); n == 1 {
				scheduled, skipped = state == ReminderScheduled, state == ReminderSkipped
				r.CreatedAt = c.Now
			} else if scheduled, skipped, err = recordAgain(ctx, tx, c, r); err != nil {
				return out, err
			}
			if scheduled {
				r.State, r.Reason, r.UpdatedAt = ReminderScheduled, "", c.Now
				out.Scheduled = append(out.Scheduled, r)
			} else if skipped {
				out.Skipped = append(out.Skipped, r)
			}
		}
		n, err := cancelReminders(ctx, tx, cal.System, cal.Principal, o.Href, keep, oa.From, "the event or task changed", now)
		if err != nil {
			return out, err
		}
		out.Cancelled += n
	}
	return out, nil
}

// cancelReminders cancels the scheduled reminders of an object triggering
// from from on, except those in keep.
func cancelReminders(ctx context.Context, tx *sql.Tx, system, principal, href string, keep map[string]bool, from time.Time,
	reason string, now int64) (cancelled int, err error) {
	var after int64 // the zero time: every one
	if !from.IsZero() {
		after = micros(from)
	}
	rows, err := tx.QueryContext(ctx, `SELECT fire_key FROM reminders
WHERE system = $1 AND principal = $2 AND object_href = $3 AND state = 'scheduled' AND trigger_at >= $4`, system, principal, href, after)
	if err != nil {
		return 0, err
	}
	var gone []string
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			rows.Close()
			return 0, err
		}
		if !keep[key] {
			gone = append(gone, key)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, key := range gone {
		if _, err := tx.ExecContext(ctx, `UPDATE reminders SET state = 'cancelled', reason = $2, updated_at = $3
WHERE fire_key = $1 AND state = 'scheduled'`, key, reason, now); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}

// ClaimReminder moves a scheduled reminder to state (ReminderFired or
// ReminderSkipped, with reason) in tx, and returns it, or nil if it is not
// scheduled any more (fired by another run, or cancelled): only one run
// ever fires a reminder.
func ClaimReminder(ctx context.Context, tx *sql.Tx, key, state, reason string, now time.Time) (*ReminderRecord, error) {
	r, err := scanReminder(tx.QueryRowContext(ctx, `UPDATE reminders SET state = $2, reason = $3, fired_at = $4, updated_at = $4
WHERE fire_key = $1 AND state = 'scheduled' RETURNING `+reminderColumns, key, state, reason, micros(now)))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return r, err
}

// Reminder returns the reminder with fire key key, or notifyd.ErrNotFound.
func (db *DB) Reminder(ctx context.Context, key string) (*ReminderRecord, error) {
	r, err := scanReminder(db.reader.QueryRowContext(ctx, `SELECT `+reminderColumns+` FROM reminders WHERE fire_key = $1`, key))
	return r, notFound(err)
}

// ReminderFilter selects reminders in a listing, in trigger order.
type ReminderFilter struct {
	System, Principal, State string
	// Systems, if set, keeps these systems' reminders only.
	Systems []string
	// From and To bound the trigger times (zero: unbounded).
	From, To time.Time
	// AfterTime and AfterKey are the cursor: the trigger time and fire key
	// of the last reminder of the previous page.
	AfterTime time.Time
	AfterKey  string
	Limit     int
}

// Reminders lists the reminders matching f, in trigger order.
func (db *DB) Reminders(ctx context.Context, f ReminderFilter) ([]ReminderRecord, error) {
	var w filter
	w.eq("system", f.System)
	if len(f.Systems) > 0 {
		w.in("system", f.Systems)
	}
	w.eq("principal", f.Principal)
	w.eq("state", f.State)
	if !f.From.IsZero() {
		w.conds = append(w.conds, "trigger_at >= "+w.param(micros(f.From)))
	}
	if !f.To.IsZero() {
		w.conds = append(w.conds, "trigger_at < "+w.param(micros(f.To)))
	}
	w.after("trigger_at", "fire_key", f.AfterTime, f.AfterKey)
	var out []ReminderRecord
	err := db.each(ctx, `SELECT `+reminderColumns+` FROM reminders`+w.where()+
		` ORDER BY trigger_at, fire_key LIMIT `+w.param(f.Limit), w.args, func(r scanner) error {
		rec, err := scanReminder(r)
		if err == nil {
			out = append(out, *rec)
		}
		return err
	})
	return out, err
}

const reminderColumns = `fire_key, system, principal, calendar_href, object_href, trigger_at, details, state, reason,
fired_at, created_at, updated_at`

func scanReminder(r scanner) (*ReminderRecord, error) {
	var rec ReminderRecord
	var details string
	var trigger, fired, created, updated int64
	if err := r.Scan(&rec.FireKey, &rec.System, &rec.Principal, &rec.CalendarHref, &rec.ObjectHref, &trigger, &details,
		&rec.State, &rec.Reason, &fired, &created, &updated); err != nil {
		return nil, err
	}
	rec.Details, rec.TriggerAt = []byte(details), fromMicros(trigger)
	rec.CreatedAt, rec.UpdatedAt = fromMicros(created), fromMicros(updated)
	if fired != 0 {
		rec.FiredAt = fromMicros(fired)
	}
	return &rec, nil
}

// ReminderDeliveries returns the deliveries of the notification with ID
// id (a fired reminder's), with the notification: what a run again of
// the reminder's job sends of them is those never attempted.
func (db *DB) ReminderDeliveries(ctx context.Context, id string) (map[string]*DeliveryRecord, map[string]*NotificationRecord, error) {
	var ids []string
	err := db.each(ctx, `SELECT id FROM deliveries WHERE notification_id = $1`, []any{id}, func(r scanner) error {
		var id string
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return db.DeliveriesToSend(ctx, ids)
}
