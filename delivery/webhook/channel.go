package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// FromConfig builds the webhook channel from channels.webhook; it is
// always enabled, the URLs come from subscriptions.
func FromConfig(cfg *config.Config, log *slog.Logger) (delivery.Channel, error) {
	wh := cfg.Channels.Webhook
	ch := New(wh)
	if log != nil {
		log.Info("webhook channel ready", "timeout", ch.timeout, "allow_private", wh.AllowPrivate,
			"rate_limit", wh.RateLimit)
	}
	return ch, nil // always available: the URLs come from subscriptions
}

// defaultTimeout bounds a request when the configuration gives no timeout.
const defaultTimeout = 10 * time.Second

// Channel is notifyd's webhook delivery channel (registered as
// "webhook"): it POSTs each request's Payload, signed with the method's
// Standard Webhooks secret, to the method's URL, at most cfg.RateLimit
// requests per second. See the package documentation for the request, the
// outcomes and the destinations allowed.
type Channel struct {
	client    *http.Client
	transport *http.Transport
	limiter   *delivery.Limiter // nil: unlimited
	timeout   time.Duration
	private   bool
	userAgent string
	now       func() time.Time
}

// Option adjusts a Channel made by New.
type Option func(*Channel)

// WithRootCAs makes the channel trust the receivers' certificates signed
// by roots instead of the system's (receivers with an internal CA, tests).
func WithRootCAs(roots *x509.CertPool) Option {
	return func(c *Channel) { c.transport.TLSClientConfig.RootCAs = roots }
}

// New returns the webhook channel for cfg (a zero Timeout means 10s).
func New(cfg config.Webhook, opts ...Option) *Channel {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = checkDial
	}
	tr := &http.Transport{
		Proxy:                  nil, // the destination check must see the receiver, not a proxy
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	c := &Channel{
		transport: tr,
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3xx is reported, not followed
			},
		},
		timeout:   timeout,
		private:   cfg.AllowPrivate,
		userAgent: defaultUserAgent(),
		now:       time.Now,
	}
	c.limiter = delivery.NewLimiter(cfg.RateLimit, cfg.Burst)
	for _, o := range opts {
		o(c)
	}
	return c
}

func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "notifyd/" + v + " (webhook; +https://github.com/notifyd/notifyd)"
}

// Send POSTs req's Payload to req.Address, signed with req.Method.Secret
// and, until req.Method.PreviousSecretExpires, req.Method.PreviousSecret
// too (delivery.Channel). A 2xx answer is success; 408, 429, 5xx, timeouts and
// connection errors are wrapped with delivery.Temporary (with the
// receiver's Retry-After); an address that is not allowed, a missing
// secret, a 3xx and any other answer are permanent failures.
func (c *Channel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	target, err := checkURL(req.Address, c.private)
	if err != nil {
		return delivery.Result{}, err
	}
	key, err := DecodeSecret(req.Method.Secret)
	if err != nil {
		return delivery.Result{}, err
	}
	if !validMessageID(req.DeliveryID) {
		return delivery.Result{}, fmt.Errorf("webhook: delivery ID %q cannot be a webhook-id", req.DeliveryID)
	}
	shown := display(target)
	if err := c.limiter.Wait(ctx, "webhook to "+shown); err != nil {
		return delivery.Result{}, err
	}
	now := c.now()
	var body []byte
	if req.Digest != nil {
		var undone bool
		if body, undone, err = RenderDigest(req, now); undone {
			return delivery.Result{Skipped: message.DigestUndone}, nil
		}
	} else {
		body, err = Render(req, now)
	}
	if err != nil {
		return delivery.Result{}, err
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return delivery.Result{}, fmt.Errorf("webhook to %s: %w", shown, err)
	}
	h := hreq.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", c.userAgent)
	h.Set(HeaderID, req.DeliveryID)
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	sig := sign(key, req.DeliveryID, now.Unix(), body)
	if prev := previousKey(req.Method, now); prev != nil {
		sig += " " + sign(prev, req.DeliveryID, now.Unix(), body)
	}
	h.Set(HeaderSignature, sig)

	resp, err := c.client.Do(hreq)
	if err != nil {
		return delivery.Result{}, c.transportError(ctx, shown, err)
	}
	defer resp.Body.Close()
	if err := outcome(resp, shown, c.now()); err != nil {
		return delivery.Result{}, err
	}
	return delivery.Result{}, nil
}

// previousKey is the key of the method's previous secret while requests
// are still signed with it too (after a rotation, see
// subscriptions.SecretRotationGrace), else nil.
func previousKey(m notifyd.DeliveryMethod, now time.Time) []byte {
	if m.PreviousSecret == "" || !now.Before(m.PreviousSecretExpires) {
		return nil
	}
	key, err := DecodeSecret(m.PreviousSecret)
	if err != nil {
		return nil // checked when it was set; the current signature is there anyway
	}
	return key
}

// transportError words a failure to get an answer: a refused destination
// is permanent, anything else (timeouts, connection errors, TLS) is
// temporary.
func (c *Channel) transportError(ctx context.Context, target string, err error) error {
	var dest *DestinationError
	if errors.As(err, &dest) {
		return fmt.Errorf("webhook to %s: %w", target, dest)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return delivery.Temporary(fmt.Errorf("webhook to %s: no answer within %s", target, c.timeout), 0)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // drop "Post <the full URL, query included>:"
	}
	return delivery.Temporary(fmt.Errorf("webhook to %s: %w", target, err), 0)
}

// Close closes the idle connections kept for the next requests.
func (c *Channel) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}
