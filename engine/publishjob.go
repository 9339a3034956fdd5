package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// QueuePublish holds the jobs of published events.
const QueuePublish = "publish"

// PublishArgs is the job that delivers one published event. It is
// inserted by the transaction that records the event (Publisher.Publish),
// so that an acknowledged event always has it; the event is processed at
// most once whatever runs it (store.ClaimPublished).
type PublishArgs struct {
	ID string `json:"id"`
}

// Kind is the job's River kind.
func (PublishArgs) Kind() string { return "deliver_published" }

// publishJob is the job that delivers published event id.
func publishJob(id string) river.InsertManyParams {
	return river.InsertManyParams{Args: PublishArgs{ID: id}, InsertOpts: &river.InsertOpts{Queue: QueuePublish}}
}

// publishWorker turns a published event into a notification and a
// delivery for each method of the principal's subscriptions that wants
// its type, as a reminder or a sync does, in one durable write with their
// jobs. A change the principal made itself (its triggered_by names the
// principal) is not sent to it: those deliveries are recorded as
// suppressed, with the reason, unless the subscription's
// notify_own_changes is on.
type publishWorker struct {
	river.WorkerDefaults[PublishArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *publishWorker) Work(ctx context.Context, job *river.Job[PublishArgs]) error {
	return w.e.deliverPublished(ctx, job.Args.ID)
}

// deliverPublished creates the notification and deliveries of published
// event id.
func (e *Engine) deliverPublished(ctx context.Context, id string) error {
	ev, err := e.db.Published(ctx, id)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if !ev.ProcessedAt.IsZero() {
		return nil // processed by an earlier run
	}
	var n notifyd.Notification
	if err := json.Unmarshal(ev.Notification, &n); err != nil {
		return river.JobCancel(fmt.Errorf("stored published event %s: %v", id, err))
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, ev.System, ev.Principal)
	if err != nil {
		return err
	}
	// own is why this change is not sent to its author: "" when it is
	// not theirs, or the topic is an alarm (nobody's change).
	var own string
	if Topic(ev.Topic) != TopicAlarm && ev.TriggeredBy != "" {
		if own, err = e.ownChangeReason(ctx, ev.System, ev.Principal, "triggered_by", ev.TriggeredBy); err != nil {
			return err
		}
	}
	notifyOwn := make(map[string]bool, len(subs))
	for _, s := range subs {
		notifyOwn[s.ID] = s.NotifyOwnChanges
	}
	now := time.Now()
	// An alarm rings when it is published; one whose job ran late (the
	// jobs were stopped) is sent only within the channel's reminder
	// grace, and not once its instance has ended, as any reminder.
	late := max(now.Sub(ev.ReceivedAt), 0)
	ended := n.Reminder != nil && n.Event != nil && !n.Event.End.IsZero() && now.After(n.Event.End)
	if n.Reminder != nil && late >= time.Minute {
		n.Reminder.LateSeconds = int64(late / time.Second)
		if ev.Notification, err = json.Marshal(n); err != nil {
			return err
		}
	}
	nr := store.NotificationRecord{ID: digest("published", id), Href: ensHref(ev), Type: string(n.Type), Parsed: ev.Notification}
	var deliveries, unsent []store.DeliveryRecord
	var suppressed, skipped int
	for _, t := range targets(subs, n.Type) {
		d := store.DeliveryRecord{ID: deliveryID(nr.ID, t.Method.Channel, t.Method.Address), NotificationID: nr.ID,
			SubscriptionID: t.SubscriptionID, MethodID: t.Method.ID, Channel: string(t.Method.Channel), Address: t.Method.Address}
		switch grace := e.o.Reminders.grace(t.Method.Channel); {
		case own != "" && !notifyOwn[t.SubscriptionID]:
			d.Status, d.LastError = store.DeliverySuppressed, own
			suppressed++
		case ended:
			d.Status, d.LastError = store.DeliverySkipped, fmt.Sprintf("late: the %s ended before the published alarm could be sent (%s late)",
				n.Reminder.Component, late.Round(time.Second))
			skipped++
		case n.Reminder != nil && late > grace:
			d.Status, d.LastError = store.DeliverySkipped, fmt.Sprintf("late: the alarm was published %s ago, beyond the %s grace of %s",
				late.Round(time.Second), t.Method.Channel, grace)
			skipped++
		default:
			deliveries = append(deliveries, d)
			continue
		}
		unsent = append(unsent, d)
	}
	if len(deliveries) == 0 && len(unsent) > 0 {
		nr.Status, nr.Error = store.NotificationDone, "not sent: "+unsent[0].LastError
	}
	var claimed bool
	err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		if claimed, err = store.ClaimPublished(ctx, tx, id, now); err != nil || !claimed {
			return err
		}
		ids, err := store.AddNotifications(ctx, tx, ev.System, ev.Principal, []store.NotificationRecord{nr}, deliveries, now)
		if err != nil {
			return err
		}
		if err := store.AddUnsentDeliveries(ctx, tx, ev.System, ev.Principal, unsent, now); err != nil {
			return err
		}
		created := make(map[string]bool, len(ids))
		for _, id := range ids {
			created[id] = true
		}
		byChannel := make(map[notifyd.Channel][]string)
		for _, d := range deliveries {
			if created[d.ID] {
				byChannel[notifyd.Channel(d.Channel)] = append(byChannel[notifyd.Channel(d.Channel)], d.ID)
			}
		}
		var jobs []river.InsertManyParams
		for _, ch := range notifyd.Channels {
			jobs = append(jobs, deliverJobs(byChannel[ch], ch)...)
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
	if err != nil || !claimed {
		return err
	}
	e.metrics.notifications.WithLabelValues(ev.System, string(n.Type)).Inc()
	e.metrics.suppressed.Add(float64(suppressed))
	e.log.Info("published event delivered", "system", ev.System, "principal", ev.Principal, "topic", ev.Topic,
		"uid", ev.UID, "deliveries", len(deliveries), "suppressed", suppressed, "skipped_late", skipped)
	return nil
}

// ensHref is the published event as the delivery log names its
// notification: its ENS event URL with the identifiers it carried.
func ensHref(ev *store.PublishedEvent) string {
	return ensHrefOf(Topic(ev.Topic), ev.CalID, ev.UID, ev.RID, ev.AID)
}

// ensHrefOf is topic's ENS event URL with the identifiers given.
func ensHrefOf(topic Topic, calid, uid, rid, aid string) string {
	q := url.Values{}
	for k, v := range map[string]string{ParamCalID: calid, ParamUID: uid, ParamRID: rid, ParamAID: aid} {
		if v != "" {
			q.Set(k, v)
		}
	}
	h := topic.ENSURL()
	if len(q) > 0 {
		h += "?" + q.Encode()
	}
	return h
}
