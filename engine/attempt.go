package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/preferences"
	"github.com/notifyd/notifyd/store"
)

// attempt is one attempt at delivery d of notification nr: the n-th of
// at most max, with d's subscription read through subs.
type attempt struct {
	d      *store.DeliveryRecord
	nr     *store.NotificationRecord
	n, max int
	subs   *subscriptionCache
	// countFrom, if not zero, is the start of the throttle period of the
	// method's channel: a send is counted in it.
	countFrom time.Time
	// started is when the attempt started (set by Engine.attempt).
	started time.Time
}

// attempt makes attempt a and records its outcome with rec, which decides
// how it is recorded and how a temporary failure is retried.
func (e *Engine) attempt(ctx context.Context, a attempt, rec recorder) error {
	d := a.d
	a.started = time.Now()
	log := e.log.With("delivery", d.ID, "system", d.System, "principal", d.Principal, "channel", d.Channel, "attempt", a.n)
	if age := time.Since(d.QueuedAt); age > e.o.MaxAge {
		reason := fmt.Sprintf("gave up: the delivery is %s old, more than jobs.max_age (%s); last error: %s",
			age.Round(time.Second), e.o.MaxAge, d.LastError)
		log.Error("delivery failed: too old to be sent", "age", age.Round(time.Second))
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason})
	}
	req, skip, err := e.request(ctx, d, a.nr, a.subs)
	if err != nil {
		return err
	}
	sub, _ := a.subs.get(ctx, d.SubscriptionID) // read by request
	typ := notifyd.NotificationType(a.nr.Type)
	if skip != "" {
		if skip == skipMethodDisabled && inChain(sub, d.MethodID, typ) {
			log.Info("delivery method switched off; falling back to the next in the subscription's channel order")
			return e.fallBack(ctx, a, rec, errors.New(skip))
		}
		log.Info("delivery skipped", "reason", skip)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: skip})
	}
	if why, err := e.suppressed(ctx, d.Channel, d.Address); err != nil || why != "" {
		if err != nil {
			return err
		}
		if inChain(sub, d.MethodID, typ) {
			log.Info("address suppressed; falling back to the next method in the subscription's channel order", "reason", why)
			return e.fallBackAs(ctx, a, rec, errors.New(why), store.DeliverySuppressed)
		}
		log.Info("delivery suppressed", "reason", why)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliverySuppressed, Error: why})
	}
	if plan := e.plan(sub); plan != nil {
		now := e.now()
		if d.Attempts == 0 && d.ReleaseAt.IsZero() {
			dec, err := e.decide(ctx, plan, &a, req.Notification, now)
			if err != nil {
				return err
			}
			if dec.Action != preferences.Send {
				return e.hold(ctx, a, rec, dec)
			}
		} else if d.Attempts == 0 {
			// Released after a hold: it counts when sent.
			countPeriod(plan, &a, now)
		}
	}
	ch := e.o.Channels[notifyd.Channel(d.Channel)]
	if ch == nil {
		reason := fmt.Sprintf("channel %s is not configured; configure channels.%s and retry the delivery", d.Channel, d.Channel)
		log.Error("delivery failed", "reason", reason)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason})
	}

	res, sendErr := ch.Send(ctx, req)
	switch {
	case sendErr == nil && res.Skipped != "":
		log.Info("delivery skipped", "reason", res.Skipped)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: res.Skipped})
	case sendErr == nil:
		log.Info("delivered", "provider_id", res.ProviderID)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliverySent, ProviderID: res.ProviderID})
	case errors.Is(sendErr, delivery.ErrFallback):
		log.Info("recipient unreachable on this channel; falling back to the subscription's next method", "reason", sendErr)
		return e.fallBack(ctx, a, rec, sendErr)
	}
	if deferred, after := delivery.IsDeferred(sendErr); deferred && time.Since(d.QueuedAt)+after <= e.o.MaxAge {
		log.Info("delivery put off to its turn; not an attempt", "reason", sendErr, "retry_after", after)
		return rec.putOff(ctx, a, sendErr, after)
	}
	temporary, after := delivery.IsTemporary(sendErr)
	if !temporary {
		log.Warn("delivery failed permanently", "err", sendErr)
		if errors.Is(sendErr, delivery.ErrRecipientGone) {
			if _, err := e.o.Subscriptions.DisableMethod(ctx, d.SubscriptionID, d.MethodID); err != nil && !errors.Is(err, notifyd.ErrNotFound) {
				return err
			}
			a.subs.forget(d.SubscriptionID)
			log.Warn("delivery method disabled: the provider says the recipient is gone", "subscription", d.SubscriptionID, "method", d.MethodID)
			if err := e.suppressStop(ctx, d, sendErr); err != nil {
				log.Error("could not suppress the phone number whose recipient replied STOP; the method stays disabled", "err", err)
			}
		}
		if inChain(sub, d.MethodID, typ) {
			log.Info("falling back to the next method in the subscription's channel order")
			return e.fallBack(ctx, a, rec, sendErr)
		}
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: sendErr.Error()})
	}
	if a.n >= a.max || time.Since(d.QueuedAt)+after > e.o.MaxAge {
		reason := fmt.Sprintf("gave up after %d attempts: %v", max(a.n, d.Attempts+1), sendErr)
		if a.n < a.max {
			reason = fmt.Sprintf("gave up: jobs.max_age (%s) would pass before the next attempt: %v", e.o.MaxAge, sendErr)
		}
		log.Error("delivery failed: out of attempts", "err", sendErr)
		return rec.record(ctx, a, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason})
	}
	log.Warn("delivery failed; it will be retried", "err", sendErr, "retry_after", after)
	return rec.retryLater(ctx, a, store.DeliveryOutcome{Status: store.DeliveryRetrying, Error: sendErr.Error()}, sendErr, after)
}

// fallBack records the delivery as skipped and creates one through the
// subscription's next enabled method that wants the notification (see
// nextMethod: the next of its channel order's chain, else the next in
// the subscription's order), in the same transaction. With no such
// method, the delivery fails with the reason.
func (e *Engine) fallBack(ctx context.Context, a attempt, rec recorder, reason error) error {
	return e.fallBackAs(ctx, a, rec, reason, store.DeliverySkipped)
}

// fallBackAs is fallBack recording the delivery in status (skipped, or
// suppressed for a suppressed address, which stays suppressed when there
// is no method to fall back to).
func (e *Engine) fallBackAs(ctx context.Context, a attempt, rec recorder, reason error, status string) error {
	d := a.d
	sub, err := e.o.Subscriptions.Get(ctx, d.SubscriptionID)
	if err != nil && !errors.Is(err, notifyd.ErrNotFound) {
		return err
	}
	var next *notifyd.DeliveryMethod
	if sub != nil {
		next = nextMethod(sub, d.MethodID, notifyd.NotificationType(a.nr.Type))
	}
	if next == nil {
		final := store.DeliveryFailed
		if status == store.DeliverySuppressed {
			final = status
		}
		return rec.record(ctx, a, store.DeliveryOutcome{Status: final,
			Error: reason.Error() + "; the subscription has no further method to fall back to"})
	}
	nd := store.DeliveryRecord{ID: deliveryID(d.NotificationID, next.Channel, next.Address), NotificationID: d.NotificationID,
		SubscriptionID: sub.ID, MethodID: next.ID, Channel: string(next.Channel), Address: next.Address}
	now := time.Now()
	err = e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		created, err := store.AddDelivery(ctx, tx, d.System, d.Principal, nd, now)
		if err == nil && created {
			err = e.queue.insert(ctx, tx, deliverJob(nd.ID, next.Channel))
		}
		if err != nil {
			return err
		}
		_, err = store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: d.ID, Status: status,
			Error: fmt.Sprintf("%v; delivered through %s %s instead", reason, next.Channel, next.Address), Started: a.started, Now: now})
		return err
	})
	if err == nil {
		e.metrics.deliveries.WithLabelValues(d.Channel, status).Inc()
	}
	return err
}

// skipMethodDisabled is why a delivery through a method switched off is
// skipped.
const skipMethodDisabled = "the delivery method is disabled (unsubscribed)"

// request builds what the channel sends, or says why the delivery is to be
// skipped (the subscription or method was removed or switched off since).
// Without nr (a digest), the request has no notification.
func (e *Engine) request(ctx context.Context, d *store.DeliveryRecord, nr *store.NotificationRecord, subs *subscriptionCache) (*delivery.Request, string, error) {
	var n notifyd.Notification
	if nr != nil {
		if err := json.Unmarshal(nr.Parsed, &n); err != nil {
			return nil, "", fmt.Errorf("stored notification %s: %w", nr.ID, err)
		}
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
		return nil, skipMethodDisabled, nil
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
	req.PreferencesURL = e.preferencesURL(sub.ID, *method)
	return req, "", nil
}
