package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// QueueReminders holds the reminder jobs.
const QueueReminders = "reminders"

// reminderLead is how long before its trigger a reminder's job becomes
// available to a worker, which then waits for the trigger itself. River
// moves scheduled jobs to available every 5 seconds (its scheduler's
// interval), so a job scheduled at the trigger would ring up to 5 seconds
// late; taken early, it rings on the second.
const reminderLead = 10 * time.Second

// FireReminderArgs is the job that rings one alarm instance at its
// trigger. It is inserted by the transaction that schedules the instance
// (store.RecordCalendar); the instance is fired at most once whatever
// runs it (store.ClaimReminder).
type FireReminderArgs struct {
	FireKey string    `json:"fire_key"`
	Trigger time.Time `json:"trigger"`
}

// Kind is the job's River kind.
func (FireReminderArgs) Kind() string { return "fire_reminder" }

// fireReminderJob is the job that rings the reminder with fire key key at
// trigger. Due within reminderLead (or past due), it is available at
// once: River inserts any job given a ScheduledAt as scheduled, even one
// in the past, and only its scheduler (every 5 seconds) would make it
// available, up to 5 seconds after a trigger that was seconds away.
func fireReminderJob(key string, trigger time.Time) river.InsertManyParams {
	opts := &river.InsertOpts{Queue: QueueReminders}
	if at := trigger.Add(-reminderLead); at.After(time.Now()) {
		opts.ScheduledAt = at
	}
	return river.InsertManyParams{Args: FireReminderArgs{FireKey: key, Trigger: trigger}, InsertOpts: opts}
}

// fireReminderWorker rings its reminder at its trigger, with the others
// due then (see ringer). As soon as it gets the job (reminderLead ahead),
// it reads the reminder and its principal's subscriptions, so that at the
// trigger only the write that fires it remains.
type fireReminderWorker struct {
	river.WorkerDefaults[FireReminderArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *fireReminderWorker) Work(ctx context.Context, job *river.Job[FireReminderArgs]) error {
	e := w.e
	t, err := e.prepareRinging(ctx, job.Args.FireKey)
	if err != nil || t == nil {
		return err
	}
	if t.rec.State == store.ReminderFired { // a run again (crash, retry)
		return e.sendLeft(ctx, job, t)
	}
	if err := e.ringer.ring(ctx, t, job.Args.Trigger); err != nil || t.fired == nil {
		return err
	}
	return e.sendFired(ctx, job, t)
}

// toRing is a scheduled reminder read ahead of its trigger, with its
// principal's subscriptions as they were then. fired is set once the
// write that fires it has committed, if it was this call's write that
// fired it.
type toRing struct {
	rec   *store.ReminderRecord
	subs  []*notifyd.Subscription
	fired *ringing
}

// prepareRinging reads the reminder with fire key key and its
// principal's subscriptions; nil if it is neither scheduled nor fired
// (cancelled or skipped).
func (e *Engine) prepareRinging(ctx context.Context, key string) (*toRing, error) {
	rec, err := e.db.Reminder(ctx, key)
	if errors.Is(err, notifyd.ErrNotFound) {
		return nil, river.JobCancel(err)
	}
	if err != nil || (rec.State != store.ReminderScheduled && rec.State != store.ReminderFired) {
		return nil, err
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, rec.System, rec.Principal)
	if err != nil {
		return nil, err
	}
	return &toRing{rec: rec, subs: subs}, nil
}

// ringing is what firing one reminder writes.
type ringing struct {
	rec           *store.ReminderRecord
	state, reason string
	late          time.Duration
	nr            store.NotificationRecord
	deliveries    []store.DeliveryRecord
	at            time.Time // when it was fired
}

// fireReminders rings the reminders rs, now, in one durable write: each
// that is still scheduled is marked fired, with its notification and a
// delivery for each method of the principal's subscriptions that wants
// reminders. No delivery job is queued: the worker of the reminder's job
// makes the first attempts itself once the write is durable
// (sendFired), and a run again of that job makes those it did not
// (sendLeft). A reminder later than a channel's grace (after downtime) is
// not sent on that channel; one late on every channel, or whose instance
// has ended, is skipped as late. It returns the outcome of each, by fire
// key: nil once it is fired or skipped, or if it is not scheduled any
// more (cancelled, or fired by another run); otherwise an error for its
// job to return. Each reminder this write fired has its toRing's fired
// set.
func (e *Engine) fireReminders(rs []*toRing) map[string]error {
	ctx, done := e.untilStop(context.Background())
	defer done()
	errs := make(map[string]error, len(rs))
	now := time.Now()
	var rings []ringing
	byKey := make(map[string]*toRing, len(rs))
	for _, t := range rs {
		r, err := e.ringingOf(t.rec, t.subs, now)
		if err != nil {
			errs[t.rec.FireKey] = err
			continue
		}
		byKey[t.rec.FireKey] = t
		rings = append(rings, r)
	}
	fs := make([]store.ReminderFiring, len(rings))
	for i, r := range rings {
		fs[i] = store.ReminderFiring{FireKey: r.rec.FireKey, System: r.rec.System, Principal: r.rec.Principal,
			State: r.state, Reason: r.reason, Notification: r.nr, Deliveries: r.deliveries}
	}
	var claimed []ringing
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		keys, ids, err := store.FireReminders(ctx, tx, fs, now)
		claimed = claimed[:0]
		for _, r := range rings {
			if keys[r.rec.FireKey] {
				r.deliveries = created(r.deliveries, ids)
				claimed = append(claimed, r)
			}
		}
		return err
	})
	if err != nil {
		for _, r := range rings {
			errs[r.rec.FireKey] = err
		}
		return errs
	}
	for _, r := range claimed {
		if r.state == store.ReminderFired {
			r.at = now
			byKey[r.rec.FireKey].fired = &r
			e.metrics.reminders.WithLabelValues(store.ReminderFired).Inc()
			e.metrics.remindersLate.Observe(r.late.Seconds())
		} else {
			e.metrics.skipped("late")
		}
		e.log.Info("reminder "+r.state, "system", r.rec.System, "principal", r.rec.Principal, "object", r.rec.ObjectHref,
			"trigger", r.rec.TriggerAt, "late", r.late.Round(time.Millisecond), "deliveries", len(r.deliveries), "reason", r.reason)
	}
	return errs
}

// ringingOf is what firing the scheduled reminder rec at now writes, for
// the principal's subscriptions subs.
func (e *Engine) ringingOf(rec *store.ReminderRecord, subs []*notifyd.Subscription, now time.Time) (ringing, error) {
	var n notifyd.Notification
	if err := json.Unmarshal(rec.Details, &n); err != nil || n.Reminder == nil {
		return ringing{}, river.JobCancel(fmt.Errorf("stored reminder %s: %v", rec.FireKey, err))
	}
	r := ringing{rec: rec, state: store.ReminderFired, late: max(now.Sub(rec.TriggerAt), 0)}
	if r.late >= time.Minute {
		n.Reminder.LateSeconds = int64(r.late / time.Second)
	}
	r.nr = store.NotificationRecord{ID: digest("reminder", rec.FireKey), Href: rec.ObjectHref, Type: string(notifyd.TypeReminder)}
	var tooLate []string
	ended := n.Event != nil && !n.Event.End.IsZero() && now.After(n.Event.End)
	for _, t := range targets(subs, notifyd.TypeReminder) {
		if ended || r.late > e.o.Reminders.grace(t.Method.Channel) {
			tooLate = append(tooLate, string(t.Method.Channel))
			continue
		}
		r.deliveries = append(r.deliveries, store.DeliveryRecord{ID: deliveryID(r.nr.ID, t.Method.Channel, t.Method.Address),
			NotificationID: r.nr.ID, SubscriptionID: t.SubscriptionID, MethodID: t.Method.ID,
			Channel: string(t.Method.Channel), Address: t.Method.Address})
	}
	late := r.late.Round(time.Second)
	switch {
	case ended:
		r.state, r.reason = store.ReminderSkipped, fmt.Sprintf("late: the %s ended before the reminder could be sent (%s late)", n.Reminder.Component, late)
	case len(r.deliveries) == 0 && len(tooLate) > 0:
		r.state, r.reason = store.ReminderSkipped, fmt.Sprintf("late: %s late, beyond the grace of %s", late, strings.Join(tooLate, ", "))
	case len(tooLate) > 0:
		r.reason = fmt.Sprintf("sent %s late; not sent by %s, beyond its grace", late, strings.Join(tooLate, ", "))
	case r.late >= time.Minute:
		r.reason = fmt.Sprintf("sent %s late", late)
	}
	if r.state != store.ReminderFired {
		r.deliveries = nil
	}
	var err error
	r.nr.Parsed, err = json.Marshal(n)
	return r, err
}

// created are the deliveries of ds whose IDs are in ids.
func created(ds []store.DeliveryRecord, ids map[string]bool) []store.DeliveryRecord {
	var out []store.DeliveryRecord
	for _, d := range ds {
		if ids[d.ID] {
			out = append(out, d)
		}
	}
	return out
}
