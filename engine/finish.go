package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
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

// FinishArgs is the job that applies the system's after-delivery policy
// to a notification whose deliveries are all final, when it could not be
// applied right away (see settle) or nobody wanted the notification. It
// is inserted only by the transaction that claims the notification's
// finish (store.ClaimFinish), and a finished notification is not finished
// again.
type FinishArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind is the job's River kind.
func (FinishArgs) Kind() string { return "finish_notification" }

// QueueFinish holds the after-delivery policy jobs and the sweep.
const QueueFinish = "finish"

// finishJob is the job that finishes notification id.
func finishJob(id string) river.InsertManyParams {
	return river.InsertManyParams{Args: FinishArgs{NotificationID: id},
		InsertOpts: &river.InsertOpts{Queue: QueueFinish}}
}

// finishWorker applies a notification's after-delivery policy and records
// it; a temporary failure of the CalDAV server is retried with backoff.
type finishWorker struct {
	river.WorkerDefaults[FinishArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *finishWorker) Work(ctx context.Context, job *river.Job[FinishArgs]) error {
	n, err := w.e.db.Notification(ctx, job.Args.NotificationID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	f, err := w.e.applyPolicy(ctx, n)
	if err != nil {
		return err
	}
	if f.id != "" {
		w.e.writeFinished(ctx, []finishedRecord{f})
	}
	return nil
}

// applyPolicy applies the system's after-delivery policy to a notification
// whose deliveries are all final and returns the record to write of it
// (none, id "", if it was finished already). It returns an error only
// when a later attempt may succeed.
func (e *Engine) applyPolicy(ctx context.Context, n *store.NotificationRecord) (finishedRecord, error) {
	if n.Status == store.NotificationDone {
		return finishedRecord{}, nil
	}
	gone := false
	done := func(note string) (finishedRecord, error) {
		return finishedRecord{id: n.ID, note: note, at: time.Now(), gone: gone}, nil
	}
	sys, ok := e.systems[n.System]
	if !ok {
		return done("kept: the system is no longer configured")
	}
	if sys.AfterDelivery == PolicyDelete || sys.AfterDelivery == PolicyMark {
		st, err := e.db.Principal(ctx, n.System, n.Principal)
		if err != nil && !errors.Is(err, notifyd.ErrNotFound) {
			return finishedRecord{}, err
		}
		collection := ""
		if st != nil {
			collection = st.CollectionURL
		}
		if !fromNotificationCollection(n.Href, collection) {
			return done(keptElsewhere(n))
		}
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
			note, gone = "deleted from the collection", true
		case errors.Is(err, caldavclient.ErrPreconditionFailed):
			note, routine = "kept: it changed on the server since it was read (the new version is synced on its own)", false
		case caldavclient.IsTemporary(err):
			e.log.Warn("could not delete a delivered notification; will retry", append(attrs, "err", err)...)
			return finishedRecord{}, err
		default:
			note, routine = "kept: delete refused: "+err.Error(), false
		}
	case PolicyMark:
		err := e.mark(ctx, sys, n)
		switch {
		case err == nil:
			// The marked version replaces this one.
			note, gone = "marked as processed", true
		case errors.Is(err, caldavclient.ErrNotSupported):
			note, routine = "kept: the server does not accept changes to notifications", false
		case caldavclient.IsTemporary(err):
			return finishedRecord{}, err
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
	return done(note)
}

// fromNotificationCollection reports whether href, a notification's,
// names a resource inside collection, the principal's notification
// collection as its last sync found it: the only notifications the
// after-delivery policy may delete or mark on the server. A notification
// from anywhere else is never touched there: a reminder (its href is the
// event or task in the calendar), a published event (its ENS event URL,
// enp:///ics/…), a change found by syncing a calendar (the calendar
// object), and any notification while the collection is unknown
// (collection ""). A new source of notifications needs no mark: an href
// that is not a path below the notification collection keeps it safe.
func fromNotificationCollection(href, collection string) bool {
	if collection == "" || !strings.HasPrefix(href, "/") {
		return false
	}
	rest, ok := strings.CutPrefix(href, strings.TrimSuffix(collection, "/")+"/")
	if !ok || strings.Trim(rest, "/") == "" {
		return false
	}
	for _, seg := range strings.Split(rest, "/") {
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
			return false
		}
	}
	return true
}

// keptElsewhere is the note of a notification the after-delivery policy
// leaves alone because it is no resource of the notification collection.
func keptElsewhere(n *store.NotificationRecord) string {
	switch {
	case notifyd.NotificationType(n.Type) == notifyd.TypeReminder:
		return "kept: a reminder leaves its event or task in the calendar"
	case strings.HasPrefix(n.Href, "enp:"):
		return "kept: a published event is no resource of the CalDAV server"
	case slices.Contains(notifyd.SchedulingTypes, notifyd.NotificationType(n.Type)):
		return "kept: a scheduling message stays in the inbox for the user's calendar client"
	}
	return "kept: not a resource of the principal's notification collection"
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
	if end < 0 || marked(body) {
		return nil // not a well-formed element, or marked already
	}
	marker := `<N:processed xmlns:N="` + markNamespace + `" at="` + time.Now().UTC().Format(time.RFC3339) + `"/>`
	body = append(append(append([]byte{}, body[:end]...), marker...), body[end:]...)
	return sys.CalDAV.Put(ctx, n.Href, n.ETag, body, "application/xml; charset=utf-8")
}

// markNamespace is the namespace of the element the mark policy adds.
const markNamespace = "urn:notifyd"

// marked reports whether a notification's body carries the mark policy's
// element: the sync records such a version, which notifyd wrote, as done.
func marked(body []byte) bool { return bytes.Contains(body, []byte(markNamespace)) }
