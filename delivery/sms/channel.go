package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// FromConfig builds the SMS channel from channels.twilio; (nil, nil)
// when no account SID is configured (SMS disabled).
func FromConfig(cfg *config.Config, log *slog.Logger) (delivery.Channel, error) {
	tw := cfg.Channels.Twilio
	if tw.AccountSID == "" {
		return nil, nil // SMS is not configured
	}
	callback := CallbackURL(cfg)
	ch, err := NewChannel(tw, callback, WithLogger(log))
	if err != nil {
		return nil, err
	}
	if log != nil {
		log.Info("sms channel ready", "api", config.RedactURL(ch.accounts[0].apiBase()), "from", tw.From, "messaging_service_sid", tw.MessagingServiceSID,
			"status_callback", config.RedactURL(callback), "max_segments", ch.maxSegments, "rate_limit", tw.RateLimit,
			"fallback_accounts", len(ch.accounts)-1, "cool_down", ch.coolDown)
		for _, a := range ch.accounts[1:] {
			log.Info("sms fallback account", "account", a.name, "api", config.RedactURL(a.apiBase()), "from", a.from, "messaging_service_sid", a.service)
		}
		if u, err := url.Parse(callback); err == nil && isLocal(u.Hostname()) {
			log.Warn("Twilio cannot reach notifyd's status callback URL on a loopback or unqualified host: SMS deliveries will stay 'sent' and never become 'delivered'; set http.public_url to the URL Twilio can reach",
				"status_callback", config.RedactURL(callback))
		}
	}
	return ch, nil
}

// CallbackPath is the path of notifyd's endpoint for Twilio's message
// status callbacks.
const CallbackPath = "/v1/callbacks/twilio"

// CallbackURL returns the URL Twilio is asked to report message statuses
// to (the StatusCallback of every message) and that the signatures of
// those callbacks are checked against: http.public_url, or
// "http://" + http.addr when it is empty, then CallbackPath.
func CallbackURL(cfg *config.Config) string {
	base := strings.TrimSuffix(cfg.HTTP.PublicURL, "/")
	if base == "" {
		base = "http://" + cfg.HTTP.Addr
	}
	return base + CallbackPath
}

// Channel is notifyd's SMS delivery channel (registered as "sms"): it
// renders each request as a short text, shortens it to the configured
// number of segments, and sends it through Twilio's Messages API, at most
// RateLimit messages per second, through the first of its accounts
// (channels.twilio, then its fallback_accounts) that is not down.
type Channel struct {
	accounts    []*account // priority order; accounts[0] is channels.twilio's
	coolDown    time.Duration
	maxSegments int
	callbackURL string
	timeout     time.Duration
	transport   http.RoundTripper
	renderer    *Renderer
	limiter     *delivery.Limiter // nil: unlimited
	now         func() time.Time
	log         *slog.Logger
}

// Option adjusts a Channel.
type Option func(*Channel)

// WithTransport makes the channel send its HTTP requests through rt
// (tests use it to watch or fake the exchanges); the default is a
// transport of its own, like http.DefaultTransport, reusing connections.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Channel) { c.transport = rt }
}

// WithClock makes the channel read the time from now (tests use it to
// pass the accounts' cool-down); the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Channel) { c.now = now }
}

// WithLogger makes the channel log to log (what it leaves out of a text,
// at debug level); nil, the default, logs nothing.
func WithLogger(log *slog.Logger) Option {
	return func(c *Channel) { c.log = log }
}

var (
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	shortCode    = regexp.MustCompile(`^[0-9]{3,8}$`)
	alphaSender  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	accountSID   = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSID   = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// NewChannel returns the SMS channel for cfg, asking Twilio to report
// each message's status to callbackURL ("" for no status callbacks; see
// CallbackURL). It checks the configuration's values: an account SID
// (AC + 32 hex digits), an auth token (letters and digits, as twilio-go
// requires), and a sender: From (an E.164 number, a short code or an
// alphanumeric sender ID) and/or a messaging service SID (MG + 32 hex
// digits). Each of cfg.FallbackAccounts is checked alike.
func NewChannel(cfg config.Twilio, callbackURL string, opts ...Option) (*Channel, error) {
	primary, err := newAccount("channels.twilio", config.PrimaryTwilioAccount, cfg.AccountSID, cfg.AuthToken.Reveal(),
		cfg.From, cfg.MessagingServiceSID, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	fallbacks, err := fallbackAccounts(cfg.FallbackAccounts)
	if err != nil {
		return nil, err
	}
	if callbackURL != "" {
		if u, err := url.Parse(callbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("status callback URL %q: must be an absolute http or https URL (check http.public_url)", callbackURL)
		}
	}
	r, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	c := &Channel{
		accounts: append([]*account{primary}, fallbacks...), coolDown: cfg.CoolDown,
		maxSegments: cfg.MaxSegments, callbackURL: callbackURL,
		timeout: cfg.Timeout, renderer: r, now: time.Now,
	}
	if c.coolDown <= 0 {
		c.coolDown = DefaultCoolDown
	}
	if c.maxSegments < 1 {
		c.maxSegments = 3
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	c.limiter = delivery.NewLimiter(cfg.RateLimit, cfg.Burst)
	for _, o := range opts {
		o(c)
	}
	if c.transport == nil {
		c.transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// validSender reports whether from is a sender Twilio accepts for SMS.
func validSender(from string) bool {
	if e164.MatchString(from) || shortCode.MatchString(from) {
		return true
	}
	return alphaSender.MatchString(from) && strings.ContainsFunc(from, func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
	})
}

// Send renders req, shortens it to the configured number of segments and
// sends it (delivery.Channel). Result.ProviderID is the Twilio message SID.
// An address that is not an E.164 number, a text that cannot be rendered
// and a refusal by Twilio (an invalid or unsubscribed number: see
// [APIError.Temporary]) are permanent failures; an unsubscribed recipient
// (error 21610) also wraps delivery.ErrRecipientGone. Too many requests,
// server errors and network trouble are wrapped with delivery.Temporary,
// with the delay of the reply's Retry-After header if it had one.
//
// Twilio's Messages API takes no idempotency key: a message whose reply
// was lost (a timeout after Twilio accepted it) is sent again by the
// retry.
//
// With fallback accounts, an account that is down (unreachable, or
// answering 5xx, 429 or 401) is skipped for the cool-down and the
// message goes to the next account within the same Send; only such an
// account, which certainly did not take the message, is passed over. A
// refusal of the message (an invalid or unsubscribed number) and an
// unknown outcome (no answer after the request was sent) are returned as
// they are, never tried on another account, which could send the message
// twice. The accounts' own fallback ends with the last one: its error is
// Send's.
//
// With req.PreferencesURL (channels get one when
// preference_page.sms_and_im_link is on), the text ends with the link,
// whole, when it fits in max_segments with the text shortened as
// [Renderer.Render] and [Renderer.RenderDigest] do; else it is left out
// (logged at debug level, without the link, which is a credential).
func (c *Channel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	if !e164.MatchString(req.Address) {
		return delivery.Result{}, fmt.Errorf("SMS recipient %q is not an E.164 phone number (\"+\", the country code and the number, such as +14155550100)", req.Address)
	}
	var text string
	var linked bool
	var err error
	if req.Digest != nil {
		d := message.Collapse(req.Digest.Items)
		if d.Entries == 0 {
			return delivery.Result{Skipped: message.DigestUndone}, nil
		}
		text, linked, err = c.renderer.renderDigest(DigestInput{Digest: d, System: req.System, Principal: req.Principal,
			Locale: req.Locale, TimeZone: req.TimeZone, MaxSegments: c.maxSegments, PreferencesURL: req.PreferencesURL})
	} else {
		text, linked, err = c.renderer.render(RenderInput{
			Notification:   req.Notification,
			System:         req.System,
			Principal:      req.Principal,
			Locale:         req.Locale,
			TimeZone:       req.TimeZone,
			CalendarName:   req.CalendarName,
			MaxSegments:    c.maxSegments,
			PreferencesURL: req.PreferencesURL,
		})
	}
	if err != nil {
		return delivery.Result{}, err
	}
	if req.PreferencesURL != "" && !linked {
		reason := "the text needs all of max_segments"
		if message.LinkURL(req.PreferencesURL) == "" {
			reason = "not an absolute http(s) URL a text may show"
		}
		c.log.Debug("sms: the preference link is left out of the text", "delivery_id", req.DeliveryID, "reason", reason, "max_segments", c.maxSegments)
	}
	text = Shorten(text, c.maxSegments)
	if err := c.limiter.Wait(ctx, "SMS to "+req.Address); err != nil {
		return delivery.Result{}, err
	}
	msg, err := c.sendText(ctx, req.Address, text)
	if err != nil {
		return delivery.Result{}, err
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return delivery.Result{}, fmt.Errorf("Twilio accepted the SMS to %s but gave no message SID; it is not sent again, so as not to send it twice", req.Address)
	}
	if msg.Status != nil && (*msg.Status == "failed" || *msg.Status == "undelivered") {
		reason := fmt.Sprintf("Twilio took the SMS to %s (message %s) but reports it %s", req.Address, *msg.Sid, *msg.Status)
		if msg.ErrorCode != nil && *msg.ErrorCode != 0 {
			reason += fmt.Sprintf(": error %d", *msg.ErrorCode)
		}
		if msg.ErrorMessage != nil && *msg.ErrorMessage != "" {
			reason += " " + *msg.ErrorMessage
		}
		return delivery.Result{ProviderID: *msg.Sid}, errors.New(reason)
	}
	return delivery.Result{ProviderID: *msg.Sid}, nil
}

// sendText sends text to the number to through the first account that
// takes it, passing over the accounts that are down (see Send).
func (c *Channel) sendText(ctx context.Context, to, text string) (*openapi.ApiV2010Message, error) {
	order := c.order(c.now())
	for i, a := range order {
		params := &openapi.CreateMessageParams{}
		params.SetTo(to)
		params.SetBody(text)
		if a.from != "" {
			params.SetFrom(a.from)
		}
		if a.service != "" {
			params.SetMessagingServiceSid(a.service)
		}
		if c.callbackURL != "" {
			params.SetStatusCallback(c.callbackURL)
		}
		msg, x, err := c.create(ctx, a, params)
		if err == nil {
			a.accepted.Add(1)
			c.markUp(a)
			return msg, nil
		}
		a.failed.Add(1)
		sendErr := classify(err, x, to)
		if len(c.accounts) > 1 {
			sendErr = fmt.Errorf("Twilio account %s: %w", a.name, sendErr)
		}
		if judge(ctx, err, x) != down {
			return nil, sendErr
		}
		var next *account
		if i+1 < len(order) {
			next = order[i+1]
		}
		c.markDown(a, sendErr, next)
		if next == nil {
			return nil, sendErr
		}
		a.failovers.Add(1)
	}
	panic("unreachable: order returns at least one account")
}

// create sends one CreateMessage request through the account a, bounded
// by the configured timeout and ctx, and returns the exchange that saw
// the reply. The timeout is the context's deadline alone (no
// http.Client.Timeout beside it: two timers of one length race, and the
// loser's error reads as a cancellation rather than a timeout).
func (c *Channel) create(ctx context.Context, a *account, params *openapi.CreateMessageParams) (*openapi.ApiV2010Message, *exchange, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	x := &exchange{ctx: ctx, base: c.transport, to: a.baseURL, now: c.now}
	cl := &client.Client{
		Credentials: client.NewCredentials(a.sid, a.token),
		HTTPClient: &http.Client{Transport: x,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	cl.SetAccountSid(a.sid)
	msg, err := openapi.NewApiServiceWithClient(cl).CreateMessage(params)
	return msg, x, err
}

// isLocal reports whether host is one Twilio cannot reach: loopback,
// unspecified, "localhost" or a name without a dot.
func isLocal(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
	}
	return host == "" || strings.EqualFold(host, "localhost") || !strings.Contains(host, ".")
}
