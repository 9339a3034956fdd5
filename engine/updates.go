package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// UpdateOptions configure calendar update notifications: the changes to
// events, tasks and calendars notifyd finds by syncing calendars
// (docs/updates.md).
type UpdateOptions struct {
	// Enabled turns them on.
	Enabled bool
	// BurstWindow is how long after the first change to an event, task
	// or calendar its net change is told (default 2m): the edits made
	// meanwhile are one message.
	BurstWindow time.Duration
}

// defaultBurstWindow is UpdateOptions.BurstWindow when it is not set.
const defaultBurstWindow = 2 * time.Minute

// updateTypes are the calendar update types a calendar sync finds.
var updateTypes = []notifyd.NotificationType{
	notifyd.TypeEventCreated, notifyd.TypeEventModified, notifyd.TypeEventDeleted,
	notifyd.TypeTodoCreated, notifyd.TypeTodoModified, notifyd.TypeTodoDeleted,
	notifyd.TypeCalendarCreated, notifyd.TypeCalendarModified, notifyd.TypeCalendarDeleted,
}

// isUpdate reports whether t is a calendar update type.
func isUpdate(t notifyd.NotificationType) bool { return slices.Contains(updateTypes, t) }

// calendarTypes are the notification types a calendar sync serves, as
// configured: reminders and scheduling messages (the inbox is synced with
// the calendars, syncinbox.go) with reminders on, calendar updates with
// updates on.
func (e *Engine) calendarTypes() []notifyd.NotificationType {
	var out []notifyd.NotificationType
	if e.o.Reminders.Enabled {
		out = append(out, notifyd.TypeReminder)
		out = append(out, notifyd.SchedulingTypes...)
	}
	if e.o.Updates.Enabled {
		out = append(out, updateTypes...)
	}
	return out
}

// syncsCalendars is the one predicate that says whether a principal's
// calendars are synced: some of its subscriptions subs want a type a
// calendar sync serves (calendarTypes). Pings, polls and notification
// syncs all ask it.
func (e *Engine) syncsCalendars(subs []*notifyd.Subscription) bool {
	return wantsAny(subs, e.calendarTypes())
}

// wantsUpdates reports whether updates are on and subs want one of them.
func (e *Engine) wantsUpdates(subs []*notifyd.Subscription) bool {
	return e.o.Updates.Enabled && wantsAny(subs, updateTypes)
}

// wantsAny reports whether subs have a method that wants one of types.
func wantsAny(subs []*notifyd.Subscription, types []notifyd.NotificationType) bool {
	for _, t := range types {
		if len(targets(subs, t)) > 0 {
			return true
		}
	}
	return false
}

// QueueUpdates holds the jobs that tell a change once its burst window
// closed.
const QueueUpdates = "updates"

// SendUpdateArgs is the job that tells the net change of one event, task
// or calendar of a principal once the burst window of its first change
// closed. It is inserted, scheduled at the window's end, with the pending
// update it tells (store.AddPendingUpdate), in the same transaction; it
// takes the pending update in the transaction that records what it
// sends, so that it tells each burst once, across restarts.
type SendUpdateArgs struct {
	System    string `json:"system"`
	Principal string `json:"principal"`
	Key       string `json:"key"`
}

// Kind is the job's River kind.
func (SendUpdateArgs) Kind() string { return "send_update" }

// sendUpdateJob is the job of pending update p.
func sendUpdateJob(p store.PendingUpdate) river.InsertManyParams {
	return river.InsertManyParams{Args: SendUpdateArgs{System: p.System, Principal: p.Principal, Key: p.Key},
		InsertOpts: &river.InsertOpts{Queue: QueueUpdates, ScheduledAt: p.DueAt}}
}

// addPendingUpdates records ps in tx, each with its job unless a change
// to the same event, task or calendar already waits (its burst goes on).
func (e *Engine) addPendingUpdates(ctx context.Context, tx *sql.Tx, ps []store.PendingUpdate) error {
	var jobs []river.InsertManyParams
	for _, p := range ps {
		added, err := store.AddPendingUpdate(ctx, tx, p)
		if err != nil {
			return err
		}
		if added {
			jobs = append(jobs, sendUpdateJob(p))
		}
	}
	return e.queue.insert(ctx, tx, jobs...)
}

// sendUpdateWorker tells a pending update.
type sendUpdateWorker struct {
	river.WorkerDefaults[SendUpdateArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *sendUpdateWorker) Work(ctx context.Context, job *river.Job[SendUpdateArgs]) error {
	return w.e.sendUpdate(ctx, job.Args)
}

// sendUpdate tells the pending update a names, if it still waits: in one
// durable write, it takes it, works out the net change and records its
// notifications, their deliveries and jobs.
func (e *Engine) sendUpdate(ctx context.Context, a SendUpdateArgs) error {
	key := store.PrincipalKey{System: a.System, Principal: a.Principal}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, a.System, a.Principal)
	if err != nil {
		return err
	}
	zone, err := e.principalZone(ctx, key)
	if err != nil {
		return err
	}
	addrs, _, err := e.db.CalendarUserAddresses(ctx, a.System, a.Principal)
	if err != nil {
		return err
	}
	now := time.Now()
	var told []told
	err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		told = told[:0]
		p, err := store.TakePendingUpdate(ctx, tx, a.System, a.Principal, a.Key)
		if err != nil || p == nil {
			return err
		}
		if told, err = e.netUpdates(ctx, tx, p, zone); err != nil {
			return err
		}
		byChannel := make(map[notifyd.Channel][]string)
		for i := range told {
			t := &told[i]
			var unsent []store.DeliveryRecord
			t.deliveries, unsent = e.updateDeliveries(t, subs, a.Principal, addrs)
			if len(t.deliveries) == 0 && len(unsent) == 0 {
				continue
			}
			if len(t.deliveries) == 0 {
				t.record.Status, t.record.Error = store.NotificationDone, "not sent: "+unsent[0].LastError
			}
			ids, err := store.AddNotifications(ctx, tx, a.System, a.Principal, []store.NotificationRecord{t.record}, t.deliveries, now)
			if err != nil {
				return err
			}
			if err := store.AddUnsentDeliveries(ctx, tx, a.System, a.Principal, unsent, now); err != nil {
				return err
			}
			t.suppressed = len(unsent)
			created := make(map[string]bool, len(ids))
			for _, id := range ids {
				created[id] = true
			}
			for _, d := range t.deliveries {
				if created[d.ID] {
					byChannel[notifyd.Channel(d.Channel)] = append(byChannel[notifyd.Channel(d.Channel)], d.ID)
				}
			}
		}
		var jobs []river.InsertManyParams
		for _, ch := range notifyd.Channels {
			jobs = append(jobs, deliverJobs(byChannel[ch], ch)...)
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
	if err != nil {
		return fmt.Errorf("update %s: %w", a.Key, err)
	}
	log := e.log.With("system", a.System, "principal", a.Principal, "key", a.Key)
	if len(told) == 0 {
		e.metrics.updates.WithLabelValues("no-change").Inc()
		log.Debug("calendar change told nothing: no net change a person sees")
	}
	for _, t := range told {
		outcome := "sent"
		switch {
		case t.why != "":
			outcome = "unknown-author"
		case t.suppressed > 0 && len(t.deliveries) == 0:
			outcome = "suppressed"
		case len(t.deliveries) == 0:
			outcome = "no-recipient"
		}
		e.metrics.suppressed.Add(float64(t.suppressed))
		e.metrics.updates.WithLabelValues(outcome).Inc()
		log.Info("calendar update", "type", t.record.Type, "object", t.record.Href, "outcome", outcome,
			"deliveries", len(t.deliveries), "reason", t.why)
	}
	return nil
}

// updateDeliveries are the deliveries of t to the methods of subs that
// want its type, and those recorded as suppressed (unsent). A change whose
// author the server names (Update.By) and who is the principal (its href
// or one of its calendar user addresses addrs, as ownChange compares
// them) is suppressed for the subscriptions that do not ask for their own
// changes (notify_own_changes). A change to the principal's own calendar
// whose author the server does not name (none of the servers notifyd
// knows does) goes only to the subscriptions that ask for their own
// changes: it may be the principal's own, and telling everyone of every
// event they make is noise (t.why says so when nobody is told). A change
// to a calendar shared with the principal goes to its subscriptions.
func (e *Engine) updateDeliveries(t *told, subs []*notifyd.Subscription, principal string, addrs []string) (sent, unsent []store.DeliveryRecord) {
	var n notifyd.Notification
	_ = json.Unmarshal(t.record.Parsed, &n)
	var by string
	if n.Update != nil {
		by = n.Update.By.Href
	}
	own := ""
	if by != "" && ownChange(by, principal, addrs) {
		own = fmt.Sprintf("suppressed: %s made this change (author %s), and the subscription does not ask for its own changes (notify_own_changes)",
			principal, by)
	}
	unknown := by == "" && !t.shared
	for _, tg := range targets(subs, notifyd.NotificationType(t.record.Type)) {
		d := store.DeliveryRecord{ID: deliveryID(t.record.ID, tg.Method.Channel, tg.Method.Address),
			NotificationID: t.record.ID, SubscriptionID: tg.SubscriptionID, MethodID: tg.Method.ID,
			Channel: string(tg.Method.Channel), Address: tg.Method.Address}
		switch {
		case notifiesOwn(subs, tg.SubscriptionID):
			sent = append(sent, d)
		case own != "":
			d.Status, d.LastError = store.DeliverySuppressed, own
			unsent = append(unsent, d)
		case !unknown:
			sent = append(sent, d)
		}
	}
	if unknown && len(sent) == 0 {
		t.why = "the author of a change to the principal's own calendar is not known: it may be the principal's own " +
			"(notify_own_changes sends it all the same)"
	}
	return sent, unsent
}
