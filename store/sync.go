package store

import (
	"context"
	"database/sql"
	"time"
)

// Notification statuses.
const (
	NotificationDelivering = "delivering"
	NotificationDelivered  = "delivered"
	NotificationDone       = "done"
	NotificationDead       = "dead"
)

// NotificationRecord is a notification as stored.
type NotificationRecord struct {
	ID, System, Principal, Href, ETag string
	Type                              string
	// Parsed is the notifyd.Notification as JSON.
	Parsed     []byte
	Status     string
	Error      string
	CreatedAt  time.Time
	FinishedAt time.Time
}

// DeliveryRecord is a delivery as stored.
type DeliveryRecord struct {
	ID, NotificationID, System, Principal string
	SubscriptionID, MethodID              string
	Channel, Address                      string
	Status                                string
	Attempts                              int
	LastError                             string
	// ProviderID is the provider's identifier of the message, once sent.
	ProviderID                   string
	CreatedAt, UpdatedAt, SentAt time.Time
	// QueuedAt is when it was created or last queued again by an operator.
	QueuedAt time.Time
	// ReleaseAt is when the subscription's preferences hold it until
	// (status DeliveryHeld), or held it until; zero if never held.
	ReleaseAt time.Time
	// HeldReason is the preference that held it (paused, quiet-hours,
	// digest, throttle); HeldDigest says it goes out in its method's
	// digest due at ReleaseAt rather than on its own.
	HeldReason string
	HeldDigest bool
}

// SyncRecord is the outcome of one sync of a principal's collection,
// written in one transaction.
type SyncRecord struct {
	System, Principal string
	// Token is the new sync token; SyncedGen the dirty generation the sync
	// started from; CollectionURL the collection synced.
	Token         string
	SyncedGen     int64
	CollectionURL string
	// Notifications are the new notifications; Deliveries the deliveries
	// they make.
	Notifications []NotificationRecord
	Deliveries    []DeliveryRecord
	// Unsent are deliveries recorded final from the start, not sent (a
	// change the principal made, DeliverySuppressed): see
	// AddUnsentDeliveries.
	Unsent []DeliveryRecord
	// Listed are the resources the sync found new or changed (with the
	// ETag their record has), Deleted the hrefs it found removed: the versions of a notification they
	// replace or remove are gone from the collection (see
	// MarkNotificationsGone).
	Listed  []ResourceVersion
	Deleted []string
	Now     time.Time
}

// ResourceVersion is one version of a resource of a collection.
type ResourceVersion struct{ Href, ETag string }

// KnownNotifications returns which of ids are already stored.
func (db *DB) KnownNotifications(ctx context.Context, ids []string) (map[string]bool, error) {
	known := make(map[string]bool)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		var w filter
		w.in("id", chunk)
		err := db.each(ctx, `SELECT id FROM notifications`+w.where(), w.args, func(r scanner) error {
			var id string
			err := r.Scan(&id)
			known[id] = true
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return known, nil
}

// SyncOutcome is what RecordSync did.
type SyncOutcome struct {
	// NewDeliveries are the deliveries it created.
	NewDeliveries []string
	// Again is true when the principal was pinged during the sync: its job
	// stays queued and must sync again.
	Again bool
}

// RecordSync writes a sync's outcome in tx: the new notifications and
// deliveries (those already stored are left alone) and the principal's new
// sync token. If no ping arrived since the sync started, the principal's
// sync job is released (queued = false) in the same statement that checks
// it, so a concurrent ping either sees the job queued or queues a new one.
func RecordSync(ctx context.Context, tx *sql.Tx, r SyncRecord) (out SyncOutcome, err error) {
	// Before the new ones are added: a version listed is never marked.
	if err = MarkNotificationsGone(ctx, tx, r.System, r.Principal, r.Listed, r.Deleted, r.Now); err != nil {
		return out, err
	}
	if out.NewDeliveries, err = AddNotifications(ctx, tx, r.System, r.Principal, r.Notifications, r.Deliveries, r.Now); err != nil {
		return out, err
	}
	if err = AddUnsentDeliveries(ctx, tx, r.System, r.Principal, r.Unsent, r.Now); err != nil {
		return out, err
	}
	now := micros(r.Now)
	_, err = tx.ExecContext(ctx, `UPDATE principal_state SET sync_token = $3, synced_gen = $4, collection_url = $5,
last_sync_at = $6, last_error = '', gone = FALSE WHERE system = $1 AND principal = $2`,
		r.System, r.Principal, r.Token, r.SyncedGen, r.CollectionURL, now)
	if err != nil {
		return out, err
	}
	out.Again, err = releaseJob(ctx, tx, r.System, r.Principal, r.SyncedGen)
	return out, err
}

// AddNotifications writes new notifications of a principal and the
// deliveries they make in tx (those already stored are left alone), and
// returns the IDs of the deliveries it created, for the caller to queue
// their jobs in tx. A notification with no delivery is stored as done:
// nothing is sent, and no after-delivery policy may remove from the
// person's collection what nobody was told about.
func AddNotifications(ctx context.Context, tx *sql.Tx, system, principal string, ns []NotificationRecord, ds []DeliveryRecord,
	at time.Time) (newDeliveries []string, err error) {
	now := micros(at)
	withDelivery := make(map[string]bool)
	for _, d := range ds {
		withDelivery[d.NotificationID] = true
	}
	for _, n := range ns {
		status, note := n.Status, n.Error
		if status == "" {
			status = NotificationDelivering
			if !withDelivery[n.ID] {
				status, note = NotificationDone, "kept: no delivery method wants this type of notification"
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, system, principal, href, etag, type, parsed, status, error, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
			n.ID, system, principal, n.Href, n.ETag, n.Type, string(n.Parsed), status, note, now)
		if err != nil {
			return nil, err
		}
	}
	for _, d := range ds {
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, type, status, created_at, updated_at, queued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, `+typeOfNotification2+`, 'queued', $9, $9, $9) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.NotificationID, system, principal, d.SubscriptionID, d.MethodID, d.Channel, d.Address, now)
		if err != nil {
			return nil, err
		}
		if inserted, _ := res.RowsAffected(); inserted == 1 {
			newDeliveries = append(newDeliveries, d.ID)
		}
	}
	return newDeliveries, nil
}

// inCollection is the condition of the partial index
// notifications_in_collection (the finished notifications that may still
// be in their collection), stated literally for the planner to use it.
const inCollection = `gone_at = 0 AND status IN ('done', 'dead')`

// MarkNotificationsGone records in tx that the finished notifications of
// a principal whose resource a sync of its collection found removed
// (deleted, by href) or replaced (listed with another ETag) are gone from
// it: a resync cannot meet them again, and the pruner may delete them
// once past retention. Each href costs one lookup in a small partial
// index.
func MarkNotificationsGone(ctx context.Context, tx *sql.Tx, system, principal string, listed []ResourceVersion,
	deleted []string, at time.Time) error {
	now := micros(at)
	for _, href := range deleted {
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET gone_at = $4
WHERE system = $1 AND principal = $2 AND href = $3 AND `+inCollection, system, principal, href, now); err != nil {
			return err
		}
	}
	for _, v := range listed {
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET gone_at = $5
WHERE system = $1 AND principal = $2 AND href = $3 AND etag <> $4 AND `+inCollection, system, principal, v.Href, v.ETag, now); err != nil {
			return err
		}
	}
	return nil
}

// releaseJob marks the principal's sync job finished unless a ping came
// after generation gen, and reports whether one did (the job must run
// again).
func releaseJob(ctx context.Context, tx *sql.Tx, system, principal string, gen int64) (again bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE principal_state SET queued = FALSE
WHERE system = $1 AND principal = $2 AND dirty_gen = $3`, system, principal, gen)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

// typeOfNotification2 is a delivery's copy of its notification's type
// (deliveries.type, which the delivery log searches by), the notification
// being parameter $2 of the insert; "" if it is not stored.
const typeOfNotification2 = `COALESCE((SELECT n.type FROM notifications n WHERE n.id = $2), '')`

// AddDelivery creates one delivery in tx (a fallback from another method)
// and reports whether it is new (it may exist already: the notification
// may have gone to that method anyway).
func AddDelivery(ctx context.Context, tx *sql.Tx, system, principal string, d DeliveryRecord, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, type, status, created_at, updated_at, queued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, `+typeOfNotification2+`, 'queued', $9, $9, $9) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.NotificationID, system, principal, d.SubscriptionID, d.MethodID, d.Channel, d.Address, micros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecordSyncFailure notes why a principal's sync failed, for a job that
// will be retried.
func (db *DB) RecordSyncFailure(ctx context.Context, system, principal, reason string) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE principal_state SET last_error = $3 WHERE system = $1 AND principal = $2`,
			system, principal, reason)
		return err
	})
}

// GiveUpSync records why a principal's sync job ends without syncing
// (gone: the server says the principal does not exist; otherwise a
// permanent error or no attempts left) and releases the job: the principal
// is synced again only when pinged again. If it was pinged during this
// attempt, it reports again = true and the job must run once more.
func (db *DB) GiveUpSync(ctx context.Context, system, principal, reason string, gone bool, gen int64) (again bool, err error) {
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE principal_state SET last_error = $3, gone = $4, synced_gen = $5,
collection_url = CASE WHEN $4 THEN '' ELSE collection_url END WHERE system = $1 AND principal = $2`,
			system, principal, reason, gone, gen)
		if err != nil {
			return err
		}
		again, err = releaseJob(ctx, tx, system, principal, gen)
		return err
	})
	return again, err
}

// ForgetCollection forgets a principal's notification collection (and its
// sync token, which belongs to it), so that the next sync discovers it
// again.
func (db *DB) ForgetCollection(ctx context.Context, system, principal string) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE principal_state SET collection_url = '', sync_token = '' WHERE system = $1 AND principal = $2`,
			system, principal)
		return err
	})
}

const notificationColumns = `id, system, principal, href, etag, type, parsed, status, error, created_at, finished_at`

func scanNotification(r scanner) (*NotificationRecord, error) {
	var n NotificationRecord
	var parsed string
	var created, finished int64
	if err := r.Scan(&n.ID, &n.System, &n.Principal, &n.Href, &n.ETag, &n.Type, &parsed,
		&n.Status, &n.Error, &created, &finished); err != nil {
		return nil, err
	}
	n.Parsed = []byte(parsed)
	n.CreatedAt = fromMicros(created)
	if finished != 0 {
		n.FinishedAt = fromMicros(finished)
	}
	return &n, nil
}

// Notification returns a stored notification.
func (db *DB) Notification(ctx context.Context, id string) (*NotificationRecord, error) {
	n, err := scanNotification(db.reader.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return n, nil
}

// ClaimFinish marks, in tx, that a finish job is being queued for
// notification id, and reports whether this caller claimed it: false when
// one was queued already (two sweeps at once), in which case the caller
// queues nothing.
func ClaimFinish(ctx context.Context, tx *sql.Tx, id string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET finish_queued = TRUE WHERE id = $1 AND NOT finish_queued`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Unfinished returns notifications settled before cutoff whose
// after-delivery policy was neither applied nor queued: the settling
// delivery was interrupted (a crash) before it applied it.
func (db *DB) Unfinished(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var ids []string
	err := db.each(ctx, unfinishedQuery, []any{micros(cutoff), limit}, func(r scanner) error {
		var id string
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// unfinishedQuery names the status as a literal, for the planner to use
// the partial index notifications_settled.
const unfinishedQuery = `SELECT id FROM notifications
WHERE status = '` + NotificationDelivered + `' AND settled_at < $1 AND NOT finish_queued ORDER BY settled_at LIMIT $2`

// FinishNotification records that a notification's after-delivery policy
// was applied, with a note of what happened; gone says the policy removed
// this version from the collection (deleted, or replaced by its marked
// version). It does not wait for the disk: if a crash loses the record,
// the policy is applied again, which is harmless (a deleted notification
// is then already gone).
func (db *DB) FinishNotification(ctx context.Context, id, note string, gone bool, now time.Time) error {
	return db.Write(ctx, Lazy, func(tx *sql.Tx) error {
		return FinishNotificationTx(ctx, tx, id, note, gone, now)
	})
}

// FinishNotificationTx is FinishNotification in tx.
func FinishNotificationTx(ctx context.Context, tx *sql.Tx, id, note string, gone bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE notifications SET status = $2, error = $3, finished_at = $4,
gone_at = CASE WHEN $5 THEN $4 ELSE gone_at END WHERE id = $1`,
		id, NotificationDone, note, micros(now), gone)
	return err
}

// NotificationFilter selects notifications; AfterTime and AfterID are the
// cursor (the creation time and ID of the last one of the previous page).
type NotificationFilter struct {
	System, Principal string
	// Systems, if set, keeps these systems' notifications only.
	Systems   []string
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// DeadNotifications lists the notifications set aside as dead (not XML,
// too large, or their rendering failed; Error says why), matching f,
// oldest first.
func (db *DB) DeadNotifications(ctx context.Context, f NotificationFilter) ([]NotificationRecord, error) {
	q, args := deadNotificationsQuery(f)
	var out []NotificationRecord
	err := db.each(ctx, q, args, func(r scanner) error {
		n := NotificationRecord{Status: NotificationDead}
		var created int64
		if err := r.Scan(&n.ID, &n.System, &n.Principal, &n.Href, &n.ETag, &n.Type, &n.Error, &created); err != nil {
			return err
		}
		n.CreatedAt = fromMicros(created)
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deadNotificationsQuery is DeadNotifications' query. The literal status
// lets the planner use the partial index notifications_dead.
func deadNotificationsQuery(f NotificationFilter) (string, []any) {
	w := filter{conds: []string{"status = '" + NotificationDead + "'"}}
	w.eq("system", f.System)
	if len(f.Systems) > 0 {
		w.in("system", f.Systems)
	}
	w.eq("principal", f.Principal)
	w.after("created_at", "id", f.AfterTime, f.AfterID)
	return `SELECT id, system, principal, href, etag, type, error, created_at
FROM notifications` + w.where() + " ORDER BY created_at, id LIMIT " + w.param(f.Limit), w.args
}
