package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// InboxRecord is a principal's scheduling inbox as notifyd last synced it.
type InboxRecord struct {
	System, Principal, Href string
	// SyncToken is the inbox's sync-collection token, "" when it is
	// listed instead (or was never synced).
	SyncToken string
	// ListedTag is what the calendar home's listing showed of the inbox
	// before the sync that stored SyncToken (see CalendarRecord).
	ListedTag string
	SyncedAt  time.Time
}

// InboxItem is an item of a scheduling inbox notifyd has seen.
type InboxItem struct {
	Href, ETag string
	// UID and Method are the iTIP message's, "" when it could not be read.
	UID, Method string
}

// InboxChange is what one sync of a principal's scheduling inbox writes,
// in one transaction (RecordInbox).
type InboxChange struct {
	Inbox InboxRecord
	// Fresh drops every item recorded before (another inbox, or a full
	// listing that replaces them all).
	Fresh bool
	// Seen are the items read (new or changed); Removed the hrefs of
	// items gone.
	Seen    []InboxItem
	Removed []string
	// Notifications and Deliveries are the messages the new items make.
	Notifications []NotificationRecord
	Deliveries    []DeliveryRecord
	// Unsent are deliveries recorded final from the start, not sent (a
	// message the principal sent itself, DeliverySuppressed): see
	// AddUnsentDeliveries.
	Unsent []DeliveryRecord
	Now    time.Time
}

// ScheduleInbox returns the principal's inbox as last synced, nil when
// notifyd never synced it.
func (db *DB) ScheduleInbox(ctx context.Context, system, principal string) (*InboxRecord, error) {
	r := InboxRecord{System: system, Principal: principal}
	var synced int64
	err := db.reader.QueryRowContext(ctx, `SELECT href, sync_token, listed_tag, synced_at FROM schedule_inboxes
WHERE system = $1 AND principal = $2`, system, principal).Scan(&r.Href, &r.SyncToken, &r.ListedTag, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, Classify(err)
	}
	r.SyncedAt = fromMicros(synced)
	return &r, nil
}

// InboxItems returns the items of the principal's inbox notifyd has
// seen, by href.
func (db *DB) InboxItems(ctx context.Context, system, principal string) (map[string]InboxItem, error) {
	out := make(map[string]InboxItem)
	err := db.each(ctx, `SELECT href, etag, uid, method FROM schedule_inbox_items WHERE system = $1 AND principal = $2`,
		[]any{system, principal}, func(r scanner) error {
			var it InboxItem
			err := r.Scan(&it.Href, &it.ETag, &it.UID, &it.Method)
			out[it.Href] = it
			return err
		})
	return out, err
}

// RecordInbox writes c in tx: the inbox's token, its items, and the
// notifications and deliveries of its new messages (AddNotifications). It
// returns the IDs of the deliveries it created, for the caller to queue
// their jobs in tx.
func RecordInbox(ctx context.Context, tx *sql.Tx, c InboxChange) (newDeliveries []string, err error) {
	in, now := c.Inbox, micros(c.Now)
	_, err = tx.ExecContext(ctx, `INSERT INTO schedule_inboxes (system, principal, href, sync_token, listed_tag, synced_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (system, principal)
DO UPDATE SET href = $3, sync_token = $4, listed_tag = $5, synced_at = $6`,
		in.System, in.Principal, in.Href, in.SyncToken, in.ListedTag, now)
	if err != nil {
		return nil, err
	}
	if c.Fresh {
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_inbox_items WHERE system = $1 AND principal = $2`,
			in.System, in.Principal); err != nil {
			return nil, err
		}
	}
	for _, href := range c.Removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_inbox_items WHERE system = $1 AND principal = $2 AND href = $3`,
			in.System, in.Principal, href); err != nil {
			return nil, err
		}
	}
	for _, it := range c.Seen {
		_, err := tx.ExecContext(ctx, `INSERT INTO schedule_inbox_items (system, principal, href, etag, uid, method, seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (system, principal, href)
DO UPDATE SET etag = $4, uid = $5, method = $6, seen_at = $7`,
			in.System, in.Principal, it.Href, it.ETag, it.UID, it.Method, now)
		if err != nil {
			return nil, err
		}
	}
	if len(c.Notifications) == 0 {
		return nil, nil
	}
	if newDeliveries, err = AddNotifications(ctx, tx, in.System, in.Principal, c.Notifications, c.Deliveries, c.Now); err != nil {
		return nil, err
	}
	return newDeliveries, AddUnsentDeliveries(ctx, tx, in.System, in.Principal, c.Unsent, c.Now)
}
