package email

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// The pacer tests run in testing/synctest bubbles: the clock is the
// bubble's fake one, so the pace is exact and no test waits for real.

// sendTimes acquires n sends to domain one after the other, releasing
// each at once, and returns when each could go, from the start.
func sendTimes(t *testing.T, p *pacer, domain string, n int) []time.Duration {
	t.Helper()
	start := time.Now()
	var at []time.Duration
	for range n {
		turn, err := p.acquire(t.Context(), domain, "test")
		if err != nil {
			t.Error(err)
			return at
		}
		at = append(at, time.Since(start))
		turn.release()
	}
	return at
}

// every is n times from 0, step apart.
func every(step time.Duration, n int) []time.Duration {
	var at []time.Duration
	for i := range n {
		at = append(at, time.Duration(i)*step)
	}
	return at
}

func TestPacerBurstToOneDomainDoesNotDelayAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Rate: 10, Burst: 2})
		var big, small []time.Duration
		var wg sync.WaitGroup
		wg.Go(func() { big = sendTimes(t, p, "big.example", 6) })
		wg.Go(func() { small = sendTimes(t, p, "SMALL.example", 2) })
		wg.Wait()
		// The burst of 2 goes at once, then one every 100ms.
		want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
		if fmt.Sprint(big) != fmt.Sprint(want) {
			t.Errorf("burst to big.example went at %v, want %v", big, want)
		}
		if fmt.Sprint(small) != fmt.Sprint(every(0, 2)) {
			t.Errorf("small.example went at %v, want at once beside the burst", small)
		}
	})
}

func TestPacerConcurrencyCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Concurrency: 2})
		ctx := t.Context()
		r1, _ := p.acquire(ctx, "a.example", "test")
		r2, _ := p.acquire(ctx, "a.example", "test")
		third := make(chan *turn)
		go func() {
			r, err := p.acquire(ctx, "a.example", "test")
			if err != nil {
				t.Error(err)
			}
			third <- r
		}()
		synctest.Wait()
		select {
		case <-third:
			t.Fatal("a third send to a.example started while two were in progress")
		default:
		}
		// Another domain is not held back by a.example's sends.
		rb, err := p.acquire(ctx, "b.example", "test")
		if err != nil {
			t.Fatal(err)
		}
		rb.release()
		r1.release()
		r3 := <-third
		r2.release()
		r3.release()
		// A cancelled wait is a temporary error.
		r1, _ = p.acquire(ctx, "a.example", "test")
		r2, _ = p.acquire(ctx, "a.example", "test")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := p.acquire(cctx, "a.example", "test"); err == nil {
			t.Error("acquire with a cancelled context went")
		} else if tmp, _ := delivery.IsTemporary(err); !tmp {
			t.Errorf("cancelled wait: %v is not temporary", err)
		}
		r1.release()
		r2.release()
	})
}

func TestPacerSlowHalvesOneDomainForABackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Rate: 10, Burst: 1})
		sendTimes(t, p, "a.example", 1)
		sendTimes(t, p, "b.example", 1)
		time.Sleep(time.Second) // buckets full again
		if s := p.slow("a.example", time.Now(), time.Now()); s.backOff != defaultBackOff || s.retry != defaultBackOff || s.rate != 5 {
			t.Errorf("first slow-down %+v, want a back-off of %s at 5/s", s, defaultBackOff)
		}
		if got := p.limit("a.example", time.Now()); got != 5 {
			t.Errorf("a.example's rate after a refusal: %v/s, want 5", got)
		}
		var a, b []time.Duration
		var wg sync.WaitGroup
		wg.Go(func() { a = sendTimes(t, p, "a.example", 3) })
		wg.Go(func() { b = sendTimes(t, p, "b.example", 3) })
		wg.Wait()
		if want := every(200*time.Millisecond, 3); fmt.Sprint(a) != fmt.Sprint(want) {
			t.Errorf("slowed a.example went at %v, want %v", a, want)
		}
		if want := every(100*time.Millisecond, 3); fmt.Sprint(b) != fmt.Sprint(want) {
			t.Errorf("b.example went at %v, want its full pace %v", b, want)
		}

		// The back-off ends: a.example is back at its rate.
		time.Sleep(defaultBackOff)
		if got := p.limit("a.example", time.Now()); got != 10 {
			t.Errorf("a.example's rate after its back-off: %v/s, want 10", got)
		}
		time.Sleep(time.Second)
		if want := every(100*time.Millisecond, 3); fmt.Sprint(sendTimes(t, p, "a.example", 3)) != fmt.Sprint(want) {
			t.Errorf("a.example after its back-off does not go at its full pace")
		}
	})
}

func TestPacerBackOffDoublesWhileRefusing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Rate: 16, Burst: 1})
		sendTimes(t, p, "a.example", 1)
		var got []time.Duration
		for range 5 {
			got = append(got, p.slow("a.example", time.Now(), time.Now()).backOff)
			time.Sleep(time.Second)
		}
		want := []time.Duration{defaultBackOff, 2 * defaultBackOff, 4 * defaultBackOff, maxBackOffs * defaultBackOff, maxBackOffs * defaultBackOff}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("back-offs %v, want %v", got, want)
		}
		if r := p.limit("a.example", time.Now()); r != 16*minRateShare {
			t.Errorf("rate after 5 refusals %v, want the floor %v", r, 16*minRateShare)
		}
		// Long after, a refusal starts over.
		time.Sleep(3 * maxBackOffs * defaultBackOff)
		if b := p.slow("a.example", time.Now(), time.Now()).backOff; b != defaultBackOff {
			t.Errorf("back-off after a quiet time %s, want %s", b, defaultBackOff)
		}
		if r := p.limit("a.example", time.Now()); r != 8 {
			t.Errorf("rate after a new refusal %v, want 8", r)
		}
	})
}

func TestPacerDropsIdleDomains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(config.PerDomain{Rate: 10, Burst: 1, Concurrency: 5})
		for i := range 100 {
			sendTimes(t, p, fmt.Sprintf("d%d.example", i), 1)
		}
		held, err := p.acquire(t.Context(), "busy.example", "test")
		if err != nil {
			t.Fatal(err)
		}
		sendTimes(t, p, "slow.example", 1)
		p.slow("slow.example", time.Now(), time.Now())
		time.Sleep(idleDomain)
		sendTimes(t, p, "new.example", 1)
		// Kept: new, busy (in progress); slow.example's back-off is over.
		if n := p.size(); n != 2 {
			t.Errorf("%d domains kept after %s idle, want 2 (the new one and the busy one)", n, idleDomain)
		}
		held.release()
	})
}

func TestRateRefusal(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		code int
		msg  string
		want bool
	}{
		{"RCPT TO", 421, "4.7.0 Unusual rate of mail", true},
		{"RCPT TO", 421, "Service not available, closing transmission channel", false},
		{"RCPT TO", 450, "Unusual rate of unsolicited mail", true},
		{"RCPT TO", 451, "Too many messages, try again later", true},
		{"RCPT TO", 450, "Mailbox busy", false},
		{"RCPT TO", 451, "mailbox temporarily unavailable, try again later", false},
		{"RCPT TO", 451, "Greylisted, try again later", false},
		{"RCPT TO", 550, "Rate limit exceeded", false},
		{"DATA", 421, "Rate limited, try again later", true},
		{"DATA", 421, "Service shutting down", false},
		{"DATA", 451, "Rate limited", false},
		{"MAIL FROM", 421, "Too many connections", false},
	} {
		err := fmt.Errorf("wrapped: %w", &SMTPError{Code: tc.code, Message: tc.msg, Temporary: tc.code/100 == 4, command: tc.cmd})
		if got := rateRefusal(err); got != tc.want {
			t.Errorf("%s %d %q: rate refusal %v, want %v", tc.cmd, tc.code, tc.msg, got, tc.want)
		}
	}
	if rateRefusal(errors.New("x")) || rateRefusal(nil) {
		t.Error("a non-SMTP error is a rate refusal")
	}
}

func TestDomainOf(t *testing.T) {
	for in, want := range map[string]string{
		"Ann@Example.ORG": "example.org", "a@b@c.example": "c.example", "nodomain": "nodomain",
	} {
		if got := domainOf(in); got != want {
			t.Errorf("domainOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// A relay that answers 421 at RCPT for one domain: that domain is slowed
// and the delivery retried after its back-off, the relay is neither
// cooled down nor failed over, and another domain goes at its full pace.
func TestChannelRateRefusalSlowsOnlyThatDomain(t *testing.T) {
	primary := startServer(t, serverOptions{})
	second := startServer(t, serverOptions{})
	c, clk := relayChannel(t, primary.addr, second.addr)
	c.pace = newPacer(config.PerDomain{Rate: 10, Burst: 10, Concurrency: 5})
	primary.refuse["a@slow.example"] = &smtpd.SMTPError{Code: 421, EnhancedCode: smtpd.EnhancedCode{4, 7, 0}, Message: "Unusual rate of mail, try again later"}
	ctx := context.Background()

	_, err := c.send(ctx, &delivery.Request{Address: "a@slow.example"}, testMessage("a@slow.example", "1"))
	tmp, after := delivery.IsTemporary(err)
	var se *SMTPError
	if !tmp || after != defaultBackOff || !errors.As(err, &se) || se.Code != 421 {
		t.Fatalf("send to the refusing domain: %v (temporary %v, retry after %s), want the 421, retried after %s", err, tmp, after, defaultBackOff)
	}
	if n := second.sessionCount(); n != 0 {
		t.Errorf("the message went to the second relay (%d sessions) after a rate refusal for its domain", n)
	}
	if c.relays.relays[0].cooling(clk.now()) {
		t.Error("a rate refusal for one domain put the relay in a cool-down")
	}
	if got := c.pace.limit("slow.example", time.Now()); got != 5 {
		t.Errorf("slow.example's rate %v/s, want halved to 5", got)
	}

	for i := range 3 {
		m := testMessage("b@fast.example", fmt.Sprint(i))
		if _, err := c.send(ctx, &delivery.Request{Address: "b@fast.example"}, m); err != nil {
			t.Fatalf("send to another domain: %v", err)
		}
	}
	if n := len(primary.received()); n != 3 {
		t.Errorf("the primary relay took %d messages to fast.example, want 3", n)
	}
	if got := c.pace.limit("fast.example", time.Now()); got != 10 {
		t.Errorf("fast.example's rate %v/s, want its full 10", got)
	}
}
