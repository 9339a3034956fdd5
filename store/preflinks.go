package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// PreferenceLinksRevokedAt returns when the preference links of
// subscription id were last revoked: links made at or before then no
// longer open its page. Zero when they never were.
func (db *DB) PreferenceLinksRevokedAt(ctx context.Context, id string) (time.Time, error) {
	var at int64
	err := db.reader.QueryRowContext(ctx,
		`SELECT revoked_at FROM preference_link_revocations WHERE subscription_id = $1`, id).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, Classify(err)
	}
	return fromMicros(at), nil
}

// RevokePreferenceLinks voids the preference links of subscription id
// made at or before at (a later revocation time is kept);
// notifyd.ErrNotFound if there is no such subscription.
func (db *DB) RevokePreferenceLinks(ctx context.Context, id string, at time.Time) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		var system, principal string
		if err := tx.QueryRowContext(ctx, `SELECT system, principal FROM subscriptions WHERE id = $1`, id).Scan(&system, &principal); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO preference_link_revocations (subscription_id, revoked_at) VALUES ($1, $2)
ON CONFLICT (subscription_id) DO UPDATE SET revoked_at = CASE
  WHEN excluded.revoked_at > preference_link_revocations.revoked_at THEN excluded.revoked_at
  ELSE preference_link_revocations.revoked_at END`, id, micros(at))
		if err != nil {
			return err
		}
		after, _ := json.Marshal(struct {
			RevokedAt time.Time `json:"revoked_at"`
		}{at.UTC()})
		return recordAudit(ctx, tx, AuditEntry{Actor: auditOf(ctx).Actor, Action: ActionPreferenceLinksRevoked,
			ResourceType: AuditSubscription, ResourceID: id, System: system, Principal: principal, After: after})
	})
}

// RecentDelivery is one line of what a subscription recently sent, as
// its preference page shows it.
type RecentDelivery struct {
	CreatedAt, SentAt time.Time
	Channel, Address  string
	Status            string
	NotificationType  string
}

// RecentDeliveries returns the last limit deliveries of subscription id
// (of system and principal, which the log is indexed by), newest first.
func (db *DB) RecentDeliveries(ctx context.Context, system, principal, id string, limit int) ([]RecentDelivery, error) {
	var out []RecentDelivery
	err := db.each(ctx, `SELECT d.created_at, d.sent_at, d.channel, d.address, d.status, n.type
FROM deliveries d JOIN notifications n ON n.id = d.notification_id
WHERE d.system = $1 AND d.principal = $2 AND d.subscription_id = $3
ORDER BY d.created_at DESC, d.id DESC LIMIT $4`, []any{system, principal, id, limit}, func(r scanner) error {
		var d RecentDelivery
		var created, sent int64
		if err := r.Scan(&created, &sent, &d.Channel, &d.Address, &d.Status, &d.NotificationType); err != nil {
			return err
		}
		d.CreatedAt = fromMicros(created)
		if sent != 0 {
			d.SentAt = fromMicros(sent)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}
