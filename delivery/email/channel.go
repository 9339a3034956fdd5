package email

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// FromConfig builds the email channel from channels.smtp; (nil, nil)
// when no SMTP host is configured (email disabled).
func FromConfig(cfg *config.Config, log *slog.Logger) (delivery.Channel, error) {
	smtp := cfg.Channels.SMTP
	if smtp.Host == "" {
		return nil, nil // email is not configured
	}
	ch, err := NewChannel(smtp, smtp.TemplatesDir)
	if err != nil {
		return nil, err
	}
	if log != nil {
		log.Info("email channel ready", "addr", ch.sender.addr, "tls", smtp.TLS,
			"from", smtp.From, "auth", smtp.Username != "", "rate_limit", smtp.RateLimit, "templates_dir", smtp.TemplatesDir)
		if d := ch.sender.dkim; d != nil {
			// The record is the public key: what to publish in DNS.
			log.Info("email: DKIM signing on", "domain", d.opts.Domain, "selector", d.opts.Selector,
				"algorithm", d.algorithm, "dns_name", d.dnsName, "dns_record", d.record)
		}
		for _, r := range ch.relays.relays[1:] {
			log.Info("email: fallback SMTP relay", "addr", r.name)
		}
		ch.log = log
		ch.relays.log = log
	}
	return ch, nil
}

// Channel is notifyd's email delivery channel (registered as "email"): it
// renders each request with a Renderer and sends it with a Sender, at most
// cfg.RateLimit messages per second.
type Channel struct {
	renderer *Renderer
	sender   *Sender
	limiter  *delivery.Limiter // nil: unlimited
	log      *slog.Logger      // nil: no logging
	verp     *bounce.VERP      // nil: bounces go to the From address
	// relays are sender then the fallback relays, tried in order.
	relays *relaySet
	// pace paces each provider group and recipient domain.
	pace *pacer
}

// NewChannel returns the email channel for cfg, with the built-in
// templates overridden by those in templatesDir ("" for none; see
// NewRenderer).
func NewChannel(cfg config.SMTP, templatesDir string, opts ...SenderOption) (*Channel, error) {
	r, err := NewRenderer(templatesDir)
	if err != nil {
		return nil, err
	}
	s, err := NewSender(cfg, opts...)
	if err != nil {
		return nil, err
	}
	rs, err := newRelaySet(cfg, s, opts...)
	if err != nil {
		return nil, err
	}
	c := &Channel{renderer: r, sender: s, relays: rs, pace: newPacer(cfg.PerDomain)}
	c.limiter = delivery.NewLimiter(cfg.RateLimit, cfg.Burst)
	return c, nil
}

// Send renders req and sends it (delivery.Channel). A message that cannot
// be rendered and a 5xx reply are permanent failures; 4xx replies and
// connection trouble are wrapped with delivery.Temporary.
func (c *Channel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	if req.Digest != nil {
		return c.sendDigest(ctx, req)
	}
	m, err := c.renderer.Render(RenderInput{
		Notification:   req.Notification,
		System:         req.System,
		Principal:      req.Principal,
		Recipient:      req.Address,
		Locale:         req.Locale,
		TimeZone:       req.TimeZone,
		CalendarName:   req.CalendarName,
		UnsubscribeURL: req.UnsubscribeURL,
		PreferencesURL: req.PreferencesURL,
		DeliveryID:     req.DeliveryID,
	})
	if err != nil {
		return delivery.Result{}, err
	}
	return c.send(ctx, req, m)
}

// sendDigest renders req's digest as one email and sends it; a digest
// whose notifications all cancelled out is skipped.
func (c *Channel) sendDigest(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	d := message.Collapse(req.Digest.Items)
	if d.Entries == 0 {
		return delivery.Result{Skipped: message.DigestUndone}, nil
	}
	m, err := c.renderer.RenderDigest(DigestInput{
		Digest: d, Since: req.Digest.Since, Until: req.Digest.Until,
		System: req.System, Principal: req.Principal, Recipient: req.Address,
		Locale: req.Locale, TimeZone: req.TimeZone,
		UnsubscribeURL: req.UnsubscribeURL, PreferencesURL: req.PreferencesURL,
		DeliveryID: req.DeliveryID,
	})
	if err != nil {
		return delivery.Result{}, err
	}
	return c.send(ctx, req, m)
}

// send sends m, rendered for req, once its domain's pace and the rate
// limit allow (a send whose turn is more than a second off is put back,
// to be retried at its turn). A rate refusal for the domain slows it and
// the delivery is retried after the domain's back-off.
func (c *Channel) send(ctx context.Context, req *delivery.Request, m *Message) (delivery.Result, error) {
	domain := domainOf(req.Address)
	turn, err := c.pace.acquire(ctx, domain, "email to "+req.Address)
	if err != nil {
		return delivery.Result{}, err
	}
	defer turn.release()
	if err := c.limiter.Wait(ctx, "email to "+req.Address); err != nil {
		return delivery.Result{}, err
	}
	if c.verp != nil && req.DeliveryID != "" {
		// A delivery ID that does not fit keeps the From address.
		m.ReturnPath, _ = c.verp.Address(req.DeliveryID)
	}
	err = c.relays.send(ctx, m)
	if rateRefusal(err) {
		s := c.pace.slow(domain, turn.at, time.Now())
		c.logSlowDown(s, domain, req.DeliveryID, err)
		return delivery.Result{}, delivery.Temporary(err, s.retry)
	}
	var se *signError
	if c.log != nil && errors.As(err, &se) {
		c.log.Error("email: DKIM signing failed; the delivery is retried", "delivery", req.DeliveryID, "err", err)
	}
	if IsTemporary(err) {
		return delivery.Result{}, delivery.Temporary(err, retryAfter(err))
	}
	return delivery.Result{ProviderID: m.MessageID}, err
}

// logSlowDown logs a rate refusal and what it did to the domain's pace.
func (c *Channel) logSlowDown(s slowDown, domain, deliveryID string, err error) {
	if c.log == nil {
		return
	}
	if s.again {
		c.log.Info("email: recipient domain refuses for its rate a message sent before it was slowed; it stays slowed",
			"group", s.group, "domain", domain, "rate", s.rate, "back_off", s.backOff, "delivery", deliveryID, "err", err)
		return
	}
	c.log.Warn("email: recipient domain refuses mail for its rate; its mail is slowed for a while and the refused delivery retried after it. "+
		"Nothing to do if this is rare; if it recurs, lower the group's rate, burst or concurrency in channels.smtp.per_domain.providers "+
		"(channels.smtp.per_domain for a domain in no group), or raise them if it never happens and mail to the group waits",
		"group", s.group, "domain", domain, "rate", s.rate, "back_off", s.backOff, "delivery", deliveryID, "err", err)
}

var (
	dkimSignedDesc = prometheus.NewDesc("notifyd_email_dkim_signed_total",
		"Email messages DKIM-signed by notifyd, by signing domain.", []string{"domain"}, nil)
	dkimErrorsDesc = prometheus.NewDesc("notifyd_email_dkim_errors_total",
		"Email messages notifyd failed to DKIM-sign (not sent, retried), by signing domain.", []string{"domain"}, nil)
)

// Describe describes the channel's metrics (prometheus.Collector).
func (c *Channel) Describe(ch chan<- *prometheus.Desc) {
	ch <- dkimSignedDesc
	ch <- dkimErrorsDesc
	c.relays.describe(ch)
	c.pace.describe(ch)
}

// Collect reports the pacing and relay metrics, and the DKIM counters
// when signing is on (prometheus.Collector).
func (c *Channel) Collect(ch chan<- prometheus.Metric) {
	c.relays.collect(ch)
	c.pace.collect(ch)
	d := c.sender.dkim
	if d == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(dkimSignedDesc, prometheus.CounterValue, float64(d.signed.Load()), d.opts.Domain)
	ch <- prometheus.MustNewConstMetric(dkimErrorsDesc, prometheus.CounterValue, float64(d.failed.Load()), d.opts.Domain)
}

// Close ends the SMTP sessions kept for reuse.
func (c *Channel) Close() error { return c.relays.close() }

// UseVERP makes every message's envelope sender (where bounce reports
// go) the delivery's own bounce address from v, so that a bounce names
// its delivery; nil keeps the From address. A delivery whose ID cannot
// go in a bounce address is sent from the From address. Call it before
// the first Send.
func (c *Channel) UseVERP(v *bounce.VERP) { c.verp = v }
