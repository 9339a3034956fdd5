package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
)

// Relay fail-over (channels.smtp.fallback_relays): the relays are tried in
// priority order. A relay that is down (connect, TLS or AUTH failure,
// timeout, connection lost before the message's data) or refusing for now
// (4xx to MAIL FROM, RCPT TO or DATA, 421) is skipped for a cool-down and
// the message goes to the next relay in the same attempt. A permanent
// refusal (5xx) is the recipient's answer and ends the attempt. A failure
// after the message's data was sent may mean the relay has it: the
// message then goes nowhere else in this attempt (the delivery is
// retried, as with a single relay, under the same Message-ID). A
// recipient domain's rate refusal (a 421 to RCPT TO; see rateRefusal) is
// not the relay's fault: it slows that domain (pacing.go) and the
// delivery is retried after the domain's back-off, with no cool-down.
const (
	// coolDownMin is how long a relay is skipped after it failed.
	coolDownMin = 30 * time.Second
	// coolDownMax caps the cool-down of a relay that keeps failing (it
	// doubles at each failure after a cool-down).
	coolDownMax = 5 * time.Minute
)

// relay is one SMTP relay with its cool-down state and counters.
type relay struct {
	s    *Sender
	name string // host:port, the metrics label

	mu       sync.Mutex
	until    time.Time     // skipped until then
	coolDown time.Duration // the last cool-down; 0: healthy

	accepted, failures atomic.Uint64
}

// relaySet sends through the first relay that takes the message.
type relaySet struct {
	relays []*relay
	now    func() time.Time
	log    *slog.Logger // nil: no logging
}

// newRelaySet returns the relays of cfg: primary first, then
// cfg.FallbackRelays in order, each sharing primary's From and DKIM
// signer.
func newRelaySet(cfg config.SMTP, primary *Sender, opts ...SenderOption) (*relaySet, error) {
	rs := &relaySet{now: time.Now, relays: []*relay{{s: primary, name: primary.addr}}}
	for i, fr := range cfg.FallbackRelays {
		c := cfg
		c.Host, c.Port, c.TLS, c.CAFile = fr.Host, fr.Port, fr.TLS, fr.CAFile
		c.Username, c.Password = fr.Username, fr.Password
		if fr.Timeout > 0 {
			c.Timeout = fr.Timeout
		}
		c.DKIM = config.DKIM{}
		c.FallbackRelays = nil
		s, err := NewSender(c, opts...)
		if err != nil {
			return nil, fmt.Errorf("email: fallback relay %d: %w", i+1, err)
		}
		s.dkim = primary.dkim
		rs.relays = append(rs.relays, &relay{s: s, name: s.addr})
	}
	return rs, nil
}

// coolingError is returned when every relay is in its cool-down.
type coolingError struct{ until time.Duration }

func (e *coolingError) Error() string {
	return fmt.Sprintf("email not sent: every SMTP relay failed recently and is skipped for another %s", e.until.Round(time.Second))
}

// send sends m through the first relay that is not cooling down and does
// not fail for now.
func (rs *relaySet) send(ctx context.Context, m *Message) error {
	if len(rs.relays) == 1 {
		// A single relay is always tried: there is nowhere else to go.
		return rs.relays[0].send(ctx, m)
	}
	if m.MessageID == "" {
		// The Message-ID is the idempotency key: the same on every relay.
		var b [16]byte
		_, _ = rand.Read(b[:])
		m.MessageID = "<notifyd." + hex.EncodeToString(b[:]) + ">"
	}
	var lastErr error
	var wait time.Duration
	for i, r := range rs.relays {
		now := rs.now()
		if left := r.left(now); left > 0 {
			if wait == 0 || left < wait {
				wait = left
			}
			continue
		}
		err := r.send(ctx, m)
		if err == nil {
			if back := r.healthy(); back && rs.log != nil {
				rs.log.Info("email: SMTP relay works again; it is used in its turn", "relay", r.name)
			}
			return nil
		}
		if ctx.Err() != nil || !failsOver(err) {
			return err
		}
		d := r.fail(now)
		lastErr = err
		if rs.log != nil {
			next := "none: the delivery is retried later"
			for _, n := range rs.relays[i+1:] {
				if n.left(now) == 0 {
					next = n.name
					break
				}
			}
			rs.log.Warn("email: SMTP relay failing; skipped for a cool-down. Check that the relay is up and reachable and that its credentials (channels.smtp) are right",
				"relay", r.name, "cool_down", d, "next_relay", next, "err", err)
		}
	}
	if lastErr == nil {
		return &coolingError{wait}
	}
	return lastErr
}

// failsOver reports whether err, from one relay, lets the message go to
// the next: the relay is down or refusing for now, and it did not get the
// message's data. A rate refusal for the recipient's domain (see
// rateRefusal) does not: the domain is slowed instead, on every relay.
func failsOver(err error) bool {
	var ms *maybeSentError
	var ie *invalidError
	var sg *signError
	switch {
	case errors.As(err, &ms), errors.As(err, &ie), errors.As(err, &sg), rateRefusal(err):
		return false
	}
	return IsTemporary(err)
}

// send sends m through r alone, counting the outcome.
func (r *relay) send(ctx context.Context, m *Message) error {
	err := r.s.Send(ctx, []*Message{m})[0]
	if err == nil {
		r.accepted.Add(1)
	} else {
		r.failures.Add(1)
	}
	return err
}

// left is how long r stays in its cool-down at now; 0: usable.
func (r *relay) left(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// fail starts r's cool-down at now: coolDownMin, doubled from the last
// one while r keeps failing, up to coolDownMax.
func (r *relay) fail(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := coolDownMin
	if r.coolDown > 0 {
		d = min(2*r.coolDown, coolDownMax)
	}
	r.coolDown, r.until = d, now.Add(d)
	return d
}

// healthy ends r's back-off after a success; it reports whether r had
// been failing.
func (r *relay) healthy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.coolDown > 0
	r.coolDown, r.until = 0, time.Time{}
	return was
}

// cooling reports whether r is in its cool-down now.
func (r *relay) cooling(now time.Time) bool { return r.left(now) > 0 }

// close ends every relay's idle sessions.
func (rs *relaySet) close() error {
	var errs []error
	for _, r := range rs.relays {
		errs = append(errs, r.s.Close())
	}
	return errors.Join(errs...)
}

var (
	relayAcceptedDesc = prometheus.NewDesc("notifyd_email_relay_accepted_total",
		"Email messages accepted by each SMTP relay (host:port).", []string{"relay"}, nil)
	relayFailuresDesc = prometheus.NewDesc("notifyd_email_relay_failures_total",
		"Email sends that failed at each SMTP relay (host:port): down, refusing for now, or refusing the recipient.", []string{"relay"}, nil)
	relayCoolingDesc = prometheus.NewDesc("notifyd_email_relay_cooling_down",
		"1 while an SMTP relay (host:port) is skipped after failures, else 0.", []string{"relay"}, nil)
)

// describe and collect report the per-relay metrics, when there are
// fallback relays.
func (rs *relaySet) describe(ch chan<- *prometheus.Desc) {
	ch <- relayAcceptedDesc
	ch <- relayFailuresDesc
	ch <- relayCoolingDesc
}

func (rs *relaySet) collect(ch chan<- prometheus.Metric) {
	if len(rs.relays) < 2 {
		return
	}
	now := rs.now()
	for _, r := range rs.relays {
		ch <- prometheus.MustNewConstMetric(relayAcceptedDesc, prometheus.CounterValue, float64(r.accepted.Load()), r.name)
		ch <- prometheus.MustNewConstMetric(relayFailuresDesc, prometheus.CounterValue, float64(r.failures.Load()), r.name)
		cooling := 0.0
		if r.cooling(now) {
			cooling = 1
		}
		ch <- prometheus.MustNewConstMetric(relayCoolingDesc, prometheus.GaugeValue, cooling, r.name)
	}
}

// retryAfter is the delay before a retry can reach a relay, for
// delivery.Temporary: the cool-down left when every relay is cooling.
func retryAfter(err error) time.Duration {
	var ce *coolingError
	if errors.As(err, &ce) {
		return ce.until
	}
	return 0
}
