package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// PublishedEvent is an event a calendar server published (POST
// /v1/events) as recorded before it was acknowledged.
type PublishedEvent struct {
	// ID is derived from what identifies the event: a second publish of
	// the same event has the same ID.
	ID                   string
	System, Topic        string
	Principal            string
	CalID, UID, RID, AID string
	// TriggeredBy and ComponentSource are ENS's X-NSCP-TRIGGERED-BY (who
	// made the change) and X-NSCP-COMPONENT-SOURCE (the application).
	TriggeredBy, ComponentSource string
	// Notification is the notifyd.Notification the event becomes, as
	// JSON.
	Notification []byte
	ReceivedAt   time.Time
	// ProcessedAt is when its notification and deliveries were created;
	// zero while its job waits.
	ProcessedAt time.Time
}

// RecordPublished inserts e in tx and reports whether it is new: false
// when an event with its ID was recorded before (a duplicate publish),
// which is left as it was; principal is then the one it was recorded
// for, else e's.
func RecordPublished(ctx context.Context, tx *sql.Tx, e PublishedEvent) (inserted bool, principal string, err error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO published_events (id, system, topic, principal, calid, uid, rid, aid,
triggered_by, component_source, notification, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO NOTHING`, e.ID, e.System, e.Topic, e.Principal, e.CalID, e.UID, e.RID, e.AID,
		e.TriggeredBy, e.ComponentSource, string(e.Notification), micros(e.ReceivedAt))
	if err != nil {
		return false, "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, e.Principal, err
	}
	err = tx.QueryRowContext(ctx, `SELECT principal FROM published_events WHERE id = $1`, e.ID).Scan(&principal)
	return false, principal, err
}

// Published returns the published event with id, or notifyd.ErrNotFound.
func (db *DB) Published(ctx context.Context, id string) (*PublishedEvent, error) {
	var e PublishedEvent
	var notification string
	var received, processed int64
	err := db.reader.QueryRowContext(ctx, `SELECT id, system, topic, principal, calid, uid, rid, aid, triggered_by,
component_source, notification, received_at, processed_at FROM published_events WHERE id = $1`, id).Scan(
		&e.ID, &e.System, &e.Topic, &e.Principal, &e.CalID, &e.UID, &e.RID, &e.AID, &e.TriggeredBy,
		&e.ComponentSource, &notification, &received, &processed)
	if err != nil {
		return nil, notFound(err)
	}
	e.Notification, e.ReceivedAt = []byte(notification), fromMicros(received)
	if processed != 0 {
		e.ProcessedAt = fromMicros(processed)
	}
	return &e, nil
}

// ClaimPublished marks the published event id processed at now, in tx,
// and reports whether this call did (false: processed before, by an
// earlier run of its job).
func ClaimPublished(ctx context.Context, tx *sql.Tx, id string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE published_events SET processed_at = $2 WHERE id = $1 AND processed_at = 0`, id, micros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// maxCalendarOwners bounds the principals CalendarsByHref returns: one
// is the answer, two say there is no single one.
const maxCalendarOwners = 10

// CalendarsByHref returns the calendars notifyd syncs whose href is href
// (with or without a trailing slash), one per principal that has it, by
// principal: normally one, its owner. At most 10 are returned.
//
// It is the publish intake's lookup, read when asked: a publish needs the
// calendar's display name and an exact answer (an unknown calid is
// refused). Pings use the engine's in-memory index of the same rows
// (engine.CalendarPaths), owners only, read again at most every second,
// allocation-free on the ping path, where a stale answer costs a sync.
func (db *DB) CalendarsByHref(ctx context.Context, system, href string) ([]CalendarRecord, error) {
	bare := strings.TrimSuffix(href, "/")
	var out []CalendarRecord
	// No ORDER BY: the planner would then read the primary key, every
	// calendar of the system, rather than calendars_by_href.
	err := db.each(ctx, `SELECT system, principal, href, display_name, time_zone FROM calendars
WHERE system = $1 AND href IN ($2, $3) LIMIT $4`, []any{system, bare, bare + "/", 2 * maxCalendarOwners},
		func(r scanner) error {
			var c CalendarRecord
			err := r.Scan(&c.System, &c.Principal, &c.Href, &c.DisplayName, &c.TimeZone)
			out = append(out, c)
			return err
		})
	if err != nil {
		return nil, err
	}
	// The same calendar listed with and without its slash counts once.
	slices.SortFunc(out, func(a, b CalendarRecord) int {
		return cmp.Compare(a.Principal+"\x00"+a.Href, b.Principal+"\x00"+b.Href)
	})
	out = slices.CompactFunc(out, func(a, b CalendarRecord) bool { return a.Principal == b.Principal })
	return out[:min(len(out), maxCalendarOwners)], nil
}

// AddUnsentDeliveries records in tx deliveries that are not to be sent,
// final from the start, for the delivery log: each in its d.Status,
// DeliverySuppressed or DeliverySkipped, d.LastError saying why. Those
// already stored are left alone. Their notification must be written
// first (AddNotifications).
func AddUnsentDeliveries(ctx context.Context, tx *sql.Tx, system, principal string, ds []DeliveryRecord, at time.Time) error {
	now := micros(at)
	for _, d := range ds {
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, type, status, last_error, created_at, updated_at, queued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, `+typeOfNotification2+`, $9, $10, $11, $11, $11) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.NotificationID, system, principal, d.SubscriptionID, d.MethodID, d.Channel, d.Address,
			d.Status, d.LastError, now)
		if err != nil {
			return err
		}
	}
	return nil
}
