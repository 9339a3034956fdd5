package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/store"
)

// RetryNotification has a dead notification fetched and read again (once
// the cause is fixed: a larger response limit, a fixed template): it
// records the retry in the audit trail (as the actor of ctx) and queues
// the job that does it, in one transaction, and returns the notification
// as it was. The notification stays dead until the job replaces it with
// what it makes of it now: a notification with its deliveries, or dead
// again with the new reason (or nothing, if the resource is gone from the
// server). notifyd.ErrNotFound if there is no such notification,
// notifyd.ErrConflict if it is not dead.
func (e *Engine) RetryNotification(ctx context.Context, id string) (*store.NotificationRecord, error) {
	var n *store.NotificationRecord
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		if n, err = store.RetryDeadNotification(ctx, tx, id, time.Now()); err != nil {
			return err
		}
		return e.queue.insert(ctx, tx, river.InsertManyParams{Args: RetryNotificationArgs{NotificationID: id},
			InsertOpts: &river.InsertOpts{Queue: QueueSync}})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// RetryNotificationArgs is the job that fetches and reads a dead
// notification again.
type RetryNotificationArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind is the job's River kind.
func (RetryNotificationArgs) Kind() string { return "retry_notification" }

// retryNotificationWorker fetches a dead notification again and, in one
// transaction, replaces it with what it makes of it now, with its
// deliveries and their jobs.
type retryNotificationWorker struct {
	river.WorkerDefaults[RetryNotificationArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *retryNotificationWorker) Work(ctx context.Context, job *river.Job[RetryNotificationArgs]) error {
	e := w.e
	n, err := e.db.Notification(ctx, job.Args.NotificationID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return nil // replaced by another retry's job
	}
	if err != nil {
		return err
	}
	log := e.log.With("system", n.System, "principal", n.Principal, "notification", n.ID, "href", n.Href, "job", job.ID)
	if n.Status != store.NotificationDead {
		log.Info("dead notification not retried: discarded or retried meanwhile")
		return nil
	}
	sys, ok := e.systems[n.System]
	if !ok {
		log.Warn("dead notification not retried: the system is no longer in the configuration")
		return river.JobCancel(fmt.Errorf("system %q is not configured", n.System))
	}
	subs, err := e.o.Subscriptions.ForPrincipal(ctx, n.System, n.Principal)
	if err != nil {
		return err
	}
	args := SyncPrincipalArgs{System: n.System, Principal: n.Principal}
	rec := store.SyncRecord{System: n.System, Principal: n.Principal, Now: time.Now()}
	var shares []share
	if err := e.collectOne(ctx, log, sys, args, caldavclient.Resource{Href: n.Href, ETag: n.ETag}, n.ID, subs, &rec, &shares); err != nil {
		log.Warn("dead notification not fetched again, for now", "err", err)
		return err
	}
	var created []string
	err = e.db.Write(ctx, store.Lazy, func(tx *sql.Tx) error {
		still, err := store.ReplaceDeadNotification(ctx, tx, n.ID)
		if err != nil || !still {
			return err
		}
		if created, err = store.AddNotifications(ctx, tx, n.System, n.Principal, rec.Notifications, rec.Deliveries, rec.Now); err != nil {
			return err
		}
		if err := store.AddUnsentDeliveries(ctx, tx, n.System, n.Principal, rec.Unsent, rec.Now); err != nil {
			return err
		}
		key := store.PrincipalKey{System: n.System, Principal: n.Principal}
		for _, sh := range shares {
			if err := store.SetCalendarSharee(ctx, tx, key, sh.calendar, sh.access, rec.Now); err != nil {
				return err
			}
		}
		channel := make(map[string]notifyd.Channel, len(rec.Deliveries))
		for _, d := range rec.Deliveries {
			channel[d.ID] = notifyd.Channel(d.Channel)
		}
		var jobs []river.InsertManyParams
		for _, id := range created {
			jobs = append(jobs, deliverJob(id, channel[id]))
		}
		return e.queue.insert(ctx, tx, jobs...)
	})
	if err != nil {
		return err
	}
	status := "gone from the server"
	if len(rec.Notifications) > 0 {
		status = rec.Notifications[0].Status
		if status == "" {
			status = store.NotificationDelivering
		}
	}
	log.Info("dead notification fetched and read again", "status", status, "deliveries", len(created))
	return nil
}
