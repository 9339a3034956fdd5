package im

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// FromConfig builds the IM channel from channels.xmpp; (nil, nil) when
// no JID is configured (XMPP disabled).
func FromConfig(cfg *config.Config, log *slog.Logger) (delivery.Channel, error) {
	x := cfg.Channels.XMPP
	if x.JID == "" {
		return nil, nil // XMPP is not configured
	}
	var opts []Option
	if x.CAFile != "" {
		roots, err := delivery.RootCAs(nil, x.CAFile)
		if err != nil {
			return nil, fmt.Errorf("channels.xmpp.ca_file: %w", err)
		}
		opts = append(opts, WithRootCAs(roots))
	}
	ch, err := NewChannel(x, log, opts...)
	if err != nil {
		return nil, err
	}
	ch.log.Info("im channel ready (connecting in the background)", "jid", ch.bare, "server", ch.serverName(),
		"tls", x.TLS, "rate_limit", x.RateLimit)
	return ch, nil
}

// Timings; tests shorten them.
const (
	// defaultWatchEvery is how often the addresses to watch are listed.
	defaultWatchEvery = time.Minute
	// defaultSettle is how long contacts' presence may take to arrive
	// after login (the server probes them) or after they approved the
	// subscription; a recipient still unheard of then is offline.
	defaultSettle = 3 * time.Second
	// defaultApprovalWait is how long a Send waits for a subscription
	// request it just made to be approved (a client that approves on its
	// own does so in milliseconds; a person takes longer, and the message
	// is then handled as to an offline recipient).
	defaultApprovalWait = 5 * time.Second
	// defaultAckTimeout bounds the wait for the server's confirmation of
	// a message, and for the answer to a keepalive ping.
	defaultAckTimeout = 10 * time.Second
	// defaultKeepalive is the silence after which the server is pinged.
	defaultKeepalive = 30 * time.Second
	// defaultConnectWait is how long a Send made while the first
	// connection is being made waits for it.
	defaultConnectWait = 5 * time.Second
	// Reconnection backoff: doubled after each failure, with jitter.
	defaultBackoffMin = time.Second
	defaultBackoffMax = time.Minute
	// stableAfter is how long a session must have lasted for the next
	// reconnection to start again from the shortest backoff.
	stableAfter = 30 * time.Second
	// reaskAfter is how long after a contact refused (or revoked) the
	// presence subscription notifyd asks again.
	reaskAfter = 24 * time.Hour
	// listTimeout bounds one call of the address list function.
	listTimeout = 30 * time.Second
	// closeTimeout bounds Close.
	closeTimeout = 5 * time.Second
)

// Channel is notifyd's instant-message channel over XMPP (registered as
// "im"). It keeps one connection to the XMPP server for the configured
// account, reconnecting with backoff, keeps a presence subscription to
// every address it is told to watch (and to every address it is asked to
// send to), tracks who is online, and sends each request as a chat
// message according to the delivery method's presence policy; see the
// package documentation.
type Channel struct {
	// The parts: the connection loop (reconnect.go) runs one session
	// (session.go) at a time and publishes it in link; the session's
	// reader hands stanzas to handle (inbound.go), which updates the
	// roster (roster.go, over the subscription state machine of
	// subscription.go, shared through book); Send (send.go) reads the
	// roster and writes through the current session; the watch loop
	// (watch.go) keeps the list of addresses to watch. Each part has
	// its own lock; only the signal's is taken while holding another.

	cfg      config.XMPP
	bare     string // the account's bare JID
	bareKey  string
	domain   string
	resource string // base of the resource bound (a random suffix is added)
	server   string // host:port, or "" for DNS SRV then domain:5222
	log      *slog.Logger
	renderer *Renderer
	limiter  *delivery.Limiter // nil: unlimited
	roots    *tlsRoots
	dial     dialFunc

	// Timings, fixed once started.
	watchEvery, settle, approvalWait, ackTimeout, keepalive time.Duration
	connectWait, backoffMin, backoffMax                     time.Duration

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the connection and watch loops
	startOnce sync.Once
	closeOnce sync.Once

	changed  signal        // notified on every change of link or book
	link     link          // the current session
	book     *book         // the roster; made by start
	sessions atomic.Uint64 // the last session's id
	lists    lister        // the addresses to watch
}

// Option adjusts a Channel made by NewChannel.
type Option func(*Channel)

// WithRootCAs makes the channel trust the certificate authorities of pool
// (instead of the system's) for the XMPP server's certificate: for a
// server with a private CA, or a test server's self-signed certificate.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *Channel) { c.roots = &tlsRoots{cfg: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}} }
}

// NewChannel returns the IM channel for cfg and starts connecting in the
// background (a server that cannot be reached is retried with backoff;
// Send fails with a temporary error meanwhile). log may be nil.
func NewChannel(cfg config.XMPP, log *slog.Logger, opts ...Option) (*Channel, error) {
	c, err := newChannel(cfg, log)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(c)
	}
	c.dial = goxmppDialer(cfg, c.bare, c.resource, c.server, c.roots)
	c.start()
	return c, nil
}

// newChannel builds a channel without starting it (tests set dial and
// timings first).
func newChannel(cfg config.XMPP, log *slog.Logger) (*Channel, error) {
	bare, resource, err := parseJID(cfg.JID)
	if err != nil {
		return nil, fmt.Errorf("channels.xmpp.jid: %w", err)
	}
	if resource == "" {
		resource = "notifyd"
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = config.TLSStartTLS
	case config.TLSStartTLS, config.TLSImplicit, config.TLSNone:
	default:
		return nil, fmt.Errorf("channels.xmpp.tls: %q is not starttls, tls or none", cfg.TLS)
	}
	r, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Channel{
		cfg: cfg, bare: bare, bareKey: bareKey(bare), domain: domainOf(bare), resource: resource,
		server: cfg.Server, log: log, renderer: r,
		watchEvery: defaultWatchEvery, settle: defaultSettle, approvalWait: defaultApprovalWait,
		ackTimeout: defaultAckTimeout, keepalive: defaultKeepalive, connectWait: defaultConnectWait,
		backoffMin: defaultBackoffMin, backoffMax: defaultBackoffMax,
	}
	c.link.changed = &c.changed
	if c.server == "" && cfg.TLS == config.TLSImplicit {
		c.server = net.JoinHostPort(c.domain, "5223")
	}
	c.limiter = delivery.NewLimiter(cfg.RateLimit, cfg.Burst)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// serverName is where the channel connects, for logs.
func (c *Channel) serverName() string {
	if c.server != "" {
		return c.server
	}
	return c.domain + " (DNS SRV, else port 5222)"
}

// start runs the connection loop.
func (c *Channel) start() {
	c.startOnce.Do(func() {
		c.book = newBook(newRoster(c.bareKey, c.settle, c.log), &c.changed)
		c.wg.Add(1)
		go c.run()
	})
}

// Close ends the connection (the engine calls it on stop): it says
// goodbye to the server and waits a few seconds at most.
func (c *Channel) Close() error {
	c.closeOnce.Do(func() {
		c.lists.closing(c.cancel) // WatchAddresses starts no loop after this
		done := make(chan struct{})
		go func() { c.wg.Wait(); close(done) }()
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			c.log.Warn("im: the XMPP connection did not close in time; leaving it")
		}
	})
	return nil
}

// connected reports whether a session is up with its roster loaded.
func (c *Channel) connected() bool {
	s, _ := c.link.state()
	return s != nil && c.book.loaded(s.id)
}
