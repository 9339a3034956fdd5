package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	smtpd "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// The pacer tests here run in testing/synctest bubbles, as pacing_test.go's:
// their time.Sleep calls advance the bubble's fake clock once every
// goroutine is blocked, and never wait on a real one, so they cannot flake.

// bigmail is a provider group of two domains, at 10 messages/s.
var bigmail = config.PaceGroup{Name: "bigmail", Domains: []string{"big.example", "big2.example"}, Rate: 10, Burst: 1, Concurrency: 5}

// A provider's domains share one pace: sends to its two domains,
// alternating, go one after the other at the group's rate, while a domain
// in no group is not paced.
func TestPacerProviderGroupSharesOnePace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Providers: []config.PaceGroup{bigmail}})
		start := time.Now()
		var big, other []time.Duration
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 4 {
				addr := "a@big.example"
				if i%2 == 1 {
					addr = "b@Big2.Example"
				}
				turn, err := p.acquire(t.Context(), domainOf(addr), "test")
				if err != nil {
					t.Error(err)
					return
				}
				big = append(big, time.Since(start))
				turn.release()
			}
		})
		wg.Go(func() { other = sendTimes(t, p, "example.org", 4) })
		wg.Wait()
		if want := every(100*time.Millisecond, 4); fmt.Sprint(big) != fmt.Sprint(want) {
			t.Errorf("sends to big.example and big2.example went at %v, want one pace for both: %v", big, want)
		}
		if want := every(0, 4); fmt.Sprint(other) != fmt.Sprint(want) {
			t.Errorf("example.org went at %v, want at once (it is in no group and per_domain sets no rate)", other)
		}
		if g, o := p.groupName("big2.example"), p.groupName("example.org"); g != "bigmail" || o != config.OtherPaceGroup {
			t.Errorf("groups %q and %q, want bigmail and other", g, o)
		}
	})
}

// A rate refusal slows a domain that has no rate: 1 message a second for
// the back-off (per_domain.back_off), halved at each further refusal
// down to 1 every 8 s, unpaced again once the back-off is over; another
// domain is not slowed.
func TestPacerRefusalSlowsAnUnpacedDomain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const backOff = 10 * time.Second
		p := newPacer(config.PerDomain{BackOff: backOff})
		if got := p.limit("a.example", time.Now()); got != 0 {
			t.Fatalf("a.example paced at %v/s before any refusal", got)
		}
		s := p.slow("a.example", time.Now(), time.Now())
		if s.rate != 1 || s.backOff != backOff || s.retry != backOff || s.group != config.OtherPaceGroup || s.again {
			t.Errorf("first refusal: %+v, want 1/s for %s in group other", s, backOff)
		}
		var a, b []time.Duration
		var wg sync.WaitGroup
		wg.Go(func() { a = sendTimes(t, p, "a.example", 3) })
		wg.Go(func() { b = sendTimes(t, p, "b.example", 3) })
		wg.Wait()
		if want := every(time.Second, 3); fmt.Sprint(a) != fmt.Sprint(want) {
			t.Errorf("slowed a.example went at %v, want %v", a, want)
		}
		if want := every(0, 3); fmt.Sprint(b) != fmt.Sprint(want) {
			t.Errorf("b.example went at %v, want at once", b)
		}

		s = p.slow("a.example", time.Now(), time.Now())
		if s.rate != 0.5 || s.backOff != 2*backOff {
			t.Errorf("second refusal: %+v, want 0.5/s for %s", s, 2*backOff)
		}
		for range 5 {
			s = p.slow("a.example", time.Now(), time.Now())
		}
		if s.rate != unpacedRate*minRateShare || s.backOff != maxBackOffs*backOff {
			t.Errorf("after 7 refusals: %+v, want the floor %v/s for %s", s, unpacedRate*minRateShare, maxBackOffs*backOff)
		}

		time.Sleep(s.backOff)
		if got := p.limit("a.example", time.Now()); got != 0 {
			t.Errorf("a.example paced at %v/s after its back-off, want unpaced again", got)
		}
		if want := every(0, 5); fmt.Sprint(sendTimes(t, p, "a.example", 5)) != fmt.Sprint(want) {
			t.Error("a.example after its back-off does not go at once")
		}
	})
}

// A send whose turn is more than maxPaceWait off does not hold its
// worker: it is put back (a temporary error) with the next turn, the
// turns following one another at the pace; sent again at its turn it
// goes at once. Meanwhile another domain's mail goes.
func TestPacerPutsBackASendWhoseTurnIsFarOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Providers: []config.PaceGroup{{Name: "slowmail", Domains: []string{"slow.example"}, Rate: 1, Burst: 1}}})
		ctx := t.Context()
		g := p.groupOf["slow.example"]
		sendTimes(t, p, "slow.example", 1)
		second := make(chan error)
		go func() {
			turn, err := p.acquire(ctx, "slow.example", "test")
			if err == nil {
				turn.release()
			}
			second <- err
		}()
		synctest.Wait()
		if n := g.waiting.Load(); n != 1 {
			t.Errorf("%d sends waiting for slowmail, want the second one", n)
		}
		var after []time.Duration
		for range 3 {
			_, err := p.acquire(ctx, "slow.example", "email to x@slow.example")
			tmp, retry := delivery.IsTemporary(err)
			var pe *pacedError
			if !tmp || !errors.As(err, &pe) {
				t.Fatalf("a send 2 s from its turn: %v, want it put back", err)
			}
			after = append(after, retry)
		}
		if want := []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second}; fmt.Sprint(after) != fmt.Sprint(want) {
			t.Errorf("sends put back for %v, want turns one second apart: %v", after, want)
		}
		if n := g.deferred.Load(); n != 3 {
			t.Errorf("deferred count %d, want 3", n)
		}
		if want := every(0, 2); fmt.Sprint(sendTimes(t, p, "example.org", 2)) != fmt.Sprint(want) {
			t.Error("another domain waited behind slow.example")
		}
		if err := <-second; err != nil {
			t.Errorf("the second send, one second from its turn: %v, want it to wait", err)
		}
		// Each send put back goes at once when it comes back at its turn.
		start := time.Now()
		for _, a := range after {
			time.Sleep(start.Add(a - time.Second).Sub(time.Now())) // after began 1 s ago
			turn, err := p.acquire(ctx, "slow.example", "test")
			if err != nil {
				t.Fatalf("a send back at its turn: %v", err)
			}
			if w := time.Since(start); w != a-time.Second {
				t.Errorf("a send back at its turn %s went at %s", a-time.Second, w)
			}
			turn.release()
		}
		if n := g.deferred.Load(); n != 3 {
			t.Errorf("deferred count %d after the sends came back, want still 3", n)
		}
	})
}

// A send that finds all its domain's slots taken for maxPaceWait is put
// back; a domain paced only for its back-off gives no turn after the
// back-off's end, when it is unpaced again.
func TestPacerPutBackForSlotsAndBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Concurrency: 1, BackOff: 5 * time.Second})
		ctx := t.Context()
		held, err := p.acquire(ctx, "a.example", "test")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.acquire(ctx, "a.example", "email to x@a.example")
		var pe *pacedError
		if tmp, retry := delivery.IsTemporary(err); !tmp || !errors.As(err, &pe) || retry < maxPaceWait ||
			!strings.Contains(err.Error(), "has its 1 sends at once in progress") {
			t.Errorf("a send with every slot taken: %v (retry after %s), want it put back", err, retry)
		}
		if w := time.Since(start); w != maxPaceWait {
			t.Errorf("it waited %s for a slot, want %s", w, maxPaceWait)
		}
		held.release()

		p = newPacer(config.PerDomain{BackOff: 5 * time.Second})
		p.slow("b.example", time.Now(), time.Now()) // 1/s for 5 s
		sendTimes(t, p, "b.example", 1)
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { sendTimes(t, p, "b.example", 1) }) // waits 1 s
		synctest.Wait()
		var after []time.Duration
		for range 6 {
			_, err := p.acquire(ctx, "b.example", "test")
			_, retry := delivery.IsTemporary(err)
			after = append(after, retry)
		}
		want := []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
		if fmt.Sprint(after) != fmt.Sprint(want) {
			t.Errorf("b.example's sends put back for %v, want %v (none after its 5 s back-off)", after, want)
		}
	})
}

// The refusals of sends that went before the domain was slowed (one
// burst, refused together) slow it once; a send that went after, refused
// too, slows it again.
func TestPacerSameBurstRefusalsSlowOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Rate: 8, Burst: 3})
		var turns []*turn
		for range 3 {
			turn, err := p.acquire(t.Context(), "a.example", "test")
			if err != nil {
				t.Fatal(err)
			}
			turns = append(turns, turn)
		}
		time.Sleep(100 * time.Millisecond)
		if s := p.slow("a.example", turns[0].at, time.Now()); s.again || s.rate != 4 || s.backOff != defaultBackOff {
			t.Errorf("first refusal: %+v, want 4/s for %s", s, defaultBackOff)
		}
		time.Sleep(time.Second)
		for _, turn := range turns[1:] {
			if s := p.slow("a.example", turn.at, time.Now()); !s.again || s.rate != 4 || s.retry != defaultBackOff-time.Second {
				t.Errorf("refusal of the same burst: %+v, want counted, still 4/s, retried at the back-off's end", s)
			}
			turn.release()
		}
		turns[0].release()
		turn, err := p.acquire(t.Context(), "a.example", "test")
		if err != nil {
			t.Fatal(err)
		}
		if s := p.slow("a.example", turn.at, time.Now()); s.again || s.rate != 2 || s.backOff != 2*defaultBackOff {
			t.Errorf("refusal of a send after the slow-down: %+v, want 2/s for %s", s, 2*defaultBackOff)
		}
		turn.release()
		if n := p.other.refusals.Load(); n != 4 {
			t.Errorf("%d refusals counted, want 4", n)
		}
	})
}

// pacerCollector is a pacer's metrics as a prometheus.Collector.
type pacerCollector struct{ p *pacer }

func (c pacerCollector) Describe(ch chan<- *prometheus.Desc) { c.p.describe(ch) }
func (c pacerCollector) Collect(ch chan<- prometheus.Metric) { c.p.collect(ch) }

// A relay that answers 421 "unusual rate" for one domain of a provider
// group: the whole group is slowed (one pace), the refusal is counted
// under the group's name and logged with the group, the domain and what
// the operator may do; a domain in no group keeps its pace, and one
// without any rate is slowed by its own refusal.
func TestChannelRateRefusalSlowsItsGroup(t *testing.T) {
	ts := startServer(t, serverOptions{})
	c, _ := relayChannel(t, ts.addr)
	c.pace = newPacer(config.PerDomain{Providers: []config.PaceGroup{bigmail}})
	var logs bytes.Buffer
	c.log = slog.New(slog.NewTextHandler(&logs, nil))
	rateReply := &smtpd.SMTPError{Code: 421, EnhancedCode: smtpd.EnhancedCode{4, 7, 28},
		Message: "Our system has detected an unusual rate of unsolicited mail originating from your IP address"}
	ts.refuse["a@big.example"] = rateReply
	ts.refuse["c@plain.example"] = rateReply
	ctx := context.Background()

	_, err := c.send(ctx, &delivery.Request{Address: "a@big.example"}, testMessage("a@big.example", "1"))
	if tmp, after := delivery.IsTemporary(err); !tmp || after != defaultBackOff {
		t.Fatalf("send refused for its rate: %v (temporary %v, after %s), want retried after %s", err, tmp, after, defaultBackOff)
	}
	if got := c.pace.limit("big2.example", time.Now()); got != 5 {
		t.Errorf("big2.example, in the same group, paced at %v/s, want the group's halved 5", got)
	}
	if _, err := c.send(ctx, &delivery.Request{Address: "b@example.org"}, testMessage("b@example.org", "2")); err != nil {
		t.Fatalf("send to a domain in no group: %v", err)
	}
	if got := c.pace.limit("example.org", time.Now()); got != 0 {
		t.Errorf("example.org paced at %v/s, want unpaced", got)
	}
	log := logs.String()
	for _, want := range []string{"level=WARN", "group=bigmail", "domain=big.example", "channels.smtp.per_domain.providers", "back_off=1m0s"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}

	if _, err := c.send(ctx, &delivery.Request{Address: "c@plain.example"}, testMessage("c@plain.example", "3")); err == nil {
		t.Fatal("the refused send to plain.example went")
	}
	if got := c.pace.limit("plain.example", time.Now()); got != 1 {
		t.Errorf("plain.example, with no rate, paced at %v/s after a rate refusal, want 1", got)
	}

	want := `
# HELP notifyd_email_pace_rate A provider group's pace now, in messages per second (0: unlimited); below its configured rate while it is slowed.
# TYPE notifyd_email_pace_rate gauge
notifyd_email_pace_rate{group="bigmail"} 5
# HELP notifyd_email_pace_refusals_total Rate refusals (421/450/451 speaking of rate) from recipient domains, by pacing group.
# TYPE notifyd_email_pace_refusals_total counter
notifyd_email_pace_refusals_total{group="bigmail"} 1
notifyd_email_pace_refusals_total{group="other"} 1
# HELP notifyd_email_pace_slowed_domains Recipient domains slowed now after a rate refusal, by pacing group (a provider counts as one).
# TYPE notifyd_email_pace_slowed_domains gauge
notifyd_email_pace_slowed_domains{group="bigmail"} 1
notifyd_email_pace_slowed_domains{group="other"} 1
# HELP notifyd_email_pace_waiting Email sends waiting now (at most a second) for their domain's pace, by pacing group.
# TYPE notifyd_email_pace_waiting gauge
notifyd_email_pace_waiting{group="bigmail"} 0
notifyd_email_pace_waiting{group="other"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "notifyd_email_pace_rate", "notifyd_email_pace_refusals_total",
		"notifyd_email_pace_slowed_domains", "notifyd_email_pace_waiting"); err != nil {
		t.Error(err)
	}
	// The channel describes every metric it collects.
	if n := testutil.CollectAndCount(pacerCollector{c.pace}, "notifyd_email_pace_deferred_total"); n != 2 {
		t.Errorf("%d deferred series, want one per group (bigmail, other)", n)
	}
}
