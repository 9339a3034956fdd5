package email

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// Pacing per recipient domain (channels.smtp.per_domain): the domains of
// each provider group (per_domain.providers: gmail.com and googlemail.com
// are one provider) share one token bucket and one cap on sends in
// progress; every other domain has its own, from per_domain's rate,
// burst and concurrency (unlimited by default). A burst to one provider
// thus goes at a pace it accepts while the others keep theirs.
//
// A send waits for its turn at most maxPaceWait, holding a delivery
// worker; a send whose turn is further off is put back (delivery.Deferred:
// not an attempt) and made at its turn, the turns of the sends put back being
// handed out one after the other at the domain's pace. So a slow domain
// never holds the workers that other domains' mail needs.
//
// A rate refusal for a domain (see rateRefusal) halves its pace for a
// back-off (per_domain.back_off, doubling up to maxBackOffs times it
// while the refusals go on); a domain without a rate is paced from
// unpacedRate for its back-off and unpaced again after it. The relay is
// not blamed for it.
const (
	// defaultBackOff is the first back-off when the config sets none.
	defaultBackOff = time.Minute
	// maxBackOffs caps the back-off of a domain that keeps refusing, as a
	// multiple of the first.
	maxBackOffs = 5
	// minRateShare is the lowest share of its rate a domain is slowed to
	// (halved at each refusal).
	minRateShare = 1.0 / 16
	// unpacedRate is the rate (messages per second) a domain without one
	// is slowed from: its first refusal paces it at 1 a second, further
	// ones down to 1 every 8 seconds.
	unpacedRate = 2.0
	// maxPaceWait is the longest a send waits for its domain's turn.
	maxPaceWait = time.Second
	// idleDomain is how long a domain's state is kept once nothing went
	// to it and its back-off is over.
	idleDomain = 10 * time.Minute
)

// pacer holds the pace of every provider group and recipient domain.
type pacer struct {
	def     paceLimits    // per_domain's, for the domains in no group
	backOff time.Duration // the first back-off
	groupOf map[string]*paceGroup
	groups  []*paceGroup // the providers in config order, then other
	other   *paceGroup

	mu      sync.Mutex
	domains map[string]*domainPace // the state of domains in no group
	swept   time.Time
}

// paceLimits are a pace's configured figures.
type paceLimits struct {
	rate               float64 // messages per second; 0: unlimited
	burst, concurrency int
}

// paceGroup is a provider group, or the domains in none ("other"), with
// its metrics.
type paceGroup struct {
	name string
	// shared is the pace of all a provider's domains; nil for other.
	shared *domainPace

	refusals, deferred atomic.Uint64
	waiting            atomic.Int64
}

// domainPace is one pace: a provider's or a domain's bucket, slots and
// back-off. Its fields but slots and g are guarded by pacer.mu.
type domainPace struct {
	g       *paceGroup
	limits  paceLimits
	lim     *rate.Limiter // nil: no rate now
	slots   chan struct{} // nil: no cap
	share   float64       // of limits.rate (or unpacedRate), 1 when not slowed
	slowed  time.Time     // the last slow-down
	until   time.Time     // back-off end
	backOff time.Duration // the last back-off; 0: none
	horizon time.Time     // the turn of the next send put back
	busy    int           // sends holding the state
	used    time.Time     // last acquire or release
}

// newPacer returns the pacer for cfg.
func newPacer(cfg config.PerDomain) *pacer {
	p := &pacer{
		def:     paceLimits{cfg.Rate, cfg.Burst, cfg.Concurrency},
		backOff: cfg.BackOff,
		groupOf: map[string]*paceGroup{},
		domains: map[string]*domainPace{},
	}
	if p.backOff <= 0 {
		p.backOff = defaultBackOff
	}
	for _, pg := range cfg.Providers {
		g := &paceGroup{name: pg.Name}
		g.shared = newDomainPace(g, paceLimits{pg.Rate, pg.Burst, pg.Concurrency})
		for _, d := range pg.Domains {
			p.groupOf[strings.ToLower(d)] = g
		}
		p.groups = append(p.groups, g)
	}
	p.other = &paceGroup{name: config.OtherPaceGroup}
	p.groups = append(p.groups, p.other)
	return p
}

func newDomainPace(g *paceGroup, l paceLimits) *domainPace {
	d := &domainPace{g: g, limits: l, share: 1}
	if l.rate > 0 {
		d.lim = rate.NewLimiter(rate.Limit(l.rate), max(l.burst, 1))
	}
	if l.concurrency > 0 {
		d.slots = make(chan struct{}, l.concurrency)
	}
	return d
}

// domainOf is the lower-cased part of addr after its last @.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(addr), ">"))
}

// groupName is the group domain is paced in, for metrics and logs.
func (p *pacer) groupName(domain string) string {
	if g := p.groupOf[domain]; g != nil {
		return g.name
	}
	return config.OtherPaceGroup
}

// lookup returns domain's pace, made when missing; p.mu held. It drops
// the state of domains idle for idleDomain.
func (p *pacer) lookup(domain string, now time.Time) *domainPace {
	if g := p.groupOf[domain]; g != nil {
		return g.shared
	}
	if now.Sub(p.swept) >= idleDomain {
		p.swept = now
		for k, d := range p.domains {
			if d.busy == 0 && now.Sub(d.used) >= idleDomain && !now.Before(d.until) && !now.Before(d.horizon) {
				delete(p.domains, k)
			}
		}
	}
	d := p.domains[domain]
	if d == nil {
		d = newDomainPace(p.other, p.def)
		p.domains[domain] = d
	}
	return d
}

// restore puts d back to its full pace once its back-off is over; p.mu
// held.
func (p *pacer) restore(d *domainPace, now time.Time) {
	if d.share < 1 && !now.Before(d.until) {
		d.share = 1
		if d.limits.rate > 0 {
			d.lim.SetLimitAt(now, rate.Limit(d.limits.rate))
		} else {
			d.lim = nil
		}
	}
}

// turn is a send's right to go to its domain; release it after the send.
type turn struct {
	p    *pacer
	d    *domainPace
	slot bool      // holds one of d.slots
	at   time.Time // when it was given
}

// release gives back t's slot.
func (t *turn) release() {
	if t.slot {
		<-t.d.slots
		t.slot = false
	}
	t.p.mu.Lock()
	t.d.busy--
	t.d.used = time.Now()
	t.p.mu.Unlock()
}

// acquire waits until a message may go to domain: a free slot and a
// token in its pace's bucket. A wait longer than maxPaceWait is not
// made: the send is put back (a deferral, delivery.Deferred, whose
// retry-after is its turn). what names the send in errors.
func (p *pacer) acquire(ctx context.Context, domain, what string) (*turn, error) {
	now := time.Now()
	p.mu.Lock()
	d := p.lookup(domain, now)
	p.restore(d, now)
	d.busy++
	d.used = now
	lim := d.lim
	p.mu.Unlock()
	t := &turn{p: p, d: d}
	if d.slots != nil {
		if err := p.takeSlot(ctx, d, domain, what); err != nil {
			t.release()
			return nil, err
		}
		t.slot = true
	}
	if lim != nil {
		if err := p.takeToken(ctx, d, lim, domain, what); err != nil {
			t.release()
			return nil, err
		}
	}
	t.at = time.Now()
	return t, nil
}

// takeSlot takes one of d's slots, waiting for one at most maxPaceWait.
func (p *pacer) takeSlot(ctx context.Context, d *domainPace, domain, what string) error {
	select {
	case d.slots <- struct{}{}:
		return nil
	default:
	}
	d.g.waiting.Add(1)
	defer d.g.waiting.Add(-1)
	timer := time.NewTimer(maxPaceWait)
	defer timer.Stop()
	select {
	case d.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return p.putBack(d, domain, what, time.Now(), 0, true)
	case <-ctx.Done():
		return delivery.Temporary(fmt.Errorf("%s: waiting for a free send to %s: %w", what, domain, ctx.Err()), 0)
	}
}

// takeToken takes a token from lim, d's bucket, waiting for it at most
// maxPaceWait.
func (p *pacer) takeToken(ctx context.Context, d *domainPace, lim *rate.Limiter, domain, what string) error {
	now := time.Now()
	r := lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	switch {
	case !r.OK():
		return p.putBack(d, domain, what, now, maxPaceWait, false)
	case delay == 0:
		return nil
	case delay > maxPaceWait:
		r.CancelAt(now)
		return p.putBack(d, domain, what, now, delay, false)
	}
	d.g.waiting.Add(1)
	defer d.g.waiting.Add(-1)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return delivery.Temporary(fmt.Errorf("%s: waiting for the pace of %s: %w", what, domain, ctx.Err()), 0)
	}
}

// pacedError is a send put back because its domain's turn was too far
// off.
type pacedError struct {
	what, domain, group string
	rate                float64 // the pace now, when it waited for a token
	slots               int     // the sends allowed at once, when it waited for one
	after               time.Duration
}

func (e *pacedError) Error() string {
	why := fmt.Sprintf("has its %d sends at once in progress", e.slots)
	if e.slots == 0 {
		why = fmt.Sprintf("is paced at %.3g messages/s", e.rate)
	}
	return fmt.Sprintf("%s: %s (pacing group %s) %s; put back to be sent at its turn, in %s",
		e.what, e.domain, e.group, why, e.after.Round(time.Millisecond))
}

// putBack books the next turn of d for a send that would have waited
// delay at now (for a slot, with slot), and returns the deferral that
// retries it then (not counted as an attempt). The turns are handed out one after the other at
// d's pace; a domain paced only for its back-off gets no turn after the
// back-off's end.
func (p *pacer) putBack(d *domainPace, domain, what string, now time.Time, delay time.Duration, slot bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := now.Add(max(delay, maxPaceWait))
	if at.Before(d.horizon) {
		at = d.horizon
	}
	if d.limits.rate <= 0 && now.Before(d.until) && at.After(d.until) {
		at = d.until
	}
	var step time.Duration
	switch {
	case at.Before(d.until) && d.lim != nil:
		step = interval(float64(d.lim.Limit()))
	case d.limits.rate > 0:
		step = interval(d.limits.rate)
	case d.slots != nil:
		step = maxPaceWait / time.Duration(cap(d.slots))
	}
	d.horizon = at.Add(step)
	d.g.deferred.Add(1)
	e := &pacedError{what: what, domain: domain, group: d.g.name, after: at.Sub(now)}
	switch {
	case slot:
		e.slots = cap(d.slots)
	case d.lim != nil:
		e.rate = float64(d.lim.Limit())
	}
	return delivery.Deferred(e, e.after)
}

// interval is the time between two messages at r messages per second.
func interval(r float64) time.Duration {
	return time.Duration(float64(time.Second) / r)
}

// slowDown is what a rate refusal did to its domain's pace.
type slowDown struct {
	group   string
	rate    float64       // the pace now, messages per second
	backOff time.Duration // the back-off in effect
	retry   time.Duration // when to retry the refused send
	again   bool          // the send went before the last slow-down: not slowed anew
}

// slow halves domain's pace (from unpacedRate if it has none) for a
// back-off from now: p.backOff, doubled from the last one when the
// refusal comes while backing off (or within one back-off after it), up
// to maxBackOffs times p.backOff. A refusal of a send that got its turn
// (at sent) before the last slow-down is of the same burst: it is
// counted but does not slow the domain again.
func (p *pacer) slow(domain string, sent, now time.Time) slowDown {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.lookup(domain, now)
	d.used = now
	p.restore(d, now)
	d.g.refusals.Add(1)
	if sent.Before(d.slowed) && now.Before(d.until) {
		return slowDown{group: d.g.name, rate: float64(d.lim.Limit()), backOff: d.backOff, retry: d.until.Sub(now), again: true}
	}
	b := p.backOff
	if d.backOff > 0 && now.Before(d.until.Add(d.backOff)) {
		b = min(2*d.backOff, maxBackOffs*p.backOff)
	}
	d.backOff, d.until, d.slowed = b, now.Add(b), now
	d.share = max(d.share/2, minRateShare)
	base, burst := d.limits.rate, d.limits.burst
	if base <= 0 {
		base, burst = unpacedRate, 1
	}
	r := base * d.share
	if d.lim == nil {
		d.lim = rate.NewLimiter(rate.Limit(r), max(burst, 1))
	} else {
		d.lim.SetLimitAt(now, rate.Limit(r))
	}
	return slowDown{group: d.g.name, rate: r, backOff: b, retry: b}
}

// limit is domain's pace now in messages per second (0: unlimited), for
// tests, logs and metrics.
func (p *pacer) limit(domain string, now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d *domainPace
	if g := p.groupOf[domain]; g != nil {
		d = g.shared
	} else if d = p.domains[domain]; d == nil {
		return 0
	}
	return p.limitOf(d, now)
}

// limitOf is d's pace now; p.mu held.
func (p *pacer) limitOf(d *domainPace, now time.Time) float64 {
	p.restore(d, now)
	if d.lim == nil {
		return 0
	}
	return float64(d.lim.Limit())
}

// size is the number of domains in no group with state.
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
// server's state, not the domain's: it fails over as any other. Such a
// refusal slows the recipient's domain and does not fail the relay over.
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
