package email

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// Pacing per recipient domain (channels.smtp.per_domain): each domain has
// its own token bucket and cap on sends in progress, so that a burst to
// one mailbox provider goes at a pace it accepts while the others keep
// theirs. A rate refusal for a domain (see rateRefusal) halves that
// domain's rate for a back-off, backOffMin doubling up to backOffMax
// while the refusals go on; the relay is not blamed for it.
const (
	// backOffMin is a domain's first back-off after a rate refusal.
	backOffMin = time.Minute
	// backOffMax caps the back-off of a domain that keeps refusing.
	backOffMax = 5 * time.Minute
	// minRateShare is the lowest share of its rate a domain is slowed to
	// (halved at each refusal).
	minRateShare = 1.0 / 16
	// idleDomain is how long a domain's state is kept once nothing went
	// to it and its back-off is over.
	idleDomain = 10 * time.Minute
)

// pacer holds the per-domain state.
type pacer struct {
	cfg config.PerDomain

	mu      sync.Mutex
	domains map[string]*domainPace
	swept   time.Time
}

// domainPace is one domain's bucket, slots and back-off.
type domainPace struct {
	lim     *rate.Limiter // nil: no rate
	slots   chan struct{} // nil: no cap
	share   float64       // of cfg.Rate, 1 when not backing off
	until   time.Time     // back-off end
	backOff time.Duration // the last back-off; 0: none
	busy    int           // sends holding the state
	used    time.Time     // last acquire or release
}

// newPacer returns the pacer for cfg; nil when cfg sets neither a rate nor
// a cap.
func newPacer(cfg config.PerDomain) *pacer {
	if cfg.Rate <= 0 && cfg.Concurrency <= 0 {
		return nil
	}
	return &pacer{cfg: cfg, domains: map[string]*domainPace{}}
}

// domainOf is the lower-cased part of addr after its last @.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(addr), ">"))
}

// state returns domain's state, counted busy, made when missing; it drops
// the state of domains idle for idleDomain.
func (p *pacer) state(domain string, now time.Time) *domainPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.swept) >= idleDomain {
		p.swept = now
		for k, d := range p.domains {
			if d.busy == 0 && now.Sub(d.used) >= idleDomain && !now.Before(d.until) {
				delete(p.domains, k)
			}
		}
	}
	d := p.domains[domain]
	if d == nil {
		d = &domainPace{share: 1}
		if p.cfg.Rate > 0 {
			d.lim = rate.NewLimiter(rate.Limit(p.cfg.Rate), max(p.cfg.Burst, 1))
		}
		if p.cfg.Concurrency > 0 {
			d.slots = make(chan struct{}, p.cfg.Concurrency)
		}
		p.domains[domain] = d
	}
	p.restore(d, now)
	d.busy++
	d.used = now
	return d
}

// restore puts d back to its full rate once its back-off is over; p.mu
// held.
func (p *pacer) restore(d *domainPace, now time.Time) {
	if d.share < 1 && !now.Before(d.until) {
		d.share = 1
		if d.lim != nil {
			d.lim.SetLimitAt(now, rate.Limit(p.cfg.Rate))
		}
	}
}

// acquire waits until a message may go to domain: a slot free and a
// token in the domain's bucket. Call the release it returns after the
// send.
func (p *pacer) acquire(ctx context.Context, domain, what string) (release func(), err error) {
	if p == nil {
		return func() {}, nil
	}
	d := p.state(domain, time.Now())
	done := func() {
		p.mu.Lock()
		d.busy--
		d.used = time.Now()
		p.mu.Unlock()
	}
	if d.slots != nil {
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			done()
			return nil, delivery.Temporary(fmt.Errorf("%s: waiting for a free send to %s: %w", what, domain, ctx.Err()), 0)
		}
	}
	release = func() {
		if d.slots != nil {
			<-d.slots
		}
		done()
	}
	if d.lim != nil {
		if err := d.lim.Wait(ctx); err != nil {
			release()
			return nil, delivery.Temporary(fmt.Errorf("%s: waiting for the pace of %s: %w", what, domain, err), 0)
		}
	}
	return release, nil
}

// slow halves domain's rate for a back-off from now: backOffMin, doubled
// from the last one when the refusal comes while backing off (or within
// one back-off after it), up to backOffMax. It returns the back-off.
func (p *pacer) slow(domain string, now time.Time) time.Duration {
	if p == nil {
		return backOffMin
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.domains[domain]
	if d == nil {
		return backOffMin
	}
	p.restore(d, now)
	b := backOffMin
	if d.backOff > 0 && now.Before(d.until.Add(d.backOff)) {
		b = min(2*d.backOff, backOffMax)
	}
	d.backOff, d.until = b, now.Add(b)
	d.share = max(d.share/2, minRateShare)
	if d.lim != nil {
		d.lim.SetLimitAt(now, rate.Limit(p.cfg.Rate*d.share))
	}
	return b
}

// limit is domain's rate now (0: unlimited or unknown), for tests and
// logs.
func (p *pacer) limit(domain string, now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.domains[domain]
	if d == nil || d.lim == nil {
		return 0
	}
	p.restore(d, now)
	return float64(d.lim.Limit())
}

// size is the number of domains with state.
func (p *pacer) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.domains)
}

// rateWords are what a 450/451 reply says when it is about the sender's
// rate rather than the mailbox. "Try again later" alone is not one: it is
// what a busy mailbox and greylisting say too, and slowing the whole
// domain for them would delay everyone's mail there.
var rateWords = []string{"rate", "too many", "throttl", "slow down"}

// rateRefusal reports whether err is a recipient domain telling notifyd
// to slow down: a 421, 450 or 451 to RCPT TO, or a 421 to DATA (after the
// recipient was accepted), that speaks of rate (rateWords). A 421 that
// does not ("service not available, closing transmission channel") is the
// server's state, not the domain's: it fails over as any other. Such a refusal slows the recipient's domain and
// does not fail the relay over.
func rateRefusal(err error) bool {
	var se *SMTPError
	if !errors.As(err, &se) {
		return false
	}
	msg := strings.ToLower(se.Message)
	speaks := false
	for _, w := range rateWords {
		if strings.Contains(msg, w) {
			speaks = true
			break
		}
	}
	switch se.command {
	case "RCPT TO":
		return (se.Code == 421 || se.Code == 450 || se.Code == 451) && speaks
	case "DATA":
		return se.Code == 421 && speaks
	}
	return false
}
