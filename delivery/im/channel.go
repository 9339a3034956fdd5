package im

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	xmpp "github.com/xmppo/go-xmpp"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

func init() {
	delivery.Register(notifyd.ChannelIM, func(cfg *config.Config, log *slog.Logger) (delivery.Channel, error) {
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
	})
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

	watchEvery, settle, approvalWait, ackTimeout, keepalive time.Duration
	connectWait, backoffMin, backoffMax                     time.Duration

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once

	mu       sync.Mutex
	sess     *session // nil while not connected
	lastErr  error    // why the last connection attempt or session failed
	lastRecv time.Time
	contacts map[string]*contact // by bareKey
	watched  map[string]string   // bareKey → bare JID as listed
	list     func(ctx context.Context) ([]string, error)
	changed  chan struct{} // closed and replaced on every change of state
	pending  map[string]*pendingSend
	seq      uint64
}

// contact is what the channel knows of one address.
type contact struct {
	addr string // bare JID as first seen
	// sub is the roster subscription: "" (not on the roster), none, to,
	// from or both; ask is true while a request of ours is pending.
	sub string
	ask bool
	// resources are the contact's available resources.
	resources map[string]bool
	// heard: a presence arrived from the contact in this session while
	// its presence was visible, or before the roster came (the server's
	// answers to its probes at login); an unavailable one tells it is
	// offline. (The unavailable presence a server sends to acknowledge a
	// subscription request tells nothing.)
	heard bool
	// waitUntil is until when the presence of a visible contact not
	// heard of is worth waiting for (after login, or after the contact
	// approved the subscription).
	waitUntil time.Time
	// requestedAt is when this process last asked for the contact's
	// subscription; a Send waits for the approval until approvalWait
	// after it.
	requestedAt time.Time
	declinedAt  time.Time // when the contact last refused or revoked it
}

// visible reports whether the contact's presence reaches notifyd.
func (ct *contact) visible() bool { return ct.sub == "to" || ct.sub == "both" }

// session is one logged-in connection.
type session struct {
	conn         xmppConn
	started      time.Time
	rosterID     string
	rosterLoaded bool // guarded by Channel.mu
	out          chan string
	dead         chan struct{}
	readerDone   chan struct{}
	killOnce     sync.Once
	err          error // why it ended; set before dead is closed
}

// pendingSend is a message waiting for the server's confirmation (the
// answer to the ping written after it).
type pendingSend struct {
	key  string
	seq  uint64
	done chan error // buffered; the first result wins
}

func (p *pendingSend) resolve(err error) {
	select {
	case p.done <- err:
	default:
	}
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
		contacts: map[string]*contact{}, watched: map[string]string{},
		changed: make(chan struct{}), pending: map[string]*pendingSend{},
	}
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
		c.wg.Add(1)
		go c.run()
	})
}

// Close ends the connection (the engine calls it on stop): it says
// goodbye to the server and waits a few seconds at most.
func (c *Channel) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.cancel() // under mu: WatchAddresses starts no goroutine after this
		c.mu.Unlock()
		done := make(chan struct{})
		go func() { c.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(closeTimeout):
			c.log.Warn("im: the XMPP connection did not close in time; leaving it")
		}
	})
	return nil
}

// notifyLocked wakes everyone waiting for a change of state.
func (c *Channel) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// contactLocked returns the contact for key, made if new.
func (c *Channel) contactLocked(key, addr string) *contact {
	ct := c.contacts[key]
	if ct == nil {
		ct = &contact{addr: addr}
		c.contacts[key] = ct
	}
	return ct
}

// run connects, serves the session until it ends, and reconnects with
// backoff, until Close.
func (c *Channel) run() {
	defer c.wg.Done()
	backoff := c.backoffMin
	for c.ctx.Err() == nil {
		conn, err := c.dial(c.ctx)
		if err == nil {
			started := time.Now()
			err = c.serve(conn)
			if time.Since(started) >= stableAfter {
				backoff = c.backoffMin
			}
		} else {
			c.mu.Lock()
			c.lastErr = err
			c.notifyLocked()
			c.mu.Unlock()
		}
		if c.ctx.Err() != nil {
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		c.log.Warn("im: no connection to the XMPP server; retrying", "server", c.serverName(), "err", err, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, c.backoffMax)
	}
}

// serve runs one session until it ends, and returns why.
func (c *Channel) serve(conn xmppConn) error {
	s := &session{
		conn: conn, started: time.Now(), out: make(chan string, 256),
		dead: make(chan struct{}), readerDone: make(chan struct{}),
	}
	c.mu.Lock()
	c.seq++
	s.rosterID = "roster-" + strconv.FormatUint(c.seq, 10)
	c.sess, c.lastErr, c.lastRecv = s, nil, s.started
	for _, ct := range c.contacts {
		ct.resources, ct.heard, ct.waitUntil = nil, false, s.started.Add(c.settle)
	}
	c.notifyLocked()
	c.mu.Unlock()
	c.log.Info("im: connected to the XMPP server", "jid", c.bare, "server", c.serverName())

	go s.writer()
	go c.reader(s)
	s.enqueue(c.ctx, rosterGet(s.rosterID))

	tick := time.NewTicker(max(c.keepalive/4, 10*time.Millisecond))
	defer tick.Stop()
	var lastPing time.Time
loop:
	for {
		select {
		case <-s.dead:
			break loop
		case <-c.ctx.Done():
			// Say goodbye: the server ends the stream, the reader sees
			// it and closes the connection.
			bye, cancel := context.WithTimeout(context.Background(), time.Second)
			s.enqueue(bye, presenceStanza("", "unavailable"))
			s.enqueue(bye, "</stream:stream>")
			cancel()
			select {
			case <-s.readerDone:
			case <-time.After(2 * time.Second):
			}
			s.kill(errors.New("channel closed"))
			break loop
		case now := <-tick.C:
			c.mu.Lock()
			idle := now.Sub(c.lastRecv)
			c.mu.Unlock()
			switch {
			case idle > c.keepalive+c.ackTimeout:
				s.kill(fmt.Errorf("no answer from the XMPP server for %s", idle.Round(time.Second)))
			case idle > c.keepalive && now.Sub(lastPing) > c.keepalive:
				lastPing = now
				s.enqueue(c.ctx, pingStanza("keepalive-"+strconv.FormatInt(now.UnixNano(), 36), c.domain))
			}
		}
	}

	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.lastErr = s.err
	for _, p := range c.pending {
		p.resolve(delivery.Temporary(fmt.Errorf("im: connection lost before the server confirmed the message: %w", s.err), 0))
	}
	for _, ct := range c.contacts {
		ct.resources, ct.heard = nil, false
	}
	c.notifyLocked()
	c.mu.Unlock()
	return s.err
}

// kill ends the session (once) for err.
func (s *session) kill(err error) {
	s.killOnce.Do(func() {
		s.err = err
		close(s.dead)
	})
}

// writer writes the queued stanzas in order until the session ends.
func (s *session) writer() {
	for {
		select {
		case st := <-s.out:
			if _, err := s.conn.SendOrg(st); err != nil {
				s.kill(fmt.Errorf("writing to the XMPP server: %w", err))
				return
			}
		case <-s.dead:
			return
		}
	}
}

// enqueue queues a stanza for the writer.
func (s *session) enqueue(ctx context.Context, st string) error {
	select {
	case s.out <- st:
		return nil
	case <-s.dead:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueueAll queues stanzas made while holding the lock (best effort: a
// session that ends drops them, and the next one starts afresh).
func (c *Channel) enqueueAll(s *session, out []string) {
	for _, st := range out {
		if s.enqueue(c.ctx, st) != nil {
			return
		}
	}
}

// reader receives stanzas until the connection fails, then closes it.
func (c *Channel) reader(s *session) {
	defer close(s.readerDone)
	for {
		st, err := s.conn.Recv()
		if err != nil {
			s.kill(fmt.Errorf("reading from the XMPP server: %w", err))
			s.conn.Close()
			return
		}
		c.handle(s, st)
	}
}

// handle updates the state from one stanza and answers it if needed.
func (c *Channel) handle(s *session, st any) {
	var out []string
	c.mu.Lock()
	if c.sess != s {
		c.mu.Unlock()
		return
	}
	c.lastRecv = time.Now()
	switch v := st.(type) {
	case xmpp.Presence:
		out = c.onPresenceLocked(s, v)
	case xmpp.IQ:
		out = c.onIQLocked(s, v)
	case xmpp.Chat:
		c.onChatLocked(v)
	}
	c.mu.Unlock()
	c.enqueueAll(s, out)
}

func (c *Channel) onPresenceLocked(s *session, p xmpp.Presence) []string {
	bare, res, _ := strings.Cut(p.From, "/")
	key := bareKey(bare)
	if key == "" || key == c.bareKey || !strings.Contains(key, "@") {
		return nil
	}
	ct := c.contactLocked(key, bare)
	now := time.Now()
	var out []string
	switch p.Type {
	case "", "available":
		if ct.resources == nil {
			ct.resources = map[string]bool{}
		}
		ct.resources[res] = true
		ct.heard = ct.heard || ct.visible() || !s.rosterLoaded
	case "unavailable":
		if res == "" {
			ct.resources = nil
		} else {
			delete(ct.resources, res)
		}
		ct.heard = ct.heard || ct.visible() || !s.rosterLoaded
	case "subscribe":
		// Approve, so that the subscription is mutual; ask for theirs
		// in return if they are a recipient.
		out = append(out, presenceStanza(bare, "subscribed"))
		if _, watched := c.watched[key]; watched && !ct.visible() && !ct.ask {
			out = append(out, presenceStanza(bare, "subscribe"))
			ct.ask, ct.requestedAt = true, now
		}
		c.log.Debug("im: presence subscription request approved", "from", bare)
	case "subscribed":
		if !ct.visible() {
			ct.heard, ct.waitUntil = false, now.Add(c.settle)
		}
		if ct.sub == "from" || ct.sub == "both" {
			ct.sub = "both"
		} else {
			ct.sub = "to"
		}
		ct.ask = false
		c.log.Debug("im: presence subscription approved", "by", bare)
	case "unsubscribed":
		if ct.sub == "from" || ct.sub == "both" {
			ct.sub = "from"
		} else {
			ct.sub = "none"
		}
		ct.ask, ct.resources, ct.heard, ct.declinedAt = false, nil, false, now
		c.log.Info("im: presence subscription refused or revoked; messages to this address count as to an offline recipient", "address", bare)
	default:
		return nil
	}
	c.notifyLocked()
	return out
}

func (c *Channel) onIQLocked(s *session, iq xmpp.IQ) []string {
	switch iq.Type {
	case "result", "error":
		if iq.ID == s.rosterID {
			if iq.Type == "error" {
				c.log.Warn("im: the XMPP server refused to send the roster")
			} else if items, ok, err := parseRoster(iq.Query); err != nil || !ok {
				c.log.Warn("im: unreadable roster", "err", err)
			} else {
				c.loadRosterLocked(items, s)
			}
			s.rosterLoaded = true
			c.notifyLocked()
			return c.reconcileLocked(s)
		}
		if p := c.pending[iq.ID]; p != nil {
			p.resolve(nil) // the server has handled the message before
		}
	case "set":
		if items, ok, _ := parseRoster(iq.Query); ok && (iq.From == "" || bareKey(iq.From) == c.bareKey) {
			c.loadRosterLocked(items, nil)
			c.notifyLocked()
			return []string{iqResult(iq.ID, iq.From)}
		}
		return []string{iqUnsupported(iq.ID, iq.From)}
	case "get":
		return []string{iqUnsupported(iq.ID, iq.From)}
	}
	return nil
}

// loadRosterLocked applies roster items. With login set they are the
// whole roster of that session (contacts not in it have no subscription;
// the presence heard before it stands, and the rest is waited for until
// the session's settling time); otherwise they are a push, and a contact
// whose presence just became visible is waited for.
func (c *Channel) loadRosterLocked(items []rosterItem, login *session) {
	full := login != nil
	now := time.Now()
	seen := map[string]bool{}
	for _, it := range items {
		key := bareKey(it.JID)
		if key == "" {
			continue
		}
		seen[key] = true
		ct := c.contactLocked(key, it.JID)
		was := ct.visible()
		if it.Subscription == "remove" {
			ct.sub, ct.ask, ct.resources, ct.heard = "", false, nil, false
			continue
		}
		ct.sub, ct.ask = it.Subscription, it.Ask
		switch {
		case full && ct.visible() && !ct.heard:
			ct.waitUntil = later(ct.waitUntil, login.started.Add(c.settle))
		case !full && !was && ct.visible():
			ct.heard, ct.waitUntil = false, now.Add(c.settle)
		}
	}
	if full {
		for key, ct := range c.contacts {
			if !seen[key] {
				ct.sub, ct.ask = "", false
			}
		}
	}
}

// reconcileLocked asks every watched address whose presence is not
// visible (and not asked for already) for a presence subscription, and
// pre-approves theirs, so that the subscription becomes mutual. It
// returns the stanzas to write.
func (c *Channel) reconcileLocked(s *session) []string {
	if s == nil || !s.rosterLoaded {
		return nil
	}
	var out []string
	now := time.Now()
	for key, addr := range c.watched {
		ct := c.contactLocked(key, addr)
		if ct.visible() || ct.ask ||
			(!ct.declinedAt.IsZero() && now.Sub(ct.declinedAt) < reaskAfter) ||
			(!ct.requestedAt.IsZero() && now.Sub(ct.requestedAt) < 10*time.Minute) {
			continue
		}
		out = append(out, c.askLocked(ct, now)...)
	}
	return out
}

// askLocked requests ct's presence subscription (and pre-approves
// theirs).
func (c *Channel) askLocked(ct *contact, now time.Time) []string {
	out := []string{presenceStanza(ct.addr, "subscribe")}
	if ct.sub != "from" && ct.sub != "both" {
		out = append(out, presenceStanza(ct.addr, "subscribed"))
	}
	ct.ask, ct.requestedAt = true, now
	c.log.Debug("im: presence subscription requested", "address", ct.addr)
	return out
}

func (c *Channel) onChatLocked(m xmpp.Chat) {
	if m.Type != "error" {
		return // people may write to notifyd; nobody reads it
	}
	key := bareKey(m.Remote)
	var oldest *pendingSend
	for _, p := range c.pending {
		if p.key == key && (oldest == nil || p.seq < oldest.seq) {
			oldest = p
		}
	}
	typ, cond, text := "", "", ""
	for _, e := range m.OtherElem {
		if e.XMLName.Local == "error" {
			typ, cond, text = stanzaError(e.Attr, e.InnerXML)
		}
	}
	if cond == "" {
		cond = "undefined-condition"
	}
	if text != "" {
		cond += ": " + clean.Line(text)
	}
	err := fmt.Errorf("im: the XMPP server refused the message to %s (%s)", bareKey(m.Remote), cond)
	if typ == "wait" {
		err = delivery.Temporary(err, 0)
	}
	if oldest != nil {
		oldest.resolve(err)
	} else {
		c.log.Warn("im: a message bounced", "err", err)
	}
}

// WatchAddresses gives the channel the addresses it may be asked to
// deliver to (delivery.AddressWatcher): it lists them now and every
// minute, asks each new one for a presence subscription, and pre-approves
// theirs, so that presence is known before a message comes.
func (c *Channel) WatchAddresses(list func(ctx context.Context) ([]string, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := c.list == nil
	c.list = list
	if first && c.ctx.Err() == nil {
		c.wg.Add(1)
		go c.watch()
	}
}

func (c *Channel) watch() {
	defer c.wg.Done()
	t := time.NewTicker(c.watchEvery)
	defer t.Stop()
	for {
		c.refresh()
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh lists the addresses to watch and subscribes to the new ones.
func (c *Channel) refresh() {
	c.mu.Lock()
	list := c.list
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, listTimeout)
	addrs, err := list(ctx)
	cancel()
	if err != nil {
		if c.ctx.Err() == nil {
			c.log.Warn("im: cannot list the addresses to watch; keeping the previous list", "err", err)
		}
		return
	}
	watched := make(map[string]string, len(addrs))
	for _, a := range addrs {
		bare, _, err := parseJID(a)
		if err != nil {
			c.log.Debug("im: not watching an address that is not a JID", "address", a)
			continue
		}
		if _, dup := watched[bareKey(bare)]; !dup {
			watched[bareKey(bare)] = bare
		}
	}
	c.mu.Lock()
	c.watched = watched
	// Forget the contacts that are neither watched nor on the roster nor
	// online (strangers' presence), so that the map does not grow.
	for key, ct := range c.contacts {
		if _, w := watched[key]; !w && len(ct.resources) == 0 && (ct.sub == "" || ct.sub == "none") && !ct.ask {
			delete(c.contacts, key)
		}
	}
	s := c.sess
	out := c.reconcileLocked(s)
	c.mu.Unlock()
	if s != nil {
		c.enqueueAll(s, out)
	}
}

// Send renders req and sends it as a chat message, if the delivery
// method's presence policy allows (delivery.Channel): online_only skips an
// offline recipient (Result.Skipped), fallback returns an error wrapping
// delivery.ErrFallback, store sends anyway (the server keeps it). A
// message that cannot be rendered, an invalid address and a message the
// server refuses for good are permanent failures; no connection, no
// confirmation from the server and a server's "wait" refusal are
// temporary.
func (c *Channel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	if req == nil || req.Notification == nil {
		return delivery.Result{}, errors.New("im: empty request")
	}
	m, err := c.renderer.Render(RenderInput{
		Notification: req.Notification,
		System:       req.System,
		Principal:    req.Principal,
		Recipient:    req.Address,
		Locale:       req.Locale,
		TimeZone:     req.TimeZone,
		CalendarName: req.CalendarName,
		DeliveryID:   req.DeliveryID,
	})
	if err != nil {
		return delivery.Result{}, err
	}
	bare, _, _ := parseJID(m.To) // checked by Render
	pol := policy(req.Method)
	s, reach, detail, err := c.await(ctx, bareKey(bare), bare, pol != notifyd.PresenceStore)
	if err != nil {
		return delivery.Result{}, delivery.Temporary(err, 0)
	}
	send, res, err := decide(pol, reach, bare, detail)
	if !send {
		return res, err
	}
	if err := c.limiter.Wait(ctx, "im to "+bare); err != nil {
		return delivery.Result{}, err
	}
	hint := hintNoStore
	if pol == notifyd.PresenceStore {
		hint = "store"
	}
	if err := c.deliver(ctx, s, bareKey(bare), m, hint); err != nil {
		return delivery.Result{}, err
	}
	return delivery.Result{ProviderID: m.ID}, nil
}

// await returns the session and what is known of key's presence, waiting
// (when wait is true) while it is undecided: just after login, or after a
// subscription request or approval. It asks for the subscription of an
// address it has none to. The error is the connection being down.
func (c *Channel) await(ctx context.Context, key, addr string, wait bool) (*session, reachability, string, error) {
	connectUntil := time.Now().Add(c.connectWait)
	for {
		now := time.Now()
		c.mu.Lock()
		s := c.sess
		ch := c.changed
		if s == nil {
			first := c.lastErr == nil && c.ctx.Err() == nil
			err := c.downErrLocked()
			c.mu.Unlock()
			if !first || !now.Before(connectUntil) {
				return nil, 0, "", err
			}
			if !sleepOrChange(ctx, ch, connectUntil.Sub(now)) {
				return nil, 0, "", err
			}
			continue
		}
		if _, ok := c.watched[key]; !ok {
			c.watched[key] = addr
		}
		ct := c.contactLocked(key, addr)
		var out []string
		reach, detail, until := c.reachLocked(s, ct, now, &out)
		c.mu.Unlock()
		c.enqueueAll(s, out)
		if !wait || until.IsZero() || !now.Before(until) {
			return s, reach, detail, nil
		}
		if !sleepOrChange(ctx, ch, until.Sub(now)) {
			return nil, 0, "", fmt.Errorf("im: waiting for %s's presence: %w", addr, ctx.Err())
		}
	}
}

// sleepOrChange waits for a change of state, d, or ctx; it returns false
// when ctx ended.
func sleepOrChange(ctx context.Context, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// downErrLocked says why there is no session.
func (c *Channel) downErrLocked() error {
	switch {
	case c.ctx.Err() != nil:
		return fmt.Errorf("im: %w: the channel is closed", errConnectionDown)
	case c.lastErr != nil:
		return fmt.Errorf("im: %w: %v", errConnectionDown, c.lastErr)
	default:
		return fmt.Errorf("im: %w yet", errConnectionDown)
	}
}

// reachLocked says what is known of ct's presence, and until when it is
// worth waiting for better knowledge (zero: it is decided). It asks for
// the contact's subscription when notifyd has none (out receives the
// stanzas).
func (c *Channel) reachLocked(s *session, ct *contact, now time.Time, out *[]string) (reachability, string, time.Time) {
	if len(ct.resources) > 0 {
		return online, "", time.Time{}
	}
	if !s.rosterLoaded {
		return invisible, "the roster has not arrived from the server", s.started.Add(c.settle)
	}
	if !ct.visible() {
		declined := !ct.declinedAt.IsZero() && now.Sub(ct.declinedAt) < reaskAfter
		if !ct.ask && !declined {
			*out = append(*out, c.askLocked(ct, now)...)
		}
		detail := "the presence subscription request to " + ct.addr + " is not approved"
		if declined {
			detail = ct.addr + " refused notifyd's presence subscription request"
		}
		return invisible, detail, future(ct.requestedAt.Add(c.approvalWait), now)
	}
	if ct.heard {
		return offline, "", time.Time{}
	}
	return offline, "", future(ct.waitUntil, now)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// future returns t when it is after now, else the zero time.
func future(t, now time.Time) time.Time {
	if t.After(now) {
		return t
	}
	return time.Time{}
}

// deliver writes the message, then a ping, and waits for the server's
// answer to the ping: the server handles a session's stanzas in order,
// so by then it has routed the message (or stored it offline), or
// bounced it with an error.
func (c *Channel) deliver(ctx context.Context, s *session, key string, m *Message, hint string) error {
	c.mu.Lock()
	if c.sess != s {
		err := c.downErrLocked()
		c.mu.Unlock()
		return delivery.Temporary(err, 0)
	}
	c.seq++
	id := "ack-" + strconv.FormatUint(c.seq, 10)
	p := &pendingSend{key: key, seq: c.seq, done: make(chan error, 1)}
	c.pending[id] = p
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	if err := s.enqueue(ctx, messageStanza(m, hint)); err != nil {
		return delivery.Temporary(fmt.Errorf("im to %s: %w", m.To, err), 0)
	}
	if err := s.enqueue(ctx, pingStanza(id, c.domain)); err != nil {
		return delivery.Temporary(fmt.Errorf("im to %s: the server's confirmation could not be asked for: %w", m.To, err), 0)
	}
	t := time.NewTimer(c.ackTimeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		return err
	case <-t.C:
		return delivery.Temporary(fmt.Errorf("im to %s: no confirmation from the XMPP server after %s", m.To, c.ackTimeout), 0)
	case <-ctx.Done():
		return delivery.Temporary(fmt.Errorf("im to %s: %w", m.To, ctx.Err()), 0)
	}
}

// connected reports whether a session is up with its roster loaded.
func (c *Channel) connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil && c.sess.rosterLoaded
}
