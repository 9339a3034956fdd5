package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// A ping is about a principal's calendars too (for reminders): it may
// name calendars, whose owners' calendar syncs it queues (CalendarPaths,
// Intake.EnqueuePing), and a principal it names has its calendars synced
// at once if its subscriptions want reminders, whatever became of its
// notification collection.

// CalendarPings says whether pings may name calendars (reminders are on,
// the default): with false, CalendarPaths knows none.
func CalendarPings(enabled bool) IntakeOption {
	return func(in *Intake) {
		if !enabled {
			in.calendars = nil
		}
	}
}

// CalendarPaths returns the calendars of system whose owners a ping
// naming them (or a resource in one) syncs: those notifyd syncs for
// reminders, kept in memory (see calendarIndex): the calendars this
// process recorded, and those others did as read from the store a
// second or two ago at most. With fresh, for an href that is no known
// calendar and would be refused otherwise, read again if older than
// 100 ms (or ten times as long as reading them takes). nil when
// reminders are off.
func (in *Intake) CalendarPaths(ctx context.Context, system string, fresh bool) (*CalendarPaths, error) {
	if in.calendars == nil {
		return nil, nil
	}
	return in.calendars.paths(ctx, system, fresh)
}

// syncCalendarsToo queues, in a write of its own, the calendar syncs a
// ping of the principal asks for (queueOwnCalendarSync): a ping is
// about the principal's calendars too, whatever became of its
// notification collection. A server without one (Radicale, Xandikos)
// fails every notification sync with ErrNotFound; its pings must still
// sync the calendars at once, not at the next poll. (A sync that
// succeeds queues the calendar sync in its own write.)
func (e *Engine) syncCalendarsToo(ctx context.Context, args SyncPrincipalArgs) error {
	if len(e.calendarTypes()) == 0 {
		return nil
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, args.System, args.Principal)
	if err != nil {
		return err
	}
	return e.db.Write(ctx, store.Lazy, func(tx *sql.Tx) error { return e.queueOwnCalendarSync(ctx, tx, args, subs) })
}

// queueOwnCalendarSync queues in tx the calendar syncs a ping of the
// principal asks for (calendarSyncsOf): its own if its subscriptions subs
// want what one finds, and those of the principals its calendars are
// shared with.
func (e *Engine) queueOwnCalendarSync(ctx context.Context, tx *sql.Tx, args SyncPrincipalArgs, subs []*notifyd.Subscription) error {
	keys, err := e.calendarSyncsOf(ctx, tx, store.PrincipalKey{System: args.System, Principal: args.Principal}, subs)
	if err != nil || len(keys) == 0 {
		return err
	}
	_, err = e.queue.queueCalendarSyncs(ctx, tx, keys, time.Now())
	return err
}

// queueCalendarSyncs records in tx that the calendars of each of keys
// (distinct) are to be synced, inserts a calendar sync job for each that
// has none waiting or running (one that has is asked to run once more:
// store.QueueCalendarSyncs), and reports which needed one. since is the
// jobs' ListedSince: the poll's time, or for a ping's a time after it
// arrived.
func (q *Queue) queueCalendarSyncs(ctx context.Context, tx *sql.Tx, keys []store.PrincipalKey, since time.Time) ([]bool, error) {
	need, err := store.QueueCalendarSyncs(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	return need, q.insertFor(ctx, tx, keys, need, func(k store.PrincipalKey) river.JobArgs {
		return SyncCalendarsArgs{System: k.System, Principal: k.Principal, ListedSince: since}
	})
}
