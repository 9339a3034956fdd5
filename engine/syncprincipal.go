package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/caldavclient/notification"
	"github.com/notifyd/notifyd/store"
)

// notificationID identifies one version of a notification resource.
func notificationID(system, principal, href, etag string) string {
	return digest(system, principal, href, etag)
}

// deliveryID identifies one message: a notification to one address on
// one channel. It is the idempotency key of delivery.
func deliveryID(notificationID string, ch notifyd.Channel, address string) string {
	return digest(notificationID, string(ch), address)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// QueueSync is the River queue that holds principal sync jobs.
const QueueSync = "sync"

// SyncPrincipalArgs is the job that syncs one principal's notification
// collection. At most one such job per (system, principal) waits or runs at
// a time: the principal's state in the store records that one is queued
// (store.MarkDirty), pings that arrive meanwhile only advance its dirty
// generation, and the job syncs again when it sees that.
type SyncPrincipalArgs struct {
	System    string `json:"system"`
	Principal string `json:"principal"`
}

// Kind is the job's River kind.
func (SyncPrincipalArgs) Kind() string { return "sync_principal" }

// InsertOpts puts the job in the sync queue. Its uniqueness comes from the
// principal's queued flag, not from River's unique jobs, which cost more
// than twice as much to insert on SQLite.
func (SyncPrincipalArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueSync} }

// syncPrincipalWorker syncs one principal's notification collection from
// its stored token and, in one transaction, records the new
// notifications, the deliveries they make (with their jobs) and the new
// token. If the principal was pinged during the sync, it runs again.
type syncPrincipalWorker struct {
	river.WorkerDefaults[SyncPrincipalArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *syncPrincipalWorker) Work(ctx context.Context, job *river.Job[SyncPrincipalArgs]) error {
	e := w.e
	args := job.Args
	log := e.log.With("system", args.System, "principal", args.Principal, "job", job.ID)
	sys, ok := e.systems[args.System]
	if !ok {
		log.Warn("sync dropped: the system is no longer in the configuration")
		return river.JobCancel(fmt.Errorf("system %q is not configured", args.System))
	}
	st, err := e.db.Principal(ctx, args.System, args.Principal)
	if err != nil {
		return err
	}
	startGen := st.DirtyGen

	collection := st.CollectionURL
	if collection == "" {
		collection, err = sys.CalDAV.NotificationURL(ctx, args.Principal)
		if errors.Is(err, caldavclient.ErrNotFound) {
			log.Warn("the CalDAV server has no such principal, or it has no notification collection; not retrying until pinged again",
				"err", err)
			e.metrics.syncs.WithLabelValues(args.System, "gone").Inc()
			return e.giveUp(ctx, args, err, true, startGen)
		}
		if err != nil {
			return e.syncFailed(ctx, log, job, err, startGen)
		}
	}

	res, err := sys.CalDAV.Sync(ctx, collection, st.SyncToken)
	if errors.Is(err, caldavclient.ErrInvalidSyncToken) {
		log.Warn("the server refused the stored sync token; running a full sync (nothing already handled is sent again)")
		res, err = sys.CalDAV.Sync(ctx, collection, "")
	}
	if errors.Is(err, caldavclient.ErrNotFound) {
		// The collection moved or vanished: discover it again next time.
		sys.CalDAV.ForgetNotificationURL(args.Principal)
		if ferr := e.db.ForgetCollection(ctx, args.System, args.Principal); ferr != nil {
			return ferr
		}
		log.Warn("the notification collection is gone from where it was; finding it again", "collection", collection)
		if job.Attempt < job.MaxAttempts {
			return fmt.Errorf("notification collection %s not found; rediscovering: %w", collection, err)
		}
		return e.syncFailed(ctx, log, job, err, startGen)
	}
	if err != nil {
		return e.syncFailed(ctx, log, job, err, startGen)
	}

	rec := store.SyncRecord{System: args.System, Principal: args.Principal, Token: res.Token,
		SyncedGen: startGen, CollectionURL: collection, Now: time.Now(), Deleted: res.Deleted}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, args.System, args.Principal)
	if err != nil {
		return err
	}
	// Nobody subscribed: nothing to fetch or send; the token still moves
	// on, and the notifications stay on the server untouched.
	var shares []share
	if len(subs) > 0 && len(res.Changed) > 0 {
		if err := e.collect(ctx, log, sys, args, res.Changed, subs, &rec, &shares); err != nil {
			return e.syncFailed(ctx, log, job, err, startGen)
		}
	}

	// The sync's write is lazy: if a power failure loses it, it loses
	// everything written after it too (the job's completion, any record of
	// a delivery), so the job runs again and finds the same notifications;
	// nothing is lost or recorded twice. A delivery's record, which must be
	// durable, takes this write to disk along with it.
	var out store.SyncOutcome
	err = e.db.Write(ctx, store.Lazy, func(tx *sql.Tx) error {
		var err error
		if out, err = store.RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		// The calendars shared with the principal are synced with its own
		// for updates (updatesync.go).
		key := store.PrincipalKey{System: args.System, Principal: args.Principal}
		for _, sh := range shares {
			if err := store.SetCalendarSharee(ctx, tx, key, sh.calendar, sh.access, rec.Now); err != nil {
				return err
			}
		}
		// A ping names a principal whose calendars may have changed too:
		// its reminders are worked out again at once, not at the next poll.
		if err := e.queueOwnCalendarSync(ctx, tx, args, subs); err != nil {
			return err
		}
		// The new deliveries of each channel go in batch jobs, in the order
		// the sync found them.
		channel := make(map[string]notifyd.Channel, len(rec.Deliveries))
		for _, d := range rec.Deliveries {
			channel[d.ID] = notifyd.Channel(d.Channel)
		}
		byChannel := make(map[notifyd.Channel][]string)
		for _, id := range out.NewDeliveries {
			byChannel[channel[id]] = append(byChannel[channel[id]], id)
		}
		var jobs []river.InsertManyParams
		for ch, ids := range byChannel {
			jobs = append(jobs, deliverJobs(ids, ch)...)
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
	if err != nil {
		return err
	}
	e.metrics.syncs.WithLabelValues(args.System, "ok").Inc()
	e.metrics.suppressed.Add(float64(len(rec.Unsent)))
	for _, n := range rec.Notifications {
		if n.Error == markedNote {
			continue // notifyd's own mark, not a new notification
		}
		t := n.Type
		if n.Status == store.NotificationDead {
			t = "dead"
		}
		e.metrics.notifications.WithLabelValues(args.System, t).Inc()
	}
	log.Info("principal synced", "changed", len(res.Changed), "deleted", len(res.Deleted),
		"new_notifications", len(rec.Notifications), "deliveries", len(rec.Deliveries))

	// A ping that arrived while this job ran did not queue another (this
	// one was queued): sync again to pick up what it announced.
	if out.Again {
		return river.JobSnooze(0)
	}
	return nil
}

// share is what a sharing invitation says of a calendar shared with the
// principal (shareOf).
type share struct{ calendar, access string }

// collect fetches and parses the changed resources not seen before, and
// works out their deliveries, and what the sharing invitations among them
// say (shares).
func (e *Engine) collect(ctx context.Context, log *slog.Logger, sys System, args SyncPrincipalArgs,
	changed []caldavclient.Resource, subs []*notifyd.Subscription, rec *store.SyncRecord, shares *[]share) error {
	ids := make([]string, len(changed))
	for i, r := range changed {
		ids[i] = notificationID(args.System, args.Principal, r.Href, r.ETag)
	}
	known, err := e.db.KnownNotifications(ctx, ids)
	if err != nil {
		return err
	}
	for i, r := range changed {
		if known[ids[i]] {
			// Its other versions are gone (replaced), this one is not.
			rec.Listed = append(rec.Listed, store.ResourceVersion{Href: r.Href, ETag: r.ETag})
			continue
		}
		if err := e.collectOne(ctx, log, sys, args, r, ids[i], subs, rec, shares); err != nil {
			return err
		}
	}
	return nil
}

// collectOne fetches and parses resource r (notification id in the
// version the sync listed), and adds what it makes to rec: a notification
// set aside (dead, or marked by notifyd), or one with its deliveries; and
// what a sharing invitation says to shares. A resource gone since adds
// nothing.
func (e *Engine) collectOne(ctx context.Context, log *slog.Logger, sys System, args SyncPrincipalArgs, r caldavclient.Resource,
	listedID string, subs []*notifyd.Subscription, rec *store.SyncRecord, shares *[]share) error {
	body, etag, err := sys.CalDAV.Get(ctx, r.Href)
	if errors.Is(err, caldavclient.ErrNotFound) {
		return nil // removed since the sync; the next sync reports it
	}
	if errors.Is(err, caldavclient.ErrTooLarge) {
		// Far too large to be a notification: set aside like one
		// that cannot be parsed, rather than failing the whole sync
		// (and every later one) over it.
		log.Warn("notification too large to be read; it is recorded as dead and not delivered", "href", r.Href, "err", err)
		rec.Notifications = append(rec.Notifications, setAside(listedID, r.Href, r.ETag, store.NotificationDead, err.Error()))
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", r.Href, err)
	}
	if etag == "" {
		etag = r.ETag
	}
	id := notificationID(args.System, args.Principal, r.Href, etag)
	rec.Listed = append(rec.Listed, store.ResourceVersion{Href: r.Href, ETag: etag})
	if marked(body) {
		// Marked by the mark policy, which changed its ETag: the
		// version delivered is recorded under the one it had.
		rec.Notifications = append(rec.Notifications, setAside(id, r.Href, etag, store.NotificationDone, markedNote))
		return nil
	}
	n, perr := notification.Parse(body)
	if perr != nil {
		// A poison notification is set aside with its reason; it
		// never blocks the others.
		log.Warn("notification cannot be parsed; it is recorded as dead and not delivered",
			"href", r.Href, "err", perr)
		rec.Notifications = append(rec.Notifications, setAside(id, r.Href, etag, store.NotificationDead, perr.Error()))
		return nil
	}
	if cal, access, ok := shareOf(n); ok {
		*shares = append(*shares, share{cal, access})
	}
	e.fillCalendarName(ctx, log, sys, args.Principal, n)
	parsed, err := json.Marshal(n)
	if err != nil {
		return err
	}
	// A change the principal made itself (changed-by) is not sent to
	// it: its deliveries are recorded as suppressed, with why.
	own, err := e.ownChangeReason(ctx, args.System, args.Principal, "changed-by", changedBy(n)...)
	if err != nil {
		return err
	}
	nr := store.NotificationRecord{ID: id, Href: r.Href, ETag: etag, Type: string(n.Type), Parsed: parsed}
	sent := len(rec.Deliveries)
	var unsent []store.DeliveryRecord
	for _, t := range targets(subs, n.Type) {
		d := store.DeliveryRecord{
			ID: deliveryID(id, t.Method.Channel, t.Method.Address), NotificationID: id,
			SubscriptionID: t.SubscriptionID, MethodID: t.Method.ID,
			Channel: string(t.Method.Channel), Address: t.Method.Address,
		}
		if own != "" && !notifiesOwn(subs, t.SubscriptionID) {
			d.Status, d.LastError = store.DeliverySuppressed, own
			unsent = append(unsent, d)
			continue
		}
		rec.Deliveries = append(rec.Deliveries, d)
	}
	if len(rec.Deliveries) == sent && len(unsent) > 0 {
		// Nobody is told: done, and left on the server as a
		// notification nobody wants is.
		nr.Status, nr.Error = store.NotificationDone, "not sent: "+own
	}
	rec.Notifications = append(rec.Notifications, nr)
	rec.Unsent = append(rec.Unsent, unsent...)
	return nil
}

// notifiesOwn reports whether subscription id of subs asks for its
// principal's own changes too (notify_own_changes).
func notifiesOwn(subs []*notifyd.Subscription, id string) bool {
	for _, s := range subs {
		if s.ID == id {
			return s.NotifyOwnChanges
		}
	}
	return false
}

// markedNote is the status note of a notification notifyd marked as
// processed (the mark policy), seen again by a sync.
const markedNote = "kept: marked as processed by notifyd"

// setAside records a notification that is not delivered, with its status
// (dead, or done) and why.
func setAside(id, href, etag, status, why string) store.NotificationRecord {
	return store.NotificationRecord{ID: id, Href: href, ETag: etag, Type: string(notifyd.TypeOther), Parsed: []byte("{}"),
		Status: status, Error: why}
}

// fillCalendarName reads the display name of the calendar a notification
// names, when the notification does not carry it, the calendar is one of
// the principal's calendar home and the service account may read it: a
// notification's href is the sender's to choose, and must not make notifyd
// read (and mail) the name of anything else on the server. Otherwise the
// name stays empty and the message names the calendar by the last segment
// of its href. Names are cached; failures leave it empty.
func (e *Engine) fillCalendarName(ctx context.Context, log *slog.Logger, sys System, principal string, n *notifyd.Notification) {
	href := n.Calendar.Href
	if href == "" || n.Calendar.DisplayName != "" {
		return
	}
	n.Calendar.DisplayName = e.names.get(ctx, sys.Name+"\x00"+principal+"\x00"+href, func() (string, error) {
		name, err := sys.CalDAV.CalendarName(ctx, principal, href)
		if errors.Is(err, caldavclient.ErrNotCalendar) {
			log.Debug("the calendar a notification names is not one of the principal's calendar home; "+
				"its name is not looked up, the message uses the last segment of its href", "calendar", href)
		}
		return name, err
	})
}

// syncFailed records why a sync failed and returns the error for River to
// retry. A permanent error, or the last attempt, ends the job instead: the
// principal keeps its sync token and is synced when pinged again.
func (e *Engine) syncFailed(ctx context.Context, log *slog.Logger, job *river.Job[SyncPrincipalArgs], err error, gen int64) error {
	args := job.Args
	e.metrics.syncs.WithLabelValues(args.System, "failed").Inc()
	if caldavclient.IsTemporary(err) && job.Attempt < job.MaxAttempts {
		log.Warn("sync failed; it will be retried with backoff. Check that the CalDAV server is up and reachable", "err", err)
		if rerr := e.db.RecordSyncFailure(ctx, args.System, args.Principal, err.Error()); rerr != nil {
			log.Error("could not record a sync failure", "err", rerr)
		}
		return err
	}
	log.Error("sync failed and is given up; check the system's caldav_url and service-account credentials, then ping again",
		"err", err, "attempts", job.Attempt)
	if gerr := e.giveUp(ctx, args, err, false, gen); gerr != nil {
		return gerr
	}
	return river.JobCancel(err)
}

// giveUp ends a principal's sync job without a sync, or runs it again if
// the principal was pinged during this attempt.
func (e *Engine) giveUp(ctx context.Context, args SyncPrincipalArgs, reason error, gone bool, gen int64) error {
	if err := e.syncCalendarsToo(ctx, args); err != nil {
		return err
	}
	again, err := e.db.GiveUpSync(ctx, args.System, args.Principal, reason.Error(), gone, gen)
	if err != nil {
		return err
	}
	if again {
		return river.JobSnooze(0)
	}
	return nil
}
