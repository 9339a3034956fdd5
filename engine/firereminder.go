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
	"github.com/notifyd/notifyd/subscriptions"
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

// fireReminderWorker waits for the trigger, then, in one durable write,
// marks the reminder fired and creates its notification and a delivery
// for each method of the principal's subscriptions that wants reminders,
// with their jobs. A reminder later than a channel's grace (after
// downtime) is not sent on that channel; one late on every channel, or
// whose instance has ended, is skipped as late.
type fireReminderWorker struct {
	river.WorkerDefaults[FireReminderArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *fireReminderWorker) Work(ctx context.Context, job *river.Job[FireReminderArgs]) error {
	if wait := time.Until(job.Args.Trigger); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return w.e.fireReminder(ctx, job.Args.FireKey)
}

// fireReminder rings the reminder with fire key key, now.
func (e *Engine) fireReminder(ctx context.Context, key string) error {
	rec, err := e.db.Reminder(ctx, key)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if rec.State != store.ReminderScheduled {
		return nil // cancelled or skipped since, or fired by another run
	}
	var n notifyd.Notification
	if err := json.Unmarshal(rec.Details, &n); err != nil || n.Reminder == nil {
		return river.JobCancel(fmt.Errorf("stored reminder %s: %v", key, err))
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, rec.System, rec.Principal)
	if err != nil {
		return err
	}
	now := time.Now()
	late := max(now.Sub(rec.TriggerAt), 0)
	if late >= time.Minute {
		n.Reminder.LateSeconds = int64(late / time.Second)
	}
	nr := store.NotificationRecord{ID: digest("reminder", key), Href: rec.ObjectHref, Type: string(notifyd.TypeReminder)}
	state, reason := store.ReminderFired, ""
	var deliveries []store.DeliveryRecord
	var tooLate []string
	ended := n.Event != nil && !n.Event.End.IsZero() && now.After(n.Event.End)
	for _, t := range subscriptions.Targets(subs, notifyd.TypeReminder) {
		if ended || late > e.o.Reminders.grace(t.Method.Channel) {
			tooLate = append(tooLate, string(t.Method.Channel))
			continue
		}
		deliveries = append(deliveries, store.DeliveryRecord{ID: deliveryID(nr.ID, t.Method.Channel, t.Method.Address),
			NotificationID: nr.ID, SubscriptionID: t.SubscriptionID, MethodID: t.Method.ID,
			Channel: string(t.Method.Channel), Address: t.Method.Address})
	}
	switch {
	case ended:
		state, reason = store.ReminderSkipped, fmt.Sprintf("late: the %s ended before the reminder could be sent (%s late)", n.Reminder.Component, late.Round(time.Second))
	case len(deliveries) == 0 && len(tooLate) > 0:
		state, reason = store.ReminderSkipped, fmt.Sprintf("late: %s late, beyond the grace of %s", late.Round(time.Second), strings.Join(tooLate, ", "))
	case len(tooLate) > 0:
		reason = fmt.Sprintf("sent %s late; not sent by %s, beyond its grace", late.Round(time.Second), strings.Join(tooLate, ", "))
	case late >= time.Minute:
		reason = fmt.Sprintf("sent %s late", late.Round(time.Second))
	}
	if nr.Parsed, err = json.Marshal(n); err != nil {
		return err
	}
	var fired bool
	err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		claimed, err := store.ClaimReminder(ctx, tx, key, state, reason, now)
		if fired = claimed != nil; !fired || state != store.ReminderFired {
			return err
		}
		ids, err := store.AddNotifications(ctx, tx, rec.System, rec.Principal, []store.NotificationRecord{nr}, deliveries, now)
		if err != nil || len(ids) == 0 {
			return err
		}
		created := make(map[string]bool, len(ids))
		for _, id := range ids {
			created[id] = true
		}
		byChannel := make(map[notifyd.Channel][]string)
		var jobs []river.InsertManyParams
		for _, d := range deliveries {
			if created[d.ID] {
				byChannel[notifyd.Channel(d.Channel)] = append(byChannel[notifyd.Channel(d.Channel)], d.ID)
			}
		}
		for _, ch := range notifyd.Channels {
			jobs = append(jobs, deliverJobs(byChannel[ch], ch)...)
		}
		_, err = e.queue.client.InsertManyFastTx(ctx, tx, jobs)
		return err
	})
	if err != nil || !fired {
		return err
	}
	if state == store.ReminderFired {
		e.metrics.reminders.WithLabelValues(store.ReminderFired).Inc()
		e.metrics.remindersLate.Observe(late.Seconds())
	} else {
		e.metrics.skipped("late")
	}
	e.log.Info("reminder "+state, "system", rec.System, "principal", rec.Principal, "object", rec.ObjectHref,
		"trigger", rec.TriggerAt, "late", late.Round(time.Millisecond), "deliveries", len(deliveries), "reason", reason)
	return nil
}
