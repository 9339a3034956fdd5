package engine

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// PollCalendarsArgs is the periodic job that queues a calendar sync for
// each principal whose subscriptions may want what a calendar sync finds
// (reminders, calendar updates: Engine.calendarTypes) and whose
// calendars were not synced for a poll interval: the safety net behind
// the pings, so that an event added without one still gets its reminders.
// River runs it on the leader only.
type PollCalendarsArgs struct{}

// Kind is the job's River kind.
func (PollCalendarsArgs) Kind() string { return "poll_calendars" }

// InsertOpts puts the job in the calendars queue.
func (PollCalendarsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCalendars}
}

// maxPollBatch caps the principals one poll queues; the next poll takes
// the rest.
const maxPollBatch = 5000

// pollCalendarsWorker queues the calendar syncs that are due.
type pollCalendarsWorker struct {
	river.WorkerDefaults[PollCalendarsArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *pollCalendarsWorker) Work(ctx context.Context, _ *river.Job[PollCalendarsArgs]) error {
	now := time.Now()
	return w.e.pollCalendars(ctx, now, now.Add(-w.e.o.Reminders.PollInterval))
}

// pollCalendars queues, as the poll running at now, the calendar syncs
// of the principals last synced before cutoff. Their first runs may share
// a listing of a calendar home made since now
// (SyncCalendarsArgs.ListedSince): a home shared by many principals
// (Cyrus's) is listed once per poll, not once per principal.
func (e *Engine) pollCalendars(ctx context.Context, now, cutoff time.Time) error {
	var types []string
	for _, t := range e.calendarTypes() {
		types = append(types, string(t))
	}
	keys, err := e.db.CalendarHomesToPoll(ctx, cutoff, maxPollBatch, types)
	if err != nil || len(keys) == 0 {
		return err
	}
	keys = slices.DeleteFunc(keys, func(k store.PrincipalKey) bool { _, ok := e.systems[k.System]; return !ok })
	if len(keys) == 0 {
		return nil
	}
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		_, err := e.queue.queueCalendarSyncs(ctx, tx, keys, now)
		return err
	})
}
