package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// ExpandRemindersArgs is the periodic job that works out again the alarm
// instances of the objects whose horizon has rolled on (recurring ones,
// and ones still ahead), from their stored data: no CalDAV request.
// River runs it on the leader only.
type ExpandRemindersArgs struct{}

// Kind is the job's River kind.
func (ExpandRemindersArgs) Kind() string { return "expand_reminders" }

// InsertOpts puts the job in the calendars queue.
func (ExpandRemindersArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCalendars}
}

// maxExpandBatch caps the objects one run expands; it runs again at once
// while there are more.
const maxExpandBatch = 500

// expandRemindersWorker records the instances that entered the horizon.
type expandRemindersWorker struct {
	river.WorkerDefaults[ExpandRemindersArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *expandRemindersWorker) Work(ctx context.Context, _ *river.Job[ExpandRemindersArgs]) error {
	e := w.e
	now := time.Now()
	objs, err := e.db.CalendarObjectsToExpand(ctx, now, maxExpandBatch)
	if err != nil {
		return err
	}
	byPrincipal := map[store.PrincipalKey][]store.CalendarObject{}
	var keys []store.PrincipalKey
	for _, o := range objs {
		key := store.PrincipalKey{System: o.System, Principal: o.Principal}
		if byPrincipal[key] == nil {
			keys = append(keys, key)
		}
		byPrincipal[key] = append(byPrincipal[key], o)
	}
	for _, key := range keys {
		zone, err := e.principalZone(ctx, key)
		if err != nil {
			return err
		}
		addrs, _, err := e.db.CalendarUserAddresses(ctx, key.System, key.Principal)
		if err != nil {
			return err
		}
		log := e.log.With("system", key.System, "principal", key.Principal)
		if err := e.recomputeObjects(ctx, log, key, byPrincipal[key], zone, addrs, now); err != nil {
			return err
		}
	}
	if len(objs) == maxExpandBatch {
		return river.JobSnooze(0)
	}
	return nil
}

// reexpandPrincipal works out again, from their stored data, the alarm
// instances of every stored object of the principal, with its calendar
// user addresses addrs: what its new addresses make it decline (or not)
// is skipped (or scheduled).
func (e *Engine) reexpandPrincipal(ctx context.Context, log *slog.Logger, key store.PrincipalKey, zone *time.Location, addrs []string) error {
	now := time.Now()
	for after := ""; ; {
		objs, err := e.db.PrincipalCalendarObjects(ctx, key.System, key.Principal, after, maxExpandBatch)
		if err != nil || len(objs) == 0 {
			return err
		}
		if err := e.recomputeObjects(ctx, log, key, objs, zone, addrs, now); err != nil {
			return err
		}
		after = objs[len(objs)-1].Href
	}
}

// recomputeObjects works out again the alarm instances of the stored
// objects objs of the principal, in its time zone zone (unless their
// calendar has its own) and with its addresses addrs, and records them,
// one write per calendar.
func (e *Engine) recomputeObjects(ctx context.Context, log *slog.Logger, key store.PrincipalKey, objs []store.CalendarObject,
	zone *time.Location, addrs []string, now time.Time) error {
	cals, err := e.db.Calendars(ctx, key.System, key.Principal)
	if err != nil {
		return err
	}
	byHref := make(map[string]store.CalendarRecord, len(cals))
	for _, c := range cals {
		byHref[c.Href] = c
	}
	changes := map[string]*store.CalendarChange{}
	var order []string
	for _, o := range objs {
		cal := byHref[o.CalendarHref]
		if cal.Sharee { // another's calendar: its alarms are not this principal's
			continue
		}
		z := zone
		if loc := storedCalendarZone(cal); loc != nil {
			z = loc
		}
		oa, err := e.objectAlarms(log, key, o.CalendarHref, cal.DisplayName, o, z, addrs, now)
		if err != nil {
			log.Warn("stored calendar object cannot be read as iCalendar", "object", o.Href, "err", err)
		}
		ch := changes[o.CalendarHref]
		if ch == nil {
			ch = &store.CalendarChange{System: key.System, Principal: key.Principal, CalendarHref: o.CalendarHref, Now: now}
			changes[o.CalendarHref] = ch
			order = append(order, o.CalendarHref)
		}
		ch.Changed = append(ch.Changed, oa)
	}
	for _, href := range order {
		if err := e.recordCalendar(ctx, *changes[href]); err != nil {
			return err
		}
	}
	return nil
}
