package engine

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
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
	attrs := []any{"notification", n.ID, "system", n.System, "principal", n.Principal, "href", n.Href}
	var note string
	// routine: the policy did what it says; logged at debug level only,
	// since the delivery log already has a line per message.
	routine := true
	switch sys.AfterDelivery {
	case PolicyDelete:
		err := sys.CalDAV.Delete(ctx, n.Href, n.ETag)
		switch {
		case err == nil:
			note = "deleted from the collection"
		case errors.Is(err, caldavclient.ErrPreconditionFailed):
			note, routine = "kept: it changed on the server since it was read (the new version is synced on its own)", false
		case caldavclient.IsTemporary(err):
			e.log.Warn("could not delete a delivered notification; will retry", append(attrs, "err", err)...)
			return err
		default:
			note, routine = "kept: delete refused: "+err.Error(), false
		}
	case PolicyMark:
		err := e.mark(ctx, sys, n)
		switch {
		case err == nil:
			note = "marked as processed"
		case errors.Is(err, caldavclient.ErrNotSupported):
			note, routine = "kept: the server does not accept changes to notifications", false
		case caldavclient.IsTemporary(err):
			return err
		default:
			note, routine = "kept: mark refused: "+err.Error(), false
		}
	default:
		note = "kept"
	}
	level := slog.LevelInfo
	if routine {
		level = slog.LevelDebug
	}
	e.log.Log(ctx, level, "after-delivery policy applied", append(attrs, "policy", sys.AfterDelivery, "outcome", note)...)
	return e.finished(ctx, n.ID, note)
}

// finished records that a notification's after-delivery policy was
// applied, in a transaction shared with other workers' records, or,
// within a batch job (see batchEnd), with the batch's others once it is
// done. It does not wait for the disk (as store.DB.FinishNotification):
// if a crash loses the record, the policy is applied again, which is
// harmless.
func (e *Engine) finished(ctx context.Context, id, note string) error {
	rec := finishedRecord{id, note, time.Now()}
	if b := batchOf(ctx); b != nil {
		b.finished = append(b.finished, rec)
		return nil
	}
	return e.writeFinished(ctx, []finishedRecord{rec})
}

type finishedRecord struct {
	id, note string
	at       time.Time
}

// writeFinished writes recs in a transaction shared with other workers'
// records, without waiting for the disk.
func (e *Engine) writeFinished(ctx context.Context, recs []finishedRecord) error {
	ctx = context.WithoutCancel(ctx)
	return e.commits.doLazy(func(tx *sql.Tx) error {
		for _, r := range recs {
			if err := store.FinishNotificationTx(ctx, tx, r.id, r.note, r.at); err != nil {
				return err
			}
		}
		return nil
	})
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
