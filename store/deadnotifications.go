package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/notifyd/notifyd"
)

// Dead notifications (notifications notifyd fetched but could not turn
// into messages) are retried or discarded by an operator, each change
// audited in its own transaction.

// Audit actions on dead notifications.
const (
	ActionDeadNotificationRetried   = "dead_notification.retried"
	ActionDeadNotificationDiscarded = "dead_notification.discarded"
)

// AuditNotification is the resource type of a notification's audit
// entries.
const AuditNotification = "notification"

// discardedNote prefixes the reason of a dead notification an operator
// discarded.
const discardedNote = "discarded by an operator; it was dead: "

// deadNotification reads notification id in tx if it is dead:
// notifyd.ErrNotFound if there is none, notifyd.ErrConflict if it is not
// dead.
func deadNotification(ctx context.Context, tx *sql.Tx, id string) (*NotificationRecord, error) {
	n, err := scanNotification(tx.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err)
	}
	if n.Status != NotificationDead {
		return nil, notifyd.ErrConflict
	}
	return n, nil
}

// notificationJSON is a notification's state as an audit entry shows it.
func notificationJSON(status, reason string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}{status, reason})
	return b
}

// RetryDeadNotification records in tx that dead notification id is to be
// fetched and read again, as the actor of ctx, and returns it; the caller
// queues the job that does so in tx. The notification stays dead until
// that job replaces it. notifyd.ErrNotFound if there is none,
// notifyd.ErrConflict if it is not dead.
func RetryDeadNotification(ctx context.Context, tx *sql.Tx, id string, now time.Time) (*NotificationRecord, error) {
	n, err := deadNotification(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	// The row is locked (PostgreSQL) so that a discard at the same moment
	// waits for this one, and finds it still dead: both are recorded.
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET status = status WHERE id = $1`, id); err != nil {
		return nil, Classify(err)
	}
	return n, recordAudit(ctx, tx, AuditEntry{At: now, Actor: auditOf(ctx).Actor, Action: ActionDeadNotificationRetried,
		ResourceType: AuditNotification, ResourceID: id, System: n.System, Principal: n.Principal,
		Before: notificationJSON(n.Status, n.Error), After: notificationJSON("retry_queued", n.Error)})
}

// DiscardDeadNotification drops a dead notification from the list: its
// status becomes done, its reason says it was discarded; it is recorded
// in the audit trail as done by the actor of ctx, in the same
// transaction. notifyd.ErrNotFound if there is none, notifyd.ErrConflict
// if it is not dead.
func (db *DB) DiscardDeadNotification(ctx context.Context, id string, now time.Time) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		n, err := deadNotification(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET status = $2, error = $3, finished_at = $4
WHERE id = $1 AND status = $5`, id, NotificationDone, discardedNote+n.Error, micros(now), NotificationDead)
		if err != nil {
			return Classify(err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			if err == nil {
				err = notifyd.ErrConflict // changed since it was read (PostgreSQL)
			}
			return err
		}
		return recordAudit(ctx, tx, AuditEntry{At: now, Actor: auditOf(ctx).Actor, Action: ActionDeadNotificationDiscarded,
			ResourceType: AuditNotification, ResourceID: id, System: n.System, Principal: n.Principal,
			Before: notificationJSON(n.Status, n.Error), After: notificationJSON(NotificationDone, discardedNote+n.Error)})
	})
}

// ReplaceDeadNotification removes dead notification id in tx, for a
// retry to record what it made of it now (with AddNotifications), and
// reports whether it was still dead (false: discarded or replaced
// meanwhile, and the retry records nothing).
func ReplaceDeadNotification(ctx context.Context, tx *sql.Tx, id string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE id = $1 AND status = $2`, id, NotificationDead)
	if err != nil {
		return false, Classify(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
