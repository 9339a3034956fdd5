package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/store"
)

// ScheduleInboxes is what a CalDAV client offers to sync scheduling
// inboxes (caldavclient.Client does); a system whose CalDAV lacks it has
// none synced.
type ScheduleInboxes interface {
	// ScheduleInboxListedSince finds the principal's scheduling inbox in
	// the listing of its calendar home made at or after since (the
	// calendar sync's); caldavclient.ErrNotFound when it has none.
	ScheduleInboxListedSince(ctx context.Context, principal string, since time.Time) (caldavclient.Inbox, error)
	// InboxChanges reports what changed in the inbox since token; full
	// when the result lists every item (the others are gone).
	InboxChanges(ctx context.Context, inbox, token string) (res *caldavclient.SyncResult, full bool, err error)
}

// wantsScheduling reports whether any of subs wants a scheduling message
// type on some method.
func wantsScheduling(subs []*notifyd.Subscription) bool {
	for _, t := range notifyd.SchedulingTypes {
		if len(targets(subs, t)) > 0 {
			return true
		}
	}
	return false
}

// inboxTag is what a home's listing shows of whether an inbox changed
// (listedTag of a calendar).
func inboxTag(in caldavclient.Inbox) string {
	return listedTag(caldavclient.Calendar{SyncToken: in.SyncToken, CTag: in.CTag})
}

// syncInbox syncs the principal's scheduling inbox when its
// subscriptions want scheduling messages, from the listing of its
// calendar home made since since (the calendar sync's), and turns each
// new iTIP message into a notification, recorded with its deliveries and
// the inbox's new token in one durable write. The first sync of an inbox
// records what is there and sends nothing. The inbox's items are only
// read: never deleted, moved or written (the user's calendar client
// processes them). A message that cannot be read is logged and skipped,
// and not read again. A principal without an inbox (a server without
// scheduling, or one the service account may not read) is skipped.
//
// A CalDAV error that retrying will not cure (a 403 once the service
// account lost access, a broken answer) is logged and the inbox left for
// the next sync: it does not fail the calendar sync it is part of. A
// temporary one, or a failure of the database, does (the job is retried).
func (e *Engine) syncInbox(ctx context.Context, log *slog.Logger, sys System, key store.PrincipalKey, since time.Time,
	addrs []string) error {
	err := e.syncInboxOnce(ctx, log, sys, key, since, addrs)
	var de davError
	if errors.As(err, &de) && !caldavclient.IsTemporary(de.err) {
		log.Warn("scheduling inbox not synced; its messages wait for the next sync. "+
			"Check that the service account may read the principal's inbox (docs/scheduling.md)", "err", de.err)
		return nil
	}
	if errors.As(err, &de) {
		return de.err
	}
	return err
}

// davError is an error of the CalDAV server during an inbox sync.
type davError struct{ err error }

func (d davError) Error() string { return d.err.Error() }

// syncInboxOnce is syncInbox but for what it does with errors.
func (e *Engine) syncInboxOnce(ctx context.Context, log *slog.Logger, sys System, key store.PrincipalKey, since time.Time,
	addrs []string) error {
	dav, ok := sys.CalDAV.(ScheduleInboxes)
	if !ok {
		return nil
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, key.System, key.Principal)
	if err != nil || !wantsScheduling(subs) {
		return err
	}
	inbox, err := dav.ScheduleInboxListedSince(ctx, key.Principal, since)
	if errors.Is(err, caldavclient.ErrNotFound) {
		log.Debug("no scheduling inbox of the principal's is readable; scheduling messages are not sent "+
			"(docs/scheduling.md says what the service account needs)", "err", err)
		return nil
	}
	if err != nil {
		return davError{err}
	}
	log = log.With("inbox", inbox.Href)
	last, err := e.db.ScheduleInbox(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	first := last == nil || last.Href != inbox.Href
	tag := inboxTag(inbox)
	if !first && tag != "" && last.ListedTag == tag {
		return nil // the listing shows what it showed at the last sync
	}
	token := ""
	if !first {
		token = last.SyncToken
	}
	res, full, err := dav.InboxChanges(ctx, inbox.Href, token)
	if errors.Is(err, caldavclient.ErrInvalidSyncToken) {
		log.Warn("the server refused the inbox's sync token; syncing it whole (no message is sent twice)")
		res, full, err = dav.InboxChanges(ctx, inbox.Href, "")
	}
	if err != nil {
		return davError{fmt.Errorf("scheduling inbox %s: %w", inbox.Href, err)}
	}
	now := time.Now()
	change := store.InboxChange{Inbox: store.InboxRecord{System: key.System, Principal: key.Principal, Href: inbox.Href,
		SyncToken: res.Token, ListedTag: tag}, Fresh: first, Removed: res.Deleted, Now: now}
	if first {
		for _, r := range res.Changed {
			change.Seen = append(change.Seen, store.InboxItem{Href: r.Href, ETag: r.ETag})
		}
		log.Info("scheduling inbox synced for the first time: its messages are recorded, none sent", "messages", len(res.Changed))
		return e.recordInbox(ctx, change)
	}
	items, err := e.db.InboxItems(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	var toRead []string
	etags := make(map[string]string, len(res.Changed))
	for _, r := range res.Changed {
		etags[r.Href] = r.ETag
		if old, ok := items[r.Href]; !ok || old.ETag != r.ETag || r.ETag == "" {
			toRead = append(toRead, r.Href)
		}
	}
	if full { // the listing names every item: the others are gone
		for href := range items {
			if _, ok := etags[href]; !ok {
				change.Removed = append(change.Removed, href)
			}
		}
	}
	if len(toRead) > 0 {
		objs, err := sys.CalDAV.MultiGet(ctx, inbox.Href, toRead)
		if err != nil {
			return davError{fmt.Errorf("scheduling inbox %s: %w", inbox.Href, err)}
		}
		zone, err := e.principalZone(ctx, key)
		if err != nil {
			return err
		}
		m := inboxMessages{e: e, log: log, key: key, subs: subs, addrs: addrs, zone: zone, items: items, change: &change}
		for _, o := range objs {
			m.add(o, etags[o.Href])
		}
	}
	return e.recordInbox(ctx, change)
}

// recordInbox writes change in one durable write, with the jobs of its
// new deliveries.
func (e *Engine) recordInbox(ctx context.Context, change store.InboxChange) error {
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		ids, err := store.RecordInbox(ctx, tx, change)
		if err != nil || len(ids) == 0 {
			return err
		}
		channel := make(map[string]notifyd.Channel, len(change.Deliveries))
		for _, d := range change.Deliveries {
			channel[d.ID] = notifyd.Channel(d.Channel)
		}
		byChannel := make(map[notifyd.Channel][]string)
		for _, id := range ids {
			byChannel[channel[id]] = append(byChannel[channel[id]], id)
		}
		var jobs []river.InsertManyParams
		for _, ch := range notifyd.Channels {
			jobs = append(jobs, deliverJobs(byChannel[ch], ch)...)
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
	if err != nil {
		return err
	}
	for _, n := range change.Notifications {
		e.metrics.notifications.WithLabelValues(change.Inbox.System, n.Type).Inc()
	}
	e.metrics.suppressed.Add(float64(len(change.Unsent)))
	return nil
}
