package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/store"
)

// SendDigestArgs is the job that sends one method's digest due at At: the
// deliveries held for it, gathered oldest first into one message
// (delivery.Request.Digest), sent once, and every one of them recorded
// with that message's outcome in one durable write, which claims them
// (only those still held are recorded). A run again after a crash between
// the send and that write sends the same items under the same digest ID,
// the channel's idempotency key; a run after the write finds nothing
// held and sends nothing.
type SendDigestArgs struct {
	SubscriptionID string          `json:"subscription_id"`
	MethodID       string          `json:"method_id"`
	Channel        notifyd.Channel `json:"channel"`
	At             time.Time       `json:"at"`
}

// Kind is the job's River kind.
func (SendDigestArgs) Kind() string { return "send_digest" }

// digestJob is the job that sends digest g, in its channel's queue, one
// at a time per digest.
func digestJob(g store.DigestGroup) river.InsertManyParams {
	ch := notifyd.Channel(g.Channel)
	return river.InsertManyParams{
		Args: SendDigestArgs{SubscriptionID: g.SubscriptionID, MethodID: g.MethodID, Channel: ch, At: g.At.UTC()},
		InsertOpts: &river.InsertOpts{Queue: deliverQueue(ch),
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}}
}

// digestID is the delivery ID of the digest of the held deliveries whose
// oldest is first, for group g: the same on a run again.
func digestID(g store.DigestGroup, first string) string {
	return "digest-" + digest(g.SubscriptionID, g.MethodID, strconv.FormatInt(g.At.UnixMicro(), 10), first)
}

// sendDigestWorker sends one digest.
type sendDigestWorker struct {
	river.WorkerDefaults[SendDigestArgs]
	e *Engine
}

// Work implements river.Worker.
func (w *sendDigestWorker) Work(ctx context.Context, job *river.Job[SendDigestArgs]) error {
	e := w.e
	g := store.DigestGroup{SubscriptionID: job.Args.SubscriptionID, MethodID: job.Args.MethodID,
		Channel: string(job.Args.Channel), At: job.Args.At}
	ds, notifications, err := e.db.HeldDigest(ctx, g)
	if err != nil || len(ds) == 0 {
		return err
	}
	log := e.log.With("subscription", g.SubscriptionID, "method", g.MethodID, "channel", g.Channel, "items", len(ds))
	subs := &subscriptionCache{store: e.o.Subscriptions}
	first := attempt{d: ds[0], subs: subs, started: time.Now()}
	req, skip, err := e.request(ctx, ds[0], nil, subs)
	if err != nil {
		return err
	}
	if skip != "" {
		log.Info("digest skipped", "reason", skip)
		return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: skip})
	}
	if why, err := e.suppressed(ctx, g.Channel, ds[0].Address); err != nil || why != "" {
		if err != nil {
			return err
		}
		log.Info("digest suppressed", "reason", why)
		return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliverySuppressed, Error: why})
	}
	ch := e.o.Channels[job.Args.Channel]
	if ch == nil {
		reason := fmt.Sprintf("channel %s is not configured; configure channels.%s", g.Channel, g.Channel)
		return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: reason})
	}
	dg := &delivery.Digest{Since: ds[0].CreatedAt, Until: g.At}
	for _, d := range ds {
		nr := notifications[d.NotificationID]
		if nr == nil {
			continue
		}
		var n notifyd.Notification
		if err := json.Unmarshal(nr.Parsed, &n); err != nil {
			return fmt.Errorf("stored notification %s: %w", nr.ID, err)
		}
		dg.Items = append(dg.Items, delivery.DigestItem{DeliveryID: d.ID, Notification: &n, CalendarName: n.Calendar.DisplayName})
	}
	req.DeliveryID, req.Notification, req.CalendarName, req.Digest = digestID(g, ds[0].ID), nil, "", dg
	sub, _ := subs.get(ctx, g.SubscriptionID)
	countPeriod(e.plan(sub), &first, e.now())

	res, sendErr := ch.Send(ctx, req)
	switch {
	case sendErr == nil && res.Skipped != "":
		log.Info("digest skipped", "reason", res.Skipped)
		return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliverySkipped, Error: res.Skipped})
	case sendErr == nil:
		log.Info("digest delivered", "provider_id", res.ProviderID, "digest", req.DeliveryID)
		return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliverySent, ProviderID: res.ProviderID})
	}
	if deferred, after := delivery.IsDeferred(sendErr); deferred {
		log.Info("digest put off to its turn; not an attempt", "reason", sendErr, "retry_after", after)
		return river.JobSnooze(after)
	}
	temporary, after := delivery.IsTemporary(sendErr)
	if temporary && job.Attempt < job.MaxAttempts {
		log.Warn("digest failed; it will be retried", "err", sendErr, "retry_after", after)
		if after > 0 {
			return river.JobSnooze(after)
		}
		return sendErr
	}
	if errors.Is(sendErr, delivery.ErrRecipientGone) {
		if _, err := e.o.Subscriptions.DisableMethod(ctx, g.SubscriptionID, g.MethodID); err != nil && !errors.Is(err, notifyd.ErrNotFound) {
			return err
		}
	}
	log.Error("digest failed", "err", sendErr)
	return e.recordDigest(ctx, ds, notifications, first, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: sendErr.Error()})
}

// recordDigest records outcome o for every delivery of a digest (those
// still held: the write claims them) in one durable write, counts the
// digest as one message of the method's throttle when sent, and applies
// the after-delivery policies of the notifications it settled.
func (e *Engine) recordDigest(ctx context.Context, ds []*store.DeliveryRecord, notifications map[string]*store.NotificationRecord,
	a attempt, o store.DeliveryOutcome) error {
	o.Now, o.Started = time.Now(), a.started
	var settled []*store.NotificationRecord
	recorded := 0
	pctx, done := e.untilStop(ctx)
	defer done()
	err := e.db.Persist(pctx, store.Durable, func(tx *sql.Tx) error {
		settled, recorded = settled[:0], 0
		for _, d := range ds {
			o.ID = d.ID
			s, ok, err := store.RecordHeldOutcome(pctx, tx, o)
			if err != nil {
				return err
			}
			if ok {
				recorded++
			}
			if nr := notifications[s]; s != "" && nr != nil {
				settled = append(settled, nr)
			}
		}
		if o.Status == store.DeliverySent && recorded > 0 && !a.countFrom.IsZero() {
			return store.CountSend(pctx, tx, a.d.SubscriptionID, a.d.MethodID, a.countFrom)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.metrics.deliveries.WithLabelValues(a.d.Channel, o.Status).Add(float64(recorded))
	e.settle(ctx, settled...)
	return nil
}
