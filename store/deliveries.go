package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/notifyd/notifyd"
)

// Delivery statuses.
const (
	DeliveryQueued   = "queued"
	DeliveryRetrying = "retrying"
	DeliverySent     = "sent"
	DeliveryFailed   = "failed"
	DeliverySkipped  = "skipped"
	// DeliveryDiscarded is a failed delivery an operator dropped from the
	// dead letters: it will not be tried again.
	DeliveryDiscarded = "discarded"
	// DeliverySuppressed is a delivery not sent because the recipient made
	// the change it tells of, or because its address is on the suppression
	// list (LastError "address suppressed: …"); the reason is in
	// LastError, recorded so that an operator sees why nothing was sent.
	DeliverySuppressed = "suppressed"
	// DeliveryHeld is a delivery the subscription's preferences hold until
	// its ReleaseAt (a pause, quiet hours, a digest, a throttle): then it
	// is sent on its own or in its method's digest.
	DeliveryHeld = "held"
)

// DeliveryFinal reports whether a delivery in status will not be tried
// again.
func DeliveryFinal(status string) bool {
	switch status {
	case DeliverySent, DeliveryFailed, DeliverySkipped, DeliveryDelivered, DeliveryUndelivered, DeliveryDiscarded,
		DeliverySuppressed, DeliveryBounced:
		return true
	}
	return false
}

const deliveryColumns = `id, notification_id, system, principal, subscription_id, method_id, channel, address,
status, attempts, last_error, provider_id, created_at, updated_at, sent_at, queued_at, release_at, held_reason, held_digest`

func scanDelivery(r scanner) (*DeliveryRecord, error) {
	var d DeliveryRecord
	var created, updated, sent, queued, release int64
	if err := r.Scan(&d.ID, &d.NotificationID, &d.System, &d.Principal, &d.SubscriptionID, &d.MethodID, &d.Channel,
		&d.Address, &d.Status, &d.Attempts, &d.LastError, &d.ProviderID, &created, &updated, &sent, &queued,
		&release, &d.HeldReason, &d.HeldDigest); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt, d.QueuedAt = fromMicros(created), fromMicros(updated), fromMicros(max(queued, created))
	if release != 0 {
		d.ReleaseAt = fromMicros(release)
	}
	if sent != 0 {
		d.SentAt = fromMicros(sent)
	}
	return &d, nil
}

// Delivery returns a stored delivery.
func (db *DB) Delivery(ctx context.Context, id string) (*DeliveryRecord, error) {
	d, err := scanDelivery(db.reader.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return d, nil
}

// DeliveriesToSend returns the stored deliveries among ids (a batch job's,
// a few dozen at most) by ID, and their notifications by ID: two queries
// for the whole batch instead of two per delivery.
func (db *DB) DeliveriesToSend(ctx context.Context, ids []string) (map[string]*DeliveryRecord, map[string]*NotificationRecord, error) {
	deliveries := make(map[string]*DeliveryRecord, len(ids))
	notifications := make(map[string]*NotificationRecord, len(ids))
	if len(ids) == 0 {
		return deliveries, notifications, nil
	}
	var w filter
	w.in("id", ids)
	err := db.each(ctx, `SELECT `+deliveryColumns+` FROM deliveries`+w.where(), w.args, func(r scanner) error {
		d, err := scanDelivery(r)
		if err == nil {
			deliveries[d.ID] = d
		}
		return err
	})
	if err != nil || len(deliveries) == 0 {
		return deliveries, notifications, err
	}
	var nids []string
	seen := make(map[string]bool, len(deliveries))
	for _, d := range deliveries {
		if !seen[d.NotificationID] {
			seen[d.NotificationID] = true
			nids = append(nids, d.NotificationID)
		}
	}
	w = filter{}
	w.in("id", nids)
	err = db.each(ctx, `SELECT `+notificationColumns+` FROM notifications`+w.where(), w.args, func(r scanner) error {
		n, err := scanNotification(r)
		if err == nil {
			notifications[n.ID] = n
		}
		return err
	})
	return deliveries, notifications, err
}

// Statuses a provider reports after it accepted a message.
const (
	DeliveryDelivered   = "delivered"
	DeliveryUndelivered = "undelivered"
)

// DeliveryOutcome is the result of one attempt at a delivery.
type DeliveryOutcome struct {
	ID     string
	Status string // DeliveryRetrying, DeliverySent, DeliveryFailed or DeliverySkipped
	Error  string
	// ProviderID is the provider's identifier of the message, if any.
	ProviderID string
	// Started is when the attempt started (zero: at Now); Now when it
	// ended, the time recorded.
	Started, Now time.Time
	// ReleaseAt, Reason and Digest are a DeliveryHeld outcome's (see
	// HoldDelivery).
	ReleaseAt time.Time
	Reason    string
	Digest    bool
}

// RecordDeliveryAttempt stores the outcome of an attempt in tx. When it
// settles the last outstanding delivery of its notification, it marks the
// notification delivered and returns its ID, for the caller to apply the
// after-delivery policy.
func RecordDeliveryAttempt(ctx context.Context, tx *sql.Tx, o DeliveryOutcome) (settled string, err error) {
	return recordAttempt(ctx, tx, o, "")
}

// recordAttempt is RecordDeliveryAttempt; with only set, it records the
// outcome only if the delivery is in status only (notifyd.ErrNotFound
// otherwise).
func recordAttempt(ctx context.Context, tx *sql.Tx, o DeliveryOutcome, only string) (settled string, err error) {
	now := micros(o.Now)
	var sentAt any = int64(0)
	if o.Status == DeliverySent {
		sentAt = now
	}
	var notificationID string
	var attempt int
	err = tx.QueryRowContext(ctx, `UPDATE deliveries SET status = $2, attempts = attempts + 1, last_error = $3, updated_at = $4,
sent_at = CASE WHEN CAST($5 AS BIGINT) > 0 THEN CAST($5 AS BIGINT) ELSE sent_at END, provider_id = $6
WHERE id = $1 AND ($7 = '' OR status = $7) RETURNING notification_id, attempts`, o.ID, o.Status, o.Error, now, sentAt,
		o.ProviderID, only).Scan(&notificationID, &attempt)
	if err != nil {
		return "", notFound(err)
	}
	if err := addEvent(ctx, tx, DeliveryEvent{DeliveryID: o.ID, Kind: EventAttempt, Attempt: attempt, StartedAt: o.Started,
		At: o.Now, Status: o.Status, ProviderID: o.ProviderID, Detail: o.Error}); err != nil {
		return "", err
	}
	if !DeliveryFinal(o.Status) {
		return "", nil
	}
	outstanding := func() (n int, err error) {
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE notification_id = $1
AND status IN ('queued', 'retrying', 'held')`, notificationID).Scan(&n)
		return n, err
	}
	n, err := outstanding()
	if err != nil {
		return "", err
	}
	if n == 0 {
		// None outstanding, even among deliveries finishing at this
		// moment (uncommitted, they still count as outstanding here).
		return settle(ctx, tx, notificationID, now)
	}
	// Others seem outstanding, but may be settling at this moment in
	// other transactions (PostgreSQL; SQLite has one writer): lock the
	// notification's row, so that those take turns, and count again
	// (in PostgreSQL's READ COMMITTED, a new statement sees what the
	// others committed meanwhile). Without the lock, two deliveries
	// settling at once would each count the other, and neither would
	// settle the notification.
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET settled_at = settled_at WHERE id = $1`, notificationID); err != nil {
		return "", err
	}
	if n, err = outstanding(); err != nil || n > 0 {
		return "", err
	}
	return settle(ctx, tx, notificationID, now)
}

// settle marks a notification whose deliveries are all final delivered,
// in tx, and returns its ID; "" when it was settled before (a retried
// attempt).
func settle(ctx context.Context, tx *sql.Tx, notificationID string, now int64) (string, error) {
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET status = $2, settled_at = $4 WHERE id = $1 AND status = $3`,
		notificationID, NotificationDelivered, NotificationDelivering, now)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", nil // settled before (a retried attempt)
	}
	return notificationID, nil
}

// byProviderID matches an SMS delivery by its channel ($1) and provider ID
// ($2); the literal channel = 'sms' lets the planner use the partial index
// deliveries_by_sms_provider_id.
const (
	byProviderID         = `channel = 'sms' AND channel = $1 AND provider_id = $2`
	deliveryByProviderID = `SELECT id FROM deliveries WHERE ` + byProviderID
)

// ProviderStatus records what a provider later reported about a message
// it accepted (a Twilio status callback): status is DeliverySent,
// DeliveryDelivered, DeliveryUndelivered or DeliveryFailed, reason the
// provider's error if any. It returns the delivery, or notifyd.ErrNotFound
// when no delivery has that provider ID. A status never goes back: a
// "sent" arriving after "delivered" changes nothing. Only SMS providers
// report so: only SMS deliveries are indexed by provider ID, and another
// channel finds nothing.
func (db *DB) ProviderStatus(ctx context.Context, channel, providerID, status, reason string, now time.Time) (*DeliveryRecord, error) {
	var id string
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE deliveries SET status = $3, last_error = $4, updated_at = $5
WHERE `+byProviderID+` AND status NOT IN ('delivered', 'undelivered')
  AND NOT (status = 'failed' AND $3 = 'sent') RETURNING id`, channel, providerID, status, reason, micros(now)).Scan(&id)
		if err == nil {
			return addEvent(ctx, tx, DeliveryEvent{DeliveryID: id, Kind: EventProvider, At: now, Status: status,
				ProviderID: providerID, Detail: reason})
		}
		if err == sql.ErrNoRows {
			// Unknown, or already final: find out which.
			err = tx.QueryRowContext(ctx, deliveryByProviderID, channel, providerID).Scan(&id)
		}
		return err
	})
	if err != nil {
		return nil, notFound(err)
	}
	return db.Delivery(ctx, id)
}

// DeliveryFilter selects deliveries in a listing, oldest first.
type DeliveryFilter struct {
	System, Principal, Status string
	// Systems, if set, keeps the deliveries of these systems only (a
	// scoped API key's).
	Systems []string
	// Channel, if set, keeps the deliveries of that channel only;
	// Address those to that address; Type those of notifications of
	// that type.
	Channel, Address, Type string
	// From and To, if set, keep the deliveries created at or after From
	// and before To.
	From, To time.Time
	// Newest lists newest first (the cursor then pages backwards in time).
	Newest bool
	// AfterTime and AfterID are the cursor: the creation time and ID of the
	// last delivery of the previous page.
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// inStatusIndex is the condition of the partial index deliveries_by_status
// (every status but the common final ones), which a query must state
// literally for the planner to use the index.
const inStatusIndex = "d.status NOT IN ('sent', 'delivered')"

// DeliveryListItem is a delivery with what the log shows of its
// notification.
type DeliveryListItem struct {
	DeliveryRecord
	NotificationType string
	NotificationHref string
}

// Deliveries lists deliveries matching f, oldest first.
func (db *DB) Deliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryListItem, error) {
	q, args := deliveriesQuery(f)
	var out []DeliveryListItem
	err := db.each(ctx, q, args, func(r scanner) error {
		var it DeliveryListItem
		var created, updated, sent, release int64
		d := &it.DeliveryRecord
		if err := r.Scan(&d.ID, &d.NotificationID, &d.System, &d.Principal, &d.SubscriptionID, &d.MethodID, &d.Channel,
			&d.Address, &d.Status, &d.Attempts, &d.LastError, &d.ProviderID, &created, &updated, &sent, &release, &d.HeldReason,
			&d.HeldDigest, &it.NotificationType, &it.NotificationHref); err != nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
		if release != 0 {
			d.ReleaseAt = fromMicros(release)
		}
		if sent != 0 {
			d.SentAt = fromMicros(sent)
		}
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deliveriesQuery is Deliveries' query. A principal is looked up in the
// index deliveries_by_principal, an address in deliveries_by_address, a
// notification type (the delivery's copy) in deliveries_by_type, a status
// other than the common final ones in the partial index
// deliveries_by_status; the other filters (the sent, a system, a channel,
// a time range), a large part of the log each, are checked in time order
// (deliveries_by_time).
func deliveriesQuery(f DeliveryFilter) (string, []any) {
	var w filter
	system := "d.system"
	if f.Principal == "" {
		// Without a principal, the system is checked row by row in time
		// order: a system is a large part of the log, so its page is
		// found in a few rows. The cast keeps SQLite, which plans
		// without statistics, from the index by principal (which would
		// sort every delivery of the system): no index holds the
		// expression. PostgreSQL drops a cast of a column to its own type
		// and takes the system's share of the log from its statistics.
		// (For an expression it has none of, such as "d.system || ''", it
		// guesses one row in 200: a search by system, type and day at ten
		// million deliveries then looked like reading the whole day,
		// costly enough to be compiled (JIT, 100 ms and more) and run by
		// parallel workers on each of a connection's first five runs.)
		system = "CAST(d.system AS TEXT)"
	}
	w.eq(system, f.System)
	if len(f.Systems) > 0 {
		w.in(system, f.Systems)
	}
	w.eq("d.principal", f.Principal)
	w.eq("d.status", f.Status)
	if f.Status != "" && f.Status != DeliverySent && f.Status != DeliveryDelivered {
		w.conds = append(w.conds, inStatusIndex)
	}
	w.eq("d.channel", f.Channel)
	w.eq("d.address", f.Address)
	w.eq("d.type", f.Type)
	if !f.From.IsZero() {
		w.conds = append(w.conds, "d.created_at >= "+w.param(micros(f.From)))
	}
	if !f.To.IsZero() {
		w.conds = append(w.conds, "d.created_at < "+w.param(micros(f.To)))
	}
	order := " ORDER BY d.created_at, d.id LIMIT "
	if f.Newest {
		w.before("d.created_at", "d.id", f.AfterTime, f.AfterID)
		order = " ORDER BY d.created_at DESC, d.id DESC LIMIT "
	} else {
		w.after("d.created_at", "d.id", f.AfterTime, f.AfterID)
	}
	return `SELECT d.id, d.notification_id, d.system, d.principal, d.subscription_id, d.method_id, d.channel, d.address,
d.status, d.attempts, d.last_error, d.provider_id, d.created_at, d.updated_at, d.sent_at, d.release_at, d.held_reason,
d.held_digest, n.type, n.href
FROM deliveries d JOIN notifications n ON n.id = d.notification_id` + w.where() +
		order + w.param(f.Limit), w.args
}

// DeadLetters lists the deliveries that failed for good (status failed),
// matching the rest of f, oldest first. f.Status is ignored.
func (db *DB) DeadLetters(ctx context.Context, f DeliveryFilter) ([]DeliveryListItem, error) {
	f.Status = DeliveryFailed
	return db.Deliveries(ctx, f)
}

// RequeueDelivery puts a failed delivery back in the queue in tx: its
// status becomes queued again, its attempts and last error are kept. The
// caller inserts the deliver job in the same transaction. It returns the
// delivery as tx leaves it (read in tx: once tx commits, the job may run
// at any time), notifyd.ErrNotFound if there is no such delivery and
// notifyd.ErrConflict if it is not failed. (Its notification may have been
// settled meanwhile; it stays so, and settling again when this delivery
// ends is a no-op.)
func RequeueDelivery(ctx context.Context, tx *sql.Tx, id string, now time.Time) (*DeliveryRecord, error) {
	if err := moveFailed(ctx, tx, id, DeliveryQueued, now); err != nil {
		return nil, err
	}
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, Classify(err)
	}
	return d, nil
}

// DiscardDelivery drops a failed delivery from the dead letters: its
// status becomes discarded, final. It returns notifyd.ErrNotFound if there
// is no such delivery and notifyd.ErrConflict if it is not failed.
func (db *DB) DiscardDelivery(ctx context.Context, id string, now time.Time) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		return moveFailed(ctx, tx, id, DeliveryDiscarded, now)
	})
}

// moveFailed changes the status of a failed delivery; queued again, it
// counts its age (jobs.max_age) from now.
func moveFailed(ctx context.Context, tx *sql.Tx, id, status string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $2, updated_at = $3,
queued_at = CASE WHEN $2 = 'queued' THEN $3 ELSE queued_at END WHERE id = $1 AND status = $4`,
		id, status, micros(now), DeliveryFailed)
	if err != nil {
		return Classify(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Classify(err)
	} else if n == 1 {
		kind := EventDiscarded
		if status == DeliveryQueued {
			kind = EventRequeued
		}
		if err := addEvent(ctx, tx, DeliveryEvent{DeliveryID: id, Kind: kind, At: now, Status: status}); err != nil {
			return err
		}
		return auditDeadLetter(ctx, tx, id, status, now)
	}
	var found int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE id = $1`, id).Scan(&found); err != nil {
		return notFound(err)
	}
	return notifyd.ErrConflict
}

const deadLetterCountsQuery = `SELECT d.channel, count(*) FROM deliveries d WHERE d.status = $1 AND ` + inStatusIndex +
	` GROUP BY d.channel`

// DeadLetterCounts counts the failed deliveries by channel.
func (db *DB) DeadLetterCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := db.each(ctx, deadLetterCountsQuery, []any{DeliveryFailed}, func(r scanner) error {
		var ch string
		var n int64
		err := r.Scan(&ch, &n)
		out[ch] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Setting returns a stored setting, or "" if it is not set.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.reader.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, Classify(err)
}

// SettingOrInit returns a stored setting, storing init() first if unset.
func (db *DB) SettingOrInit(ctx context.Context, name string, init func() string) (string, error) {
	if v, err := db.Setting(ctx, name); err != nil || v != "" {
		return v, err
	}
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, init())
		return err
	})
	if err != nil {
		return "", err
	}
	return db.Setting(ctx, name)
}
