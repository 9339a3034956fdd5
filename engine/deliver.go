package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// deliver sends one delivery and records the outcome. A delivery already
// final is never sent again, so a retried or duplicated job cannot send
// twice; only a crash between the provider's acceptance and our record of
// it can (the attempt then runs again).
func (e *Engine) deliver(ctx context.Context, job *river.Job[DeliverArgs]) error {
	d, err := e.db.Delivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if store.DeliveryFinal(d.Status) {
		return nil
	}
	nr, err := e.db.Notification(ctx, d.NotificationID)
	if err != nil {
		return err
	}
	return e.attempt(ctx, d, nr, &subscriptionCache{store: e.o.Subscriptions}, job.Attempt, job.MaxAttempts, true)
}

// attempt makes one attempt at delivery d of notification nr, the
// attempt-th of at most maxAttempts, with d's subscription from subs, and
// records its outcome. own says whether the running job
// is d's own: a temporary failure then returns an error (or a snooze) for
// River to run the job again with backoff. A batch job (not d's own)
// instead records the failure together with a job of d's own, scheduled
// after the backoff, that takes over d's retries.
func (e *Engine) attempt(ctx context.Context, d *store.DeliveryRecord, nr *store.NotificationRecord, subs *subscriptionCache,
	attempt, maxAttempts int, own bool) error {
	log := e.log.With("delivery", d.ID, "system", d.System, "principal", d.Principal, "channel", d.Channel, "attempt", attempt)
	if age := time.Since(d.QueuedAt); age > e.o.MaxAge {
		reason := fmt.Sprintf("gave up: the delivery is %s old, more than jobs.max_age (%s); last error: %s",
			age.Round(time.Second), e.o.MaxAge, d.LastError)
		log.Error("delivery failed: too old to be sent", "age", age.Round(time.Second))
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason}, nil)
	}
	req, skip, err := e.request(ctx, d, nr, subs)
	if err != nil {
		return err
	}
	if skip != "" {
		log.Info("delivery skipped", "reason", skip)
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: skip}, nil)
	}
	ch := e.o.Channels[notifyd.Channel(d.Channel)]
	if ch == nil {
		reason := fmt.Sprintf("channel %s is not configured; configure channels.%s and retry the delivery", d.Channel, d.Channel)
		log.Error("delivery failed", "reason", reason)
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason}, nil)
	}

	res, sendErr := ch.Send(ctx, req)
	switch {
	case sendErr == nil && res.Skipped != "":
		log.Info("delivery skipped", "reason", res.Skipped)
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: res.Skipped}, nil)
	case sendErr == nil:
		log.Info("delivered", "provider_id", res.ProviderID)
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliverySent, ProviderID: res.ProviderID}, nil)
	case errors.Is(sendErr, delivery.ErrFallback):
		log.Info("recipient unreachable on this channel; falling back to the subscription's next method", "reason", sendErr)
		return e.fallBack(ctx, d, nr, sendErr)
	}
	temporary, after := delivery.IsTemporary(sendErr)
	if !temporary {
		log.Warn("delivery failed permanently", "err", sendErr)
		if errors.Is(sendErr, delivery.ErrRecipientGone) {
			if _, err := e.o.Subscriptions.DisableMethod(ctx, d.SubscriptionID, d.MethodID); err != nil && !errors.Is(err, notifyd.ErrNotFound) {
				return err
			}
			subs.forget(d.SubscriptionID)
			log.Warn("delivery method disabled: the provider says the recipient is gone", "subscription", d.SubscriptionID, "method", d.MethodID)
		}
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: sendErr.Error()}, nil)
	}
	if attempt >= maxAttempts || time.Since(d.QueuedAt)+after > e.o.MaxAge {
		reason := fmt.Sprintf("gave up after %d attempts: %v", max(attempt, d.Attempts+1), sendErr)
		if attempt < maxAttempts {
			reason = fmt.Sprintf("gave up: jobs.max_age (%s) would pass before the next attempt: %v", e.o.MaxAge, sendErr)
		}
		log.Error("delivery failed: out of attempts", "err", sendErr)
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason}, nil)
	}
	log.Warn("delivery failed; it will be retried", "err", sendErr, "retry_after", after)
	outcome := store.DeliveryOutcome{Status: store.DeliveryRetrying, Error: sendErr.Error()}
	if !own {
		return e.record(ctx, d, nr, outcome, func(tx *sql.Tx) error {
			return e.queueRetry(context.WithoutCancel(ctx), tx, d, attempt, maxAttempts, after)
		})
	}
	if err := e.record(ctx, d, nr, outcome, nil); err != nil {
		return err
	}
	if after > 0 {
		return river.JobSnooze(after)
	}
	return sendErr
}

// fallBack records the delivery as skipped and creates one through the
// subscription's next enabled method (in the subscription's order, after
// this one) that wants the notification, in the same transaction. With no
// such method, the delivery fails with the reason.
func (e *Engine) fallBack(ctx context.Context, d *store.DeliveryRecord, nr *store.NotificationRecord, reason error) error {
	sub, err := e.o.Subscriptions.Get(ctx, d.SubscriptionID)
	if err != nil && !errors.Is(err, notifyd.ErrNotFound) {
		return err
	}
	var next *notifyd.DeliveryMethod
	if sub != nil {
		after := false
		for i, m := range sub.Methods {
			if after && m.Enabled && wants(sub, m, notifyd.NotificationType(nr.Type)) {
				next = &sub.Methods[i]
				break
			}
			after = after || m.ID == d.MethodID
		}
	}
	if next == nil {
		return e.record(ctx, d, nr, store.DeliveryOutcome{Status: store.DeliveryFailed,
			Error: reason.Error() + "; the subscription has no further method to fall back to"}, nil)
	}
	nd := store.DeliveryRecord{ID: deliveryID(d.NotificationID, next.Channel, next.Address), NotificationID: d.NotificationID,
		SubscriptionID: sub.ID, MethodID: next.ID, Channel: string(next.Channel), Address: next.Address}
	now := time.Now()
	err = e.db.InTx(ctx, func(tx *sql.Tx) error {
		created, err := store.AddDelivery(ctx, tx, d.System, d.Principal, nd, now)
		if err != nil {
			return err
		}
		if created {
			if _, err := e.queue.client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{deliverJob(nd.ID, next.Channel)}); err != nil {
				return err
			}
		}
		_, err = store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: d.ID, Status: store.DeliverySkipped,
			Error: fmt.Sprintf("%v; delivered through %s %s instead", reason, next.Channel, next.Address), Now: now})
		return err
	})
	if err == nil {
		e.metrics.deliveries.WithLabelValues(d.Channel, store.DeliverySkipped).Inc()
	}
	return err
}

// wants reports whether method m of sub wants notifications of type t.
func wants(sub *notifyd.Subscription, m notifyd.DeliveryMethod, t notifyd.NotificationType) bool {
	for _, target := range subscriptions.Targets([]*notifyd.Subscription{sub}, t) {
		if target.Method.ID == m.ID {
			return true
		}
	}
	return false
}

// request builds what the channel sends, or says why the delivery is to be
// skipped (the subscription or method was removed or switched off since).
func (e *Engine) request(ctx context.Context, d *store.DeliveryRecord, nr *store.NotificationRecord, subs *subscriptionCache) (*delivery.Request, string, error) {
	var n notifyd.Notification
	if err := json.Unmarshal(nr.Parsed, &n); err != nil {
		return nil, "", fmt.Errorf("stored notification %s: %w", nr.ID, err)
	}
	sub, err := subs.get(ctx, d.SubscriptionID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return nil, "the subscription was deleted", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !sub.Enabled {
		return nil, "the subscription is disabled", nil
	}
	var method *notifyd.DeliveryMethod
	for i := range sub.Methods {
		if sub.Methods[i].ID == d.MethodID {
			method = &sub.Methods[i]
		}
	}
	if method == nil {
		return nil, "the delivery method was removed from the subscription", nil
	}
	if !method.Enabled {
		return nil, "the delivery method is disabled (unsubscribed)", nil
	}
	tz, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		tz = time.UTC
	}
	req := &delivery.Request{
		DeliveryID: d.ID, Notification: &n, System: d.System, Principal: d.Principal,
		Address: d.Address, Locale: sub.Locale, TimeZone: tz, CalendarName: n.Calendar.DisplayName,
		Method: *method,
	}
	if e.o.UnsubscribeURL != nil {
		req.UnsubscribeURL = e.o.UnsubscribeURL(sub.ID, *method)
	}
	return req, "", nil
}

// record stores an attempt's outcome durably (with also, if not nil, in
// the same transaction) and, when it settles the notification's last
// delivery, applies the after-delivery policy (see settle). The write
// shares its transaction and fsync with other workers' (groupCommit); it
// is made even if ctx ends (the attempt was made), and while the database
// cannot take writes it is tried again until ctx ends (see persist): a
// message the provider accepted must not be sent again for want of its
// record. Within a batch job, the write is committed but flushed to disk
// with the batch's others, and the policy waits for that (see batchEnd).
func (e *Engine) record(ctx context.Context, d *store.DeliveryRecord, nr *store.NotificationRecord, o store.DeliveryOutcome,
	also func(*sql.Tx) error) error {
	o.ID = d.ID
	o.Now = time.Now()
	wctx := context.WithoutCancel(ctx)
	batch := batchOf(ctx)
	write := e.commits.do
	if batch != nil {
		write = e.commits.doLazy
	}
	var settled string
	committed := false
	// The provider has the message: recording it outlives the job's
	// timeout (a failed job would send it again), not Stop.
	pctx, done := e.untilStop(ctx)
	defer done()
	err := persist(pctx, e.log.With("delivery", d.ID), func() error {
		if committed {
			return e.db.SyncWAL() // once written, only its sync to disk is tried again
		}
		err := write(func(tx *sql.Tx) error {
			var err error
			if settled, err = store.RecordDeliveryAttempt(wctx, tx, o); err != nil {
				return err
			}
			if also != nil {
				return also(tx)
			}
			return nil
		})
		var nd notDurable
		committed = errors.As(err, &nd)
		return err
	})
	if err != nil {
		return err
	}
	e.metrics.deliveries.WithLabelValues(d.Channel, o.Status).Inc()
	switch {
	case batch != nil:
		batch.unflushed = true
		if settled != "" {
			batch.settled = append(batch.settled, nr)
		}
	case settled != "":
		e.settle(ctx, nr)
	}
	return nil
}

// settle applies the after-delivery policy of a notification whose last
// delivery just became final, right away: no job for the common case. If
// that fails for now, a finish job takes over with retries and backoff; if
// the process stops before, the sweep finds the notification.
func (e *Engine) settle(ctx context.Context, n *store.NotificationRecord) {
	id := n.ID
	err := e.applyPolicy(ctx, n)
	if err == nil {
		return
	}
	e.log.Warn("after-delivery policy failed for now; queued for retry", "notification", id, "err", err)
	err = e.db.InTx(ctx, func(tx *sql.Tx) error {
		claimed, err := store.ClaimFinish(ctx, tx, id)
		if err != nil || !claimed {
			return err
		}
		_, err = e.queue.client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{finishJob(id)})
		return err
	})
	if err != nil {
		e.log.Error("could not queue the after-delivery policy; the sweep will", "notification", id, "err", err)
	}
}
