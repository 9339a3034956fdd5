package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/preferences"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// fakeClock is the engine's clock in these tests: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// option makes c the engine's clock.
func (c *fakeClock) option(o *engine.Options) { o.Now = c.now }

// noPolicy makes nothing always immediate (a sharing invite may then be
// gathered into a digest or throttled).
func noPolicy(o *engine.Options) { o.Systems[0].Policy = &preferences.Policy{} }

// subscribeWith subscribes wilma, in UTC, with preferences p and methods.
func (r *rig) subscribeWith(tb testing.TB, p *notifyd.Preferences, methods ...subscriptions.MethodInput) *notifyd.Subscription {
	tb.Helper()
	w, err := r.subs.Create(context.Background(), subscriptions.Input{System: "cal", Principal: principal, TimeZone: "UTC",
		Methods: methods, Preferences: p})
	if err != nil {
		tb.Fatal(err)
	}
	return w.Subscription
}

func emailTo(addr string) subscriptions.MethodInput {
	return subscriptions.MethodInput{Channel: notifyd.ChannelEmail, Address: addr}
}

// invites puts n invites in wilma's collection and pings once.
func (r *rig) invites(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		r.dav.add(n+".xml", inviteXML(n))
	}
	r.ping(tb, principal)
}

// waitLog waits until the delivery log has want deliveries, each in one
// of statuses, and returns it.
func (r *rig) waitLog(tb testing.TB, want int, statuses ...string) []store.DeliveryListItem {
	tb.Helper()
	var log []store.DeliveryListItem
	r.waitUntil(tb, "in the delivery log", func() bool {
		log = r.deliveryLog(tb)
		if len(log) != want {
			return false
		}
		for _, d := range log {
			if !slices.Contains(statuses, d.Status) {
				return false
			}
		}
		return true
	})
	return log
}

// release moves the clock to at and runs the release jobs now.
func (r *rig) release(tb testing.TB, clk *fakeClock, at time.Time) {
	tb.Helper()
	clk.set(at)
	if _, err := r.eng.ReleaseNowForTest(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// quietNow is a quiet-hours schedule covering now (UTC) and ending at
// the next whole minute an hour ahead.
func quietNow(now time.Time) ([]notifyd.QuietPeriod, time.Time) {
	end := now.Add(time.Hour).Truncate(time.Minute).Add(time.Minute)
	return []notifyd.QuietPeriod{{From: now.Add(-time.Hour).Format("15:04"), To: end.Format("15:04")}}, end
}

func TestQuietHoursHoldThenReleaseOnce(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option)
	quiet, end := quietNow(clk.now())
	r.subscribeWith(t, &notifyd.Preferences{QuietHours: quiet}, emailTo("wilma@example.com"))
	r.invites(t, "n1")

	d := r.waitLog(t, 1, store.DeliveryHeld)[0]
	if d.HeldReason != "quiet-hours" || d.HeldDigest || !d.ReleaseAt.Equal(end) {
		t.Fatalf("held %q (digest %v) until %v, want quiet-hours on its own until %v", d.HeldReason, d.HeldDigest, d.ReleaseAt, end)
	}
	if got := r.email.sentTo(); len(got) != 0 {
		t.Fatalf("sent during quiet hours: %v", got)
	}

	r.release(t, clk, end.Add(time.Second))
	d = r.waitLog(t, 1, store.DeliverySent)[0]
	if got := r.email.sentTo(); len(got) != 1 || d.Attempts != 1 || !d.ReleaseAt.Equal(end) {
		t.Fatalf("after quiet hours: sent %v, %d attempts, release_at %v", got, d.Attempts, d.ReleaseAt)
	}
}

func TestPauseHoldsEvenAlwaysImmediate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option)
	until := clk.now().Add(2 * time.Hour)
	r.subscribeWith(t, &notifyd.Preferences{PausedUntil: until}, emailTo("wilma@example.com"))
	r.invites(t, "n1") // a sharing invite: always immediate, but paused

	d := r.waitLog(t, 1, store.DeliveryHeld)[0]
	if d.HeldReason != "paused" || d.HeldDigest || !d.ReleaseAt.Equal(until) {
		t.Fatalf("held %q (digest %v) until %v, want paused until %v", d.HeldReason, d.HeldDigest, d.ReleaseAt, until)
	}
	r.release(t, clk, until)
	r.waitLog(t, 1, store.DeliverySent)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v after the pause, want one", got)
	}
}

func TestNoPreferencesSendsAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, "keep", noPolicy)
	r.subscribeWith(t, nil, emailTo("wilma@example.com"))
	r.invites(t, "n1", "n2")
	for _, d := range r.waitLog(t, 2, store.DeliverySent) {
		if !d.ReleaseAt.IsZero() || d.HeldReason != "" {
			t.Fatalf("delivery %s was held: %+v", d.ID, d)
		}
	}
}

// digestRequests are the digests the fake channel sent.
func digestRequests(c *fakeChannel) []*delivery.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*delivery.Request
	for _, r := range c.sent {
		if r.Digest != nil {
			out = append(out, r)
		}
	}
	return out
}

func TestDigestOneMessageForAll(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option, noPolicy)
	r.subscribeWith(t, &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "15m"}},
		emailTo("wilma@example.com"))
	r.invites(t, "n1", "n2", "n3")

	held := r.waitLog(t, 3, store.DeliveryHeld)
	due := held[0].ReleaseAt
	for _, d := range held {
		if d.HeldReason != "digest" || !d.HeldDigest || !d.ReleaseAt.Equal(due) || !due.After(clk.now()) {
			t.Fatalf("held %q (digest %v) until %v, want all in the digest due %v", d.HeldReason, d.HeldDigest, d.ReleaseAt, due)
		}
	}
	r.release(t, clk, due)
	sent := r.waitLog(t, 3, store.DeliverySent)
	digests := digestRequests(r.email)
	if len(digests) != 1 || len(r.email.sentTo()) != 1 {
		t.Fatalf("%d digests, %d messages; want one digest and nothing else", len(digests), len(r.email.sentTo()))
	}
	dg := digests[0]
	if len(dg.Digest.Items) != 3 || dg.Notification != nil || !dg.Digest.Until.Equal(due) {
		t.Fatalf("digest of %d items (notification %v) until %v", len(dg.Digest.Items), dg.Notification, dg.Digest.Until)
	}
	for i, it := range dg.Digest.Items {
		if it.Notification == nil || i > 0 && it.DeliveryID == dg.Digest.Items[i-1].DeliveryID {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	for _, d := range sent {
		if d.ProviderID != "fake-"+dg.DeliveryID {
			t.Fatalf("delivery %s recorded with provider id %q, want the digest's %q", d.ID, d.ProviderID, "fake-"+dg.DeliveryID)
		}
	}
}

func TestDigestRunAgainSendsNothingTwice(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option, noPolicy)
	sub := r.subscribeWith(t, &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"}},
		emailTo("wilma@example.com"))
	r.invites(t, "n1", "n2")
	held := r.waitLog(t, 2, store.DeliveryHeld)
	due := held[0].ReleaseAt

	// The first send reaches the provider but its outcome is lost (as a
	// crash before the record): the run again sends under the same ID.
	r.failWith(func(_ context.Context, req *delivery.Request, attempt int) error {
		if attempt == 1 {
			return delivery.Temporary(errors.New("connection reset after DATA"), 0)
		}
		return nil
	})
	r.release(t, clk, due)
	r.waitUntil(t, "retried", func() bool {
		if _, err := r.eng.ReleaseNowForTest(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(digestRequests(r.email)) == 1
	})
	r.waitLog(t, 2, store.DeliverySent)
	dg := digestRequests(r.email)[0]
	r.email.mu.Lock()
	seen := r.email.seen[dg.DeliveryID]
	r.email.mu.Unlock()
	if seen != 2 {
		t.Fatalf("digest %s tried %d times, want 2 under the same ID", dg.DeliveryID, seen)
	}

	// A digest job run again once recorded finds nothing held.
	events := r.jobEnds(t)
	if err := r.eng.InsertDigestJobForTest(context.Background(), sub.ID, sub.Methods[0].ID, notifyd.ChannelEmail, due); err != nil {
		t.Fatal(err)
	}
	nextEnd(t, events, (engine.SendDigestArgs{}).Kind(), river.EventKindJobCompleted)
	if n := len(r.email.sentTo()); n != 1 {
		t.Fatalf("%d messages after the digest job ran again, want 1", n)
	}
}

func TestThrottleFoldsTheRestIntoADigest(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option, noPolicy)
	sub := r.subscribeWith(t, &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: 2, Per: "1h"}}, emailTo("wilma@example.com"))
	r.invites(t, "n1", "n2", "n3", "n4")

	log := r.waitLog(t, 4, store.DeliverySent, store.DeliveryHeld)
	var held []store.DeliveryListItem
	for _, d := range log {
		if d.Status == store.DeliveryHeld {
			held = append(held, d)
		}
	}
	period := clk.now().Truncate(time.Hour)
	if len(held) != 2 || held[0].HeldReason != "throttle" || !held[0].ReleaseAt.Equal(period.Add(time.Hour)) {
		t.Fatalf("held %+v, want 2 throttled until %v", held, period.Add(time.Hour))
	}
	if n, err := r.db.MethodSent(context.Background(), sub.ID, sub.Methods[0].ID, period); err != nil || n != 2 {
		t.Fatalf("counted %d sent this period (%v), want 2", n, err)
	}
	r.release(t, clk, period.Add(time.Hour))
	r.waitLog(t, 4, store.DeliverySent)
	if d := digestRequests(r.email); len(d) != 1 || len(d[0].Digest.Items) != 2 || len(r.email.sentTo()) != 3 {
		t.Fatalf("%d digests, %d messages; want the 2 throttled in one digest, 3 messages", len(d), len(r.email.sentTo()))
	}
	if n, err := r.db.MethodSent(context.Background(), sub.ID, sub.Methods[0].ID, period.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("the digest counted %d in its period (%v), want 1", n, err)
	}
}

func TestChannelOrderFallsBack(t *testing.T) {
	t.Parallel()
	sms := &fakeChannel{seen: map[string]int{}}
	withSMS := func(o *engine.Options) { o.Channels[notifyd.ChannelSMS] = sms }
	r := newRig(t, "keep", withSMS)
	r.subscribeWith(t, &notifyd.Preferences{ChannelOrder: []notifyd.Channel{notifyd.ChannelEmail, notifyd.ChannelSMS}},
		subscriptions.MethodInput{Channel: notifyd.ChannelSMS, Address: "+33612345678"}, emailTo("wilma@example.com"))

	// The first of the chain delivers: the next gets nothing.
	r.invites(t, "n1")
	r.waitLog(t, 1, store.DeliverySent)
	if len(r.email.sentTo()) != 1 || len(sms.sentTo()) != 0 {
		t.Fatalf("email %v, sms %v; want email only", r.email.sentTo(), sms.sentTo())
	}

	// A permanent failure of the first: the next gets it.
	r.failWith(func(context.Context, *delivery.Request, int) error { return errors.New("550 mailbox unavailable") })
	r.invites(t, "n2")
	log := r.waitLog(t, 3, store.DeliverySent, store.DeliverySkipped)
	if got := sms.sentTo(); len(got) != 1 || got[0] != "+33612345678" {
		t.Fatalf("sms %v, want the fallback", got)
	}
	skipped := 0
	for _, d := range log {
		if d.Status == store.DeliverySkipped && d.Channel == "email" {
			skipped++
		}
	}
	if skipped != 1 {
		t.Fatalf("log %+v: want the failed email skipped for the fallback", log)
	}
}

func TestHeldSurvivesRestart(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r1 := newRig(t, "keep", clk.option)
	quiet, end := quietNow(clk.now())
	r1.subscribeWith(t, &notifyd.Preferences{QuietHours: quiet}, emailTo("wilma@example.com"))
	r1.invites(t, "n1")
	r1.waitLog(t, 1, store.DeliveryHeld)
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r1.eng.Stop(stop); err != nil {
		t.Fatal(err)
	}

	r2 := newRigOn(t, r1.db, "keep", clk.option)
	r2.start(t)
	r2.release(t, clk, end)
	r2.waitLog(t, 1, store.DeliverySent)
	if len(r1.email.sentTo()) != 0 || len(r2.email.sentTo()) != 1 {
		t.Fatalf("sent %v before the restart, %v after; want one after", r1.email.sentTo(), r2.email.sentTo())
	}
}

// A delivery job run again (a crash right after the hold's write) finds
// the delivery held and sends nothing: the release will.
func TestDeliverJobRunAgainLeavesHeld(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRig(t, "keep", clk.option)
	quiet, _ := quietNow(clk.now())
	r.subscribeWith(t, &notifyd.Preferences{QuietHours: quiet}, emailTo("wilma@example.com"))
	r.invites(t, "n1")
	d := r.waitLog(t, 1, store.DeliveryHeld)[0]

	events := r.jobEnds(t)
	if err := r.eng.InsertDeliverJobsForTest(context.Background(), []string{d.ID}, notifyd.ChannelEmail); err != nil {
		t.Fatal(err)
	}
	nextEnd(t, events, deliverKind, river.EventKindJobCompleted)
	if got := r.email.sentTo(); len(got) != 0 || r.deliveryLog(t)[0].Status != store.DeliveryHeld {
		t.Fatalf("sent %v while held; want nothing, still held", got)
	}
}

// gatedChannel holds every send until gate is closed, counting them.
type gatedChannel struct {
	gate    chan struct{}
	entered atomic.Int32
}

func (c *gatedChannel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	c.entered.Add(1)
	select {
	case <-c.gate:
		return delivery.Result{ProviderID: "gated-" + req.DeliveryID}, nil
	case <-ctx.Done():
		return delivery.Result{}, ctx.Err()
	}
}

// Five notifications of one method, each in a delivery job of its own,
// are decided while the first sends are still under way (not yet
// recorded): a throttle of three lets three go and holds two, as it does
// when they come one after the other.
func TestThrottleHoldsABurstDecidedAtOnce(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	email := &gatedChannel{gate: make(chan struct{})}
	r := newRig(t, "keep", clk.option, noPolicy, func(o *engine.Options) { o.Channels[notifyd.ChannelEmail] = email })
	r.subscribeWith(t, &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: 3, Per: "1h"}}, emailTo("wilma@example.com"))
	for i, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
		r.invites(t, n) // each its own sync, so its own delivery job
		r.waitUntil(t, "the delivery made", func() bool { return len(r.deliveryLog(t)) == i+1 })
	}
	held := func() int {
		n := 0
		for _, d := range r.deliveryLog(t) {
			if d.Status == store.DeliveryHeld {
				n++
			}
		}
		return n
	}
	r.waitUntil(t, "all five decided", func() bool { return int(email.entered.Load())+held() == 5 })
	close(email.gate)
	log := r.waitLog(t, 5, store.DeliverySent, store.DeliveryHeld)
	sent := 0
	for _, d := range log {
		if d.Status == store.DeliverySent {
			sent++
		} else if d.HeldReason != "throttle" {
			t.Errorf("held %+v, want by the throttle", d)
		}
	}
	if sent != 3 {
		t.Fatalf("%d sent, %d held of a burst of five under a throttle of three; want 3 and 2", sent, 5-sent)
	}
}
