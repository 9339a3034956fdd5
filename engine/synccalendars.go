package engine

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/calendar/alarm"
	"github.com/notifyd/notifyd/store"
)

// QueueCalendars holds the calendar sync jobs.
const QueueCalendars = "calendars"

// SyncCalendarsArgs is the job that syncs one principal's calendars for
// reminders. At most one waits or runs per principal (the calendar home's
// queued flag in the store, store.QueueCalendarSyncs); asked for again
// while it runs, it runs once more.
type SyncCalendarsArgs struct {
	System    string `json:"system"`
	Principal string `json:"principal"`
	// ListedSince lets the first run of the job use a listing of the
	// calendar home made since then for another principal (on Cyrus all
	// share one home): a poll sets it to when it ran (one listing per
	// poll), a ping's sync to a time after the ping arrived, so that a
	// burst of pings shares listings that all show what the pings are
	// about. A run again because a ping asked for one meanwhile lists the
	// home afresh.
	ListedSince time.Time `json:"listed_since,omitzero"`
}

// Kind is the job's River kind.
func (SyncCalendarsArgs) Kind() string { return "sync_calendars" }

// InsertOpts puts the job in the calendars queue.
func (SyncCalendarsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCalendars}
}

// syncCalendarsWorker lists the principal's calendars, syncs each that
// takes events or tasks from its stored token (a refused token means a
// full sync), reads what changed with calendar-multiget, works out the
// alarm instances of each changed object within the horizon, and records
// each calendar in one durable write with the jobs of its new instances.
// Objects that cannot be read or parsed are logged and left as they were.
type syncCalendarsWorker struct {
	river.WorkerDefaults[SyncCalendarsArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *syncCalendarsWorker) Work(ctx context.Context, job *river.Job[SyncCalendarsArgs]) error {
	e, args := w.e, job.Args
	key := store.PrincipalKey{System: args.System, Principal: args.Principal}
	log := e.log.With("system", args.System, "principal", args.Principal, "job", job.ID)
	sys, ok := e.systems[args.System]
	if !ok {
		return e.finishCalendarSync(ctx, key, "the system is no longer configured")
	}
	since := args.ListedSince
	if job.Attempt > 1 || snoozed(job.Metadata) {
		since = time.Time{}
	}
	err := e.syncCalendars(ctx, log, sys, key, since)
	switch {
	case err == nil:
		e.metrics.calendarSyncs.WithLabelValues(args.System, "ok").Inc()
		return e.finishCalendarSync(ctx, key, "")
	case caldavclient.IsTemporary(err) && job.Attempt < job.MaxAttempts:
		e.metrics.calendarSyncs.WithLabelValues(args.System, "failed").Inc()
		log.Warn("calendar sync failed; it will be retried with backoff. Check that the CalDAV server is up", "err", err)
		return err
	default:
		e.metrics.calendarSyncs.WithLabelValues(args.System, "failed").Inc()
		log.Error("calendar sync failed; reminders of this principal wait for the next poll. "+
			"Check that the service account may read the principal's calendars (docs/reminders.md)", "err", err)
		return e.finishCalendarSync(ctx, key, err.Error())
	}
}

// finishCalendarSync releases the principal's calendar sync job, or runs
// it again when it was asked for meanwhile.
func (e *Engine) finishCalendarSync(ctx context.Context, key store.PrincipalKey, failure string) error {
	var again bool
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		again, err = store.FinishCalendarSync(ctx, tx, key, failure, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	if again {
		return river.JobSnooze(0)
	}
	return nil
}

// snoozed reports a job run again after it snoozed (River counts the
// snoozes in its metadata).
func snoozed(metadata []byte) bool {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	return json.Unmarshal(metadata, &m) == nil && m.Snoozes > 0
}

// syncCalendars syncs each calendar of the principal that takes events or
// tasks and changed since its last sync, from a listing of its calendar
// home made since since (afresh when zero). When the principal's calendar
// user addresses changed, the alarm instances of all its stored objects
// are worked out again, then the addresses recorded.
func (e *Engine) syncCalendars(ctx context.Context, log *slog.Logger, sys System, key store.PrincipalKey, since time.Time) error {
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	scope, err := e.updateScopeOf(ctx, key, subs)
	if err != nil {
		return err
	}
	listing := since // the inbox and shared calendars are found in the same listing
	if listing.IsZero() {
		listing = time.Now()
	}
	cals, err := sys.CalDAV.CalendarsListedSince(ctx, key.Principal, since)
	if err != nil {
		return err
	}
	// The calendars shared with the principal, from the same listing.
	shared, err := e.sharedCalendars(ctx, sys, key, listing, &scope)
	if err != nil {
		return err
	}
	cals = append(cals, shared...)
	addrs, err := sys.CalDAV.CalendarUserAddresses(ctx, key.Principal)
	if err != nil {
		return err
	}
	known, knew, err := e.db.CalendarUserAddresses(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	stored, err := e.db.Calendars(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	last := make(map[string]store.CalendarRecord, len(stored))
	for _, c := range stored {
		last[c.Href] = c
	}
	zone := subscriptionsZone(subs)
	listed := make(map[string]bool, len(cals))
	for _, cal := range cals {
		listed[cal.Href] = true
		if !cal.Supports("VEVENT") && !cal.Supports("VTODO") || unchanged(last[cal.Href], cal, &scope) {
			continue
		}
		if err := e.syncCalendar(ctx, log.With("calendar", cal.Href), sys, key, cal, last, zone, addrs, &scope); err != nil {
			return fmt.Errorf("calendar %s: %w", cal.Href, err)
		}
	}
	if err := e.removeGoneCalendars(ctx, log, key, stored, listed, &scope); err != nil {
		return err
	}
	if err := e.markHomeListed(ctx, key, &scope); err != nil {
		return err
	}
	if err := e.syncInbox(ctx, log, sys, key, listing, addrs); err != nil { // syncinbox.go
		return err
	}
	if knew && sameAddresses(known, addrs) {
		return nil
	}
	if knew || len(addrs) > 0 {
		if knew {
			log.Info("the principal's calendar user addresses changed; working out its reminders again", "addresses", len(addrs))
		}
		if err := e.reexpandPrincipal(ctx, log, key, zone, addrs); err != nil {
			return err
		}
	}
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error { return store.SetCalendarUserAddresses(ctx, tx, key, addrs) })
}

// listedTag is what a home's listing shows of whether a calendar changed:
// its DAV:sync-token property, else its CS:getctag, each with a prefix so
// that neither is taken for the other; "" when it shows neither.
func listedTag(cal caldavclient.Calendar) string {
	switch {
	case cal.SyncToken != "":
		return "sync-token:" + cal.SyncToken
	case cal.CTag != "":
		return "ctag:" + cal.CTag
	}
	return ""
}

// unchanged reports a calendar whose listing shows what it showed before
// its last sync (was): the same tag, name, description, colour, time
// zone and sharing. Its
// sync-collection REPORT is skipped: a poll of a principal whose
// calendars did not change costs the listing of its home only. The tag
// is compared with the listed one, never with the REPORT's token: a
// server may give the two different forms.
func unchanged(was store.CalendarRecord, cal caldavclient.Calendar, s *updateScope) bool {
	rec := s.calendarRecord(store.PrincipalKey{System: was.System, Principal: was.Principal}, cal, was.SyncToken)
	return rec.ListedTag != "" && was.SyncToken != "" && was == (store.CalendarRecord{System: was.System, Principal: was.Principal,
		Href: was.Href, DisplayName: rec.DisplayName, TimeZone: rec.TimeZone, SyncToken: was.SyncToken, ListedTag: rec.ListedTag,
		SyncedAt: was.SyncedAt, Description: rec.Description, Color: rec.Color, SharedURL: rec.SharedURL, Sharee: rec.Sharee, Owner: rec.Owner})
}

// sameAddresses reports whether a and b hold the same addresses, in any
// order.
func sameAddresses(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// syncCalendar syncs one calendar from its stored token (in last, the
// stored calendars) and records it, with the tag its home's listing
// showed (read before the REPORT: a change after the listing makes the
// next listing differ), and the updates it finds (updatesync.go).
func (e *Engine) syncCalendar(ctx context.Context, log *slog.Logger, sys System, key store.PrincipalKey, cal caldavclient.Calendar,
	last map[string]store.CalendarRecord, zone *time.Location, addrs []string, scope *updateScope) error {
	was, known := last[cal.Href]
	token := was.SyncToken
	res, err := sys.CalDAV.Sync(ctx, cal.Href, token)
	var he *caldavclient.HTTPError
	switch {
	case errors.Is(err, caldavclient.ErrInvalidSyncToken):
		log.Warn("the server refused the calendar's sync token; syncing it whole (no reminder fires twice)")
		e.metrics.calendarSyncs.WithLabelValues(key.System, "resync").Inc()
		token = ""
		res, err = sys.CalDAV.Sync(ctx, cal.Href, "")
	case token != "" && errors.As(err, &he) && he.Status == http.StatusInternalServerError:
		// Xandikos fails with 500 on a sync token it does not know (the
		// calendar was deleted and made again) instead of refusing it
		// (403 DAV:valid-sync-token). If a sync from no token works,
		// the token was the trouble: without this, the calendar would
		// never sync again. If it fails too, the server is in trouble:
		// the first error is retried.
		full, ferr := sys.CalDAV.Sync(ctx, cal.Href, "")
		if ferr != nil {
			return err
		}
		log.Warn("the server failed the sync from the calendar's sync token but not a whole sync; "+
			"taking the token as refused and syncing the calendar whole (no reminder fires twice)", "err", err)
		e.metrics.calendarSyncs.WithLabelValues(key.System, "resync").Inc()
		token, res, err = "", full, nil
	}
	if err != nil {
		return err
	}
	etags, err := e.db.CalendarObjectETags(ctx, key.System, key.Principal, cal.Href)
	if err != nil {
		return err
	}
	removed := res.Deleted
	var changed []string
	listed := make(map[string]bool, len(res.Changed))
	for _, r := range res.Changed {
		listed[r.Href] = true
		if old, ok := etags[r.Href]; !ok || old != r.ETag || r.ETag == "" {
			changed = append(changed, r.Href)
		}
	}
	if token == "" { // a full sync lists every member: the others are gone
		for href := range etags {
			if !listed[href] {
				removed = append(removed, href)
			}
		}
	}
	if loc := calendarZone(cal); loc != nil {
		zone = loc
	}
	now := time.Now()
	rec := scope.calendarRecord(key, cal, res.Token)
	// The alarms of a calendar shared with the principal are its owner's
	// reminders, not the principal's.
	alarms := e.o.Reminders.Enabled && !rec.Sharee
	change := store.CalendarChange{System: key.System, Principal: key.Principal, CalendarHref: cal.Href, Calendar: &rec,
		Removed: removed, Now: now}
	if len(changed) > 0 {
		objs, err := sys.CalDAV.MultiGet(ctx, cal.Href, changed)
		if err != nil {
			return err
		}
		for _, o := range objs {
			switch {
			case o.Missing:
				change.Removed = append(change.Removed, o.Href)
			case o.TooLarge || o.Err != nil:
				log.Warn("calendar object not read; its reminders stay as they were", "object", o.Href, "too_large", o.TooLarge, "err", o.Err)
			default:
				obj := store.CalendarObject{Href: o.Href, ETag: o.ETag, Data: o.Data, FirstSeenAt: now}
				oa, err := e.objectOnly(obj, zone)
				if alarms {
					oa, err = e.objectAlarms(log, key, cal.Href, cal.DisplayName, obj, zone, addrs, now)
				}
				if err != nil {
					log.Warn("calendar object cannot be read as iCalendar; it has no reminders", "object", o.Href, "err", err)
				}
				change.Changed = append(change.Changed, oa)
			}
		}
	}
	var pend []store.PendingUpdate
	if scope.on && known && token != "" { // not the calendar's first sync, nor a whole one
		if pend, err = e.objectUpdates(ctx, key, change, last, now); err != nil {
			return err
		}
	}
	var wasRec *store.CalendarRecord
	if known {
		wasRec = &was
	}
	pend = append(pend, e.calendarUpdate(scope, key, wasRec, rec, now)...)
	return e.recordCalendar(ctx, change, pend...)
}

// revivable are the reasons of a skip the calendar data decides: an
// instance skipped for one of them rings again once the data no longer
// says so (accepted after it was declined, say). Not late (decided when
// it was due) nor before-written (which no later version undoes).
var revivable = []string{string(alarm.SkipCancelled), string(alarm.SkipCompleted), string(alarm.SkipDeclined),
	string(alarm.SkipOtherRecipients), string(alarm.SkipAcknowledged), string(alarm.SkipSnoozed)}

// recordCalendar writes change in one durable write, with a job for each
// alarm instance it schedules, and the pending updates pend with theirs.
func (e *Engine) recordCalendar(ctx context.Context, change store.CalendarChange, pend ...store.PendingUpdate) error {
	change.Revivable = revivable
	var out store.CalendarOutcome
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		if out, err = store.RecordCalendar(ctx, tx, change); err != nil {
			return err
		}
		if err := e.addPendingUpdates(ctx, tx, pend); err != nil || len(out.Scheduled) == 0 {
			return err
		}
		jobs := make([]river.InsertManyParams, len(out.Scheduled))
		for i, r := range out.Scheduled {
			jobs[i] = fireReminderJob(r.FireKey, r.TriggerAt)
		}
		_, err = e.queue.client.InsertManyFastTx(ctx, tx, jobs)
		return err
	})
	if err != nil {
		return err
	}
	if change.Calendar != nil { // pings naming it find it from now on
		e.queue.calendarRecorded(change.System, change.Principal, change.CalendarHref)
	}
	e.metrics.reminders.WithLabelValues(store.ReminderScheduled).Add(float64(len(out.Scheduled)))
	e.metrics.reminders.WithLabelValues(store.ReminderCancelled).Add(float64(out.Cancelled))
	for _, r := range out.Skipped {
		e.metrics.skipped(r.Reason)
	}
	return nil
}

// principalZone is the time zone of the principal's first subscription
// that has one, for floating times and dates in calendars without a zone
// of their own; nil when none does.
func (e *Engine) principalZone(ctx context.Context, key store.PrincipalKey) (*time.Location, error) {
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, key.System, key.Principal)
	if err != nil {
		return nil, err
	}
	return subscriptionsZone(subs), nil
}

// subscriptionsZone is principalZone of the principal's subscriptions.
func subscriptionsZone(subs []*notifyd.Subscription) *time.Location {
	for _, s := range subs {
		if s.TimeZone == "" {
			continue
		}
		if loc, err := time.LoadLocation(s.TimeZone); err == nil {
			return loc
		}
	}
	return nil
}

// calendarZone is a calendar's own time zone (CALDAV:calendar-timezone or
// calendar-timezone-id), nil when it has none that resolves.
func calendarZone(cal caldavclient.Calendar) *time.Location {
	return cmp.Or(calendar.Zone(cal.TimeZoneID), calendar.Zone(cal.TimeZone))
}

// storedCalendarZone is calendarZone of a stored calendar.
func storedCalendarZone(cal store.CalendarRecord) *time.Location { return calendar.Zone(cal.TimeZone) }
