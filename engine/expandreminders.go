package engine

import (
	"context"
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

// expandRemindersWorker records, object by object, the instances that
// entered the horizon.
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
	zones := map[store.PrincipalKey]*time.Location{}
	calendars := map[string]store.CalendarRecord{}
	for _, o := range objs {
		key := store.PrincipalKey{System: o.System, Principal: o.Principal}
		cal, ok := calendars[key.System+"\x00"+key.Principal+"\x00"+o.CalendarHref]
		if !ok {
			cals, err := e.db.Calendars(ctx, key.System, key.Principal)
			if err != nil {
				return err
			}
			for _, c := range cals {
				calendars[key.System+"\x00"+key.Principal+"\x00"+c.Href] = c
			}
			cal = calendars[key.System+"\x00"+key.Principal+"\x00"+o.CalendarHref]
		}
		zone, ok := zones[key]
		if !ok {
			if zone, err = e.principalZone(ctx, key); err != nil {
				return err
			}
			zones[key] = zone
		}
		if loc := storedCalendarZone(cal); loc != nil {
			zone = loc
		}
		log := e.log.With("system", o.System, "principal", o.Principal)
		oa, err := e.objectAlarms(log, key, o.CalendarHref, cal.DisplayName, o, zone, now)
		if err != nil {
			log.Warn("stored calendar object cannot be read as iCalendar", "object", o.Href, "err", err)
		}
		err = e.recordCalendar(ctx, store.CalendarChange{System: o.System, Principal: o.Principal, CalendarHref: o.CalendarHref,
			Changed: []store.ObjectAlarms{oa}, Now: now})
		if err != nil {
			return err
		}
	}
	if len(objs) == maxExpandBatch {
		return river.JobSnooze(0)
	}
	return nil
}
