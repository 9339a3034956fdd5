package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/notifyd/notifyd"
)

// HoldDelivery records in tx that delivery id, never attempted, is held
// until releaseAt for reason, to go out in its method's digest if digest,
// else on its own. It does not count as an attempt. It reports whether the
// delivery was still queued (a re-run of the job may find it held).
func HoldDelivery(ctx context.Context, tx *sql.Tx, id string, releaseAt time.Time, reason string, digest bool, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'held', release_at = $2, held_reason = $3, held_digest = $4,
updated_at = $5 WHERE id = $1 AND status = 'queued'`, id, micros(releaseAt), reason, digest, micros(now))
	if err != nil {
		return false, Classify(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	return true, addEvent(ctx, tx, DeliveryEvent{DeliveryID: id, Kind: EventHeld, At: now, Status: DeliveryHeld,
		Detail: reason, ReleaseAt: releaseAt})
}

// HeldDelivery is a held delivery due for release.
type HeldDelivery struct {
	ID, Channel string
}

// DueHeld returns up to limit held deliveries that go out on their own
// (not in a digest) and are due at or before now, oldest release first.
func (db *DB) DueHeld(ctx context.Context, now time.Time, limit int) ([]HeldDelivery, error) {
	var out []HeldDelivery
	err := db.each(ctx, `SELECT id, channel FROM deliveries WHERE status = 'held' AND release_at <= $1 AND NOT held_digest
ORDER BY release_at LIMIT $2`, []any{micros(now), limit}, func(r scanner) error {
		var h HeldDelivery
		err := r.Scan(&h.ID, &h.Channel)
		out = append(out, h)
		return err
	})
	return out, err
}

// ReleaseHeld queues again, in tx, the held deliveries among ids (those
// still held): their status becomes queued, and their age (jobs.max_age)
// counts from now. It returns the IDs it released, for the caller to
// insert their jobs in tx (only theirs: another release may have queued
// the others already).
func ReleaseHeld(ctx context.Context, tx *sql.Tx, ids []string, now time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var w filter
	n := w.param(micros(now))
	w.in("id", ids)
	w.conds = append(w.conds, "status = 'held'")
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET status = 'queued', queued_at = `+n+`, updated_at = `+n+w.where()+
		` RETURNING id`, w.args...)
	if err != nil {
		return nil, Classify(err)
	}
	defer rows.Close()
	out := make([]string, 0, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, Classify(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, Classify(err)
	}
	rows.Close()
	return out, addReleased(ctx, tx, out, now)
}

// addReleased records in tx that the deliveries ids were released at now
// (one statement, with one parameter a delivery).
func addReleased(ctx context.Context, tx *sql.Tx, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	var w filter
	at := "CAST(" + w.param(micros(now)) + " AS BIGINT)"
	w.in("id", ids)
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_events (delivery_id, kind, attempt, started_at, at, status)
SELECT id, '`+EventReleased+`', 0, `+at+`, `+at+`, '`+DeliveryQueued+`' FROM deliveries`+w.where(), w.args...)
	return Classify(err)
}

// DigestGroup is the held deliveries of one method's digest due at one
// time.
type DigestGroup struct {
	SubscriptionID, MethodID, Channel string
	At                                time.Time
}

// DueDigests returns up to limit digests due at or before now with held
// deliveries, after the group after (its zero value: from the first), in
// (release time, subscription, method) order.
func (db *DB) DueDigests(ctx context.Context, now time.Time, after DigestGroup, limit int) ([]DigestGroup, error) {
	var out []DigestGroup
	at := int64(-1)
	if !after.At.IsZero() {
		at = micros(after.At)
	}
	err := db.each(ctx, `SELECT release_at, subscription_id, method_id, min(channel) FROM deliveries
WHERE status = 'held' AND release_at <= $1 AND held_digest
  AND (release_at > $2 OR (release_at = $2 AND (subscription_id > $3 OR (subscription_id = $3 AND method_id > $4))))
GROUP BY release_at, subscription_id, method_id ORDER BY release_at, subscription_id, method_id LIMIT $5`,
		[]any{micros(now), at, after.SubscriptionID, after.MethodID, limit}, func(r scanner) error {
			var g DigestGroup
			var t int64
			err := r.Scan(&t, &g.SubscriptionID, &g.MethodID, &g.Channel)
			g.At = fromMicros(t)
			out = append(out, g)
			return err
		})
	return out, err
}

// HeldDigest returns the deliveries still held for digest g, oldest
// first, with their notifications by ID.
func (db *DB) HeldDigest(ctx context.Context, g DigestGroup) ([]*DeliveryRecord, map[string]*NotificationRecord, error) {
	var ds []*DeliveryRecord
	err := db.each(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE status = 'held' AND release_at = $1
AND subscription_id = $2 AND method_id = $3 AND held_digest ORDER BY created_at, id`,
		[]any{micros(g.At), g.SubscriptionID, g.MethodID}, func(r scanner) error {
			d, err := scanDelivery(r)
			if err == nil {
				ds = append(ds, d)
			}
			return err
		})
	if err != nil || len(ds) == 0 {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(ds))
	var nids []string
	for _, d := range ds {
		if !seen[d.NotificationID] {
			seen[d.NotificationID] = true
			nids = append(nids, d.NotificationID)
		}
	}
	notifications := make(map[string]*NotificationRecord, len(nids))
	for len(nids) > 0 {
		chunk := nids[:min(len(nids), 500)]
		nids = nids[len(chunk):]
		var w filter
		w.in("id", chunk)
		err = db.each(ctx, `SELECT `+notificationColumns+` FROM notifications`+w.where(), w.args, func(r scanner) error {
			n, err := scanNotification(r)
			if err == nil {
				notifications[n.ID] = n
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return ds, notifications, nil
}

// RecordHeldOutcome stores in tx the outcome o of sending held delivery
// o.ID (in a digest): only if it is still held, which claims it (ok is
// false when another run recorded it). settled is as for
// RecordDeliveryAttempt.
func RecordHeldOutcome(ctx context.Context, tx *sql.Tx, o DeliveryOutcome) (settled string, ok bool, err error) {
	settled, err = recordAttempt(ctx, tx, o, DeliveryHeld)
	if errors.Is(err, notifyd.ErrNotFound) {
		return "", false, nil
	}
	return settled, err == nil, err
}

// AnyHeldDue reports whether a delivery held until before t is still
// held: its release was missed.
func (db *DB) AnyHeldDue(ctx context.Context, t time.Time) (bool, error) {
	var one int
	err := db.reader.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE status = 'held' AND release_at < $1 LIMIT 1`,
		micros(t)).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, Classify(err)
}

// MethodSent returns how many messages the method of subscription sub
// sent in the throttle period starting at periodStart.
func (db *DB) MethodSent(ctx context.Context, sub, method string, periodStart time.Time) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT sent FROM method_sends WHERE subscription_id = $1 AND method_id = $2
AND period_start = $3`, sub, method, micros(periodStart)).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, Classify(err)
}

// countSend is the statement that counts one message of a method in the
// throttle period starting at $3 (a count of an earlier period, made
// late, changes nothing) and returns the count of the row's period.
const countSend = `INSERT INTO method_sends (subscription_id, method_id, period_start, sent) VALUES ($1, $2, $3, 1)
ON CONFLICT (subscription_id, method_id) DO UPDATE SET
sent = CASE WHEN method_sends.period_start = excluded.period_start THEN method_sends.sent + 1
            WHEN method_sends.period_start > excluded.period_start THEN method_sends.sent ELSE 1 END,
period_start = CASE WHEN method_sends.period_start > excluded.period_start THEN method_sends.period_start
                    ELSE excluded.period_start END
RETURNING sent, period_start`

// CountSend counts in tx one message the method sent in the throttle
// period starting at periodStart (a count of an earlier period, recorded
// late, changes nothing).
func CountSend(ctx context.Context, tx *sql.Tx, sub, method string, periodStart time.Time) error {
	var sent, start int64
	return Classify(tx.QueryRowContext(ctx, countSend, sub, method, micros(periodStart)).Scan(&sent, &start))
}

// TakeSend counts one message of the method in the throttle period
// starting at periodStart before it is sent, and returns how many the
// period counted before it: the message may go if that is under the
// throttle. Concurrent deliveries of one method each take their own
// place, so a burst cannot all pass the last free one. A message that is
// not sent after all still counts (the period then allows one fewer).
func (db *DB) TakeSend(ctx context.Context, sub, method string, periodStart time.Time) (before int, err error) {
	err = db.Write(ctx, Lazy, func(tx *sql.Tx) error {
		var sent, start int64
		if err := tx.QueryRowContext(ctx, countSend, sub, method, micros(periodStart)).Scan(&sent, &start); err != nil {
			return err
		}
		before = int(sent) - 1
		if start != micros(periodStart) {
			before = 0 // counted in a later period: this one's count is not kept
		}
		return nil
	})
	return before, err
}
