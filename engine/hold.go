package engine

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/preferences"
	"github.com/notifyd/notifyd/store"
)

// A subscription's preferences are applied once per delivery, at the
// moment it would first be attempted (Engine.attempt): every producer's
// deliveries (syncs, publish, reminders, calendar updates, scheduling
// messages) go through it. A delivery the preferences hold is recorded
// as held, with its release time and the reason, in the same write as
// the job that releases it (ReleaseHeldArgs): a restart loses nothing.
// Once released it is never held again (its release time stays set).

// maxPlans bounds the compiled plans kept; past it the cache starts over.
const maxPlans = 10000

// planCache keeps each subscription's compiled preferences, keyed by
// its ID and version: a changed preference takes effect for the next
// message.
type planCache struct {
	mu    sync.Mutex
	plans map[string]cachedPlan
}

type cachedPlan struct {
	version int64
	plan    *preferences.Plan
}

// now is the engine's clock (Options.Now).
func (e *Engine) now() time.Time {
	if e.o.Now != nil {
		return e.o.Now()
	}
	return time.Now()
}

// policy is system's always-immediate policy.
func (e *Engine) policy(system string) preferences.Policy {
	if p := e.systems[system].Policy; p != nil {
		return *p
	}
	return preferences.DefaultPolicy()
}

// plan returns sub's compiled preferences, or nil when it has none (no
// work at all for such a subscription).
func (e *Engine) plan(sub *notifyd.Subscription) *preferences.Plan {
	if sub == nil || sub.Preferences.IsZero() {
		return nil
	}
	c := &e.plans
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans[sub.ID]; ok && p.version == sub.Version {
		return p.plan
	}
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	plan, err := preferences.Compile(sub.Preferences, loc, e.policy(sub.System))
	if err != nil {
		// Stored preferences were validated: only a bug gets here.
		e.log.Error("subscription preferences not applied: they do not compile", "subscription", sub.ID, "err", err)
		return nil
	}
	if c.plans == nil || len(c.plans) >= maxPlans {
		c.plans = make(map[string]cachedPlan)
	}
	c.plans[sub.ID] = cachedPlan{version: sub.Version, plan: plan}
	return plan
}

// decide applies plan to the first attempt at a (of notification n on
// d's channel) at now. On a throttled channel, a send takes its place in
// the period's count first (store.DB.TakeSend).
func (e *Engine) decide(ctx context.Context, plan *preferences.Plan, a *attempt, n *notifyd.Notification, now time.Time) (preferences.Decision, error) {
	d := a.d
	ch := notifyd.Channel(d.Channel)
	pn := preferences.Notification{Type: notifyd.NotificationType(a.nr.Type)}
	if n != nil && n.Event != nil {
		pn.EventStart = n.Event.Start
	}
	start, _, throttled := plan.ThrottlePeriod(ch, now)
	if !throttled {
		return plan.Decide(ch, pn, 0, now), nil
	}
	sent, err := e.db.MethodSent(ctx, d.SubscriptionID, d.MethodID, start)
	if err != nil {
		return preferences.Decision{}, err
	}
	dec := plan.Decide(ch, pn, sent, now)
	if dec.Action != preferences.Send {
		return dec, nil
	}
	// Take the place before sending, and decide again with the count
	// as it was then: of a burst decided at once, only the first ones to
	// take a place under the throttle go.
	if sent, err = e.db.TakeSend(ctx, d.SubscriptionID, d.MethodID, start); err != nil {
		return preferences.Decision{}, err
	}
	return plan.Decide(ch, pn, sent, now), nil
}

// countPeriod notes in a the throttle period of plan on a's channel at
// now (a send's record counts it), if the channel has a throttle.
func countPeriod(plan *preferences.Plan, a *attempt, now time.Time) {
	if plan == nil {
		return
	}
	if start, _, ok := plan.ThrottlePeriod(notifyd.Channel(a.d.Channel), now); ok {
		a.countFrom = start
	}
}

// hold records a as held by decision dec, with the job that releases it.
func (e *Engine) hold(ctx context.Context, a attempt, rec recorder, dec preferences.Decision) error {
	at := dec.At.UTC().Truncate(time.Microsecond) // as stored
	e.log.Info("delivery held by the subscription's preferences", "delivery", a.d.ID, "channel", a.d.Channel,
		"reason", dec.Reason, "action", dec.Action, "release_at", at)
	o := store.DeliveryOutcome{Status: store.DeliveryHeld, ReleaseAt: at, Reason: string(dec.Reason),
		Digest: dec.Action == preferences.Digest}
	return rec.hold(ctx, a, o, func(tx *sql.Tx) error {
		return e.queue.insertUnique(context.WithoutCancel(ctx), tx, releaseJob(at))
	})
}
