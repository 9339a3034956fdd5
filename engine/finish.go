package engine

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/store"
)

// After-delivery policies.
const (
	PolicyDelete = "delete"
	PolicyMark   = "mark"
	PolicyKeep   = "keep"
)

// finish is the job that applies the after-delivery policy when it could
// not be applied right away (see settle) or nobody wanted the
// notification.
func (e *Engine) finish(ctx context.Context, job *river.Job[FinishArgs]) error {
	n, err := e.db.Notification(ctx, job.Args.NotificationID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	return e.applyPolicy(ctx, n)
}

// applyPolicy applies the system's after-delivery policy to a notification
// whose deliveries are all final, and records the outcome. It returns an
// error only when a later attempt may succeed.
func (e *Engine) applyPolicy(ctx context.Context, n *store.NotificationRecord) error {
	if n.Status == store.NotificationDone {
		return nil
	}
	sys, ok := e.systems[n.System]
	if !ok {
		return e.finished(ctx, n.ID, "kept: the system is no longer configured")
	}
	log := e.log.With("notification", n.ID, "system", n.System, "principal", n.Principal, "href", n.Href)
	var note string
	switch sys.AfterDelivery {
	case PolicyDelete:
		err := sys.CalDAV.Delete(ctx, n.Href, n.ETag)
		switch {
		case err == nil:
			note = "deleted from the collection"
		case errors.Is(err, caldavclient.ErrPreconditionFailed):
			note = "kept: it changed on the server since it was read (the new version is synced on its own)"
		case caldavclient.IsTemporary(err):
			log.Warn("could not delete a delivered notification; will retry", "err", err)
			return err
		default:
			note = "kept: delete refused: " + err.Error()
		}
	case PolicyMark:
		err := e.mark(ctx, sys, n)
		switch {
		case err == nil:
			note = "marked as processed"
		case errors.Is(err, caldavclient.ErrNotSupported):
			note = "kept: the server does not accept changes to notifications"
		case caldavclient.IsTemporary(err):
			return err
		default:
			note = "kept: mark refused: " + err.Error()
		}
	default:
		note = "kept"
	}
	log.Info("after-delivery policy applied", "policy", sys.AfterDelivery, "outcome", note)
	return e.finished(ctx, n.ID, note)
}

// finished records that a notification's after-delivery policy was
// applied, in a transaction shared with other workers' records. It does
// not wait for the disk (as store.DB.FinishNotification): if a crash
// loses the record, the policy is applied again, which is harmless.
func (e *Engine) finished(ctx context.Context, id, note string) error {
	ctx, now := context.WithoutCancel(ctx), time.Now()
	return e.commits.doLazy(func(tx *sql.Tx) error { return store.FinishNotificationTx(ctx, tx, id, note, now) })
}

// mark rewrites the notification with a <processed> element of notifyd's
// own namespace added inside its root element, so that calendar clients
// still show it and tools can see notifyd handled it. It is written only
// if the resource is still the version delivered (If-Match).
func (e *Engine) mark(ctx context.Context, sys System, n *store.NotificationRecord) error {
	body, etag, err := sys.CalDAV.Get(ctx, n.Href)
	if err != nil {
		return err
	}
	if etag != "" && etag != n.ETag {
		return caldavclient.ErrPreconditionFailed
	}
	end := bytes.LastIndex(body, []byte("</"))
	if end < 0 || bytes.Contains(body, []byte("urn:notifyd")) {
		return nil // not a well-formed element, or marked already
	}
	marker := `<N:processed xmlns:N="urn:notifyd" at="` + time.Now().UTC().Format(time.RFC3339) + `"/>`
	marked := append(append(append([]byte{}, body[:end]...), marker...), body[end:]...)
	return sys.CalDAV.Put(ctx, n.Href, n.ETag, marked, "application/xml; charset=utf-8")
}
