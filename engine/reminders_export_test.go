package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// ObjectAlarmsForTest works out a stored object's alarm instances as a
// sync at now would, in zone, for a principal without calendar user
// addresses.
func (e *Engine) ObjectAlarmsForTest(key store.PrincipalKey, calHref string, obj store.CalendarObject, zone *time.Location,
	now time.Time) (store.ObjectAlarms, error) {
	return e.objectAlarms(e.log, key, calHref, "Work", obj, zone, nil, now)
}

// RecordCalendarForTest records what a sync of one calendar found as the
// sync does: in one durable write, with a job for each instance it
// schedules.
func (e *Engine) RecordCalendarForTest(ctx context.Context, change store.CalendarChange) error {
	return e.recordCalendar(ctx, change)
}

// HoldRemindersForTest keeps the reminders from being fired until
// release is called; then those whose trigger has passed are fired at
// once, the others at their trigger. joined gets a value as each
// reminder starts waiting.
func (e *Engine) HoldRemindersForTest() (joined <-chan struct{}, release func()) {
	r := e.ringer
	ch := make(chan struct{}, 100000)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held, r.joined = true, func() { ch <- struct{}{} }
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.held = false
		r.kick()
	}
}

// FireWithoutSendingForTest fires the scheduled reminder with fire key
// key as its job does, and stops there: as a process killed right after
// the write that fired it.
func (e *Engine) FireWithoutSendingForTest(ctx context.Context, key string) error {
	t, err := e.prepareRinging(ctx, key)
	if err != nil || t == nil || t.rec.State != store.ReminderScheduled {
		return fmt.Errorf("reminder %s not scheduled: %v", key, err)
	}
	return e.fireReminders([]*toRing{t})[key]
}

// RunFireJobForTest inserts a job for the reminder with fire key key
// available at once, as the rescue of a killed process's running job
// copies it.
func (e *Engine) RunFireJobForTest(ctx context.Context, key string, trigger time.Time) error {
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return e.queue.insert(ctx, tx, river.InsertManyParams{Args: FireReminderArgs{FireKey: key, Trigger: trigger},
			InsertOpts: &river.InsertOpts{Queue: QueueReminders}})
	})
}
