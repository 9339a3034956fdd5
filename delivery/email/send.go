package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// Sender sends over SMTP with connection reuse. It is safe for concurrent
// use; each Send call has a connection of its own, taken from the idle
// ones when there is one (pool.go).
type Sender struct {
	idle   chan *pooledConn
	closed atomic.Bool

	client *gomail.Client
	addr   string // host:port, for error messages
	// newAuth makes the SMTP AUTH client for a session (nil: no AUTH).
	// A closure, so that printing a Sender cannot show the password.
	newAuth     func() gosmtp.Auth
	from        *mail.Address
	fromDomain  string
	timeout     time.Duration
	implicitTLS bool
	tlsConfig   *tls.Config
	// dkim signs each message; nil when channels.smtp.dkim is unset.
	dkim *dkimSigner
}

// SenderOption adjusts a Sender beyond what config.SMTP says.
type SenderOption func(*senderOptions)

type senderOptions struct {
	rootCAs *x509.CertPool
}

// WithRootCAs makes the Sender verify the server's certificate against
// pool instead of the system's roots: for a server with a private or
// self-signed certificate, as in tests. Verification cannot be switched
// off.
func WithRootCAs(pool *x509.CertPool) SenderOption {
	return func(o *senderOptions) { o.rootCAs = pool }
}

// NewSender returns a Sender for cfg: TLS per cfg.TLS ("starttls", the
// default, requires the server to offer STARTTLS; "tls" is TLS from the
// first byte; "none" is plain text), certificates verified against the
// system's roots plus cfg.CAFile's (or WithRootCAs' pool plus
// cfg.CAFile's); SMTP AUTH
// (PLAIN, else LOGIN, as the server offers) when cfg.Username is set, only
// over TLS or to localhost; cfg.Timeout (default 30s) bounds connecting and
// each SMTP command. A zero cfg.Port means 587, 465 or 25 by TLS mode.
// cfg.RateLimit and cfg.Burst are not applied here.
func NewSender(cfg config.SMTP, opts ...SenderOption) (*Sender, error) {
	var o senderOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if cfg.Host == "" {
		return nil, errors.New("email: no SMTP host configured")
	}
	mode := strings.ToLower(cfg.TLS)
	if mode == "" {
		mode = config.TLSStartTLS
	}
	port := cfg.Port
	switch mode {
	case config.TLSStartTLS:
		if port == 0 {
			port = 587
		}
	case config.TLSImplicit:
		if port == 0 {
			port = 465
		}
	case config.TLSNone:
		if port == 0 {
			port = 25
		}
	default:
		return nil, fmt.Errorf("email: SMTP TLS mode %q: want starttls, tls or none", cfg.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("email: SMTP port %d out of range", port)
	}
	if strings.ContainsAny(cfg.From, "\r\n") {
		return nil, fmt.Errorf("email: SMTP from: %w", errInjection)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP from address %q: %w", cfg.From, err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	roots, err := delivery.RootCAs(o.rootCAs, cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP %w", err)
	}
	s := &Sender{
		idle:        make(chan *pooledConn, poolSize),
		addr:        net.JoinHostPort(cfg.Host, strconv.Itoa(port)),
		from:        from,
		fromDomain:  from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		timeout:     timeout,
		implicitTLS: mode == config.TLSImplicit,
		tlsConfig: &tls.Config{
			ServerName: cfg.Host,
			RootCAs:    roots,
			MinVersion: tls.VersionTLS12,
		},
	}
	if cfg.DKIM.Enabled() {
		if s.dkim, err = newDKIMSigner(cfg.DKIM, cfg.From); err != nil {
			return nil, err
		}
	}
	if cfg.Username != "" {
		user, pass, host := cfg.Username, cfg.Password, cfg.Host
		s.newAuth = func() gosmtp.Auth {
			return &autoAuth{user: user, pass: pass.Reveal(), host: host}
		}
	}
	policy := gomail.TLSMandatory
	if mode != config.TLSStartTLS {
		// Implicit TLS is done by s.dial, before go-mail sees the
		// connection.
		policy = gomail.NoTLS
	}
	s.client, err = gomail.NewClient(cfg.Host,
		gomail.WithPort(port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSPolicy(policy),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithDialContextFunc(s.dial),
	)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP client: %w", err)
	}
	return s, nil
}

// connKey is the context key of a Send call's *connSlot.
type connKey struct{}

// connSlot holds a Send call's connection so that cancelling the call's
// context interrupts whatever the connection is waiting for.
type connSlot struct {
	ctx  context.Context
	mu   sync.Mutex
	conn net.Conn
	stop func() bool
}

func (c *connSlot) set(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	c.stop = context.AfterFunc(c.ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
}

// detach stops watching the context and returns the connection, open.
func (c *connSlot) detach() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
	return c.conn
}

// close closes the connection (if any) and stops watching the context.
func (c *connSlot) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

// dial connects (and, for implicit TLS, handshakes), registering the
// connection with the Send call's slot.
func (s *Sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if slot, ok := ctx.Value(connKey{}).(*connSlot); ok {
		slot.set(conn)
	}
	if !s.implicitTLS {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// Send sends msgs over one SMTP connection (an idle one kept from an
// earlier Send, or a new one), then keeps the connection for the next
// Send if it is healthy; returns one error per message (nil = accepted by
// the server). Each non-nil error is classified by IsTemporary.
//
// A message the server refuses does not stop the others (the transaction
// is reset); an invalid message is not sent. When the connection fails,
// the message being sent and all after it get temporary errors: the one
// being sent may nevertheless have reached the server, and a retry sends
// it again under the same Message-ID.
func (s *Sender) Send(ctx context.Context, msgs []*Message) []error {
	errs := make([]error, len(msgs))
	type job struct {
		i        int
		m        io.WriterTo
		from, to string
	}
	jobs := make([]job, 0, len(msgs))
	now := time.Now()
	for i, m := range msgs {
		gm, to, err := s.build(m, now)
		var se *signError
		switch {
		case errors.As(err, &se):
			errs[i] = fmt.Errorf("email to %s: %w", to, err)
			continue
		case err != nil:
			errs[i] = &invalidError{err}
			continue
		}
		from := s.from.Address
		if m.ReturnPath != "" {
			from = m.ReturnPath
		}
		jobs = append(jobs, job{i, gm, from, to})
	}
	failRest := func(from int, err error) {
		for _, j := range jobs[from:] {
			errs[j.i] = fmt.Errorf("email to %s: %w", j.to, err)
		}
	}
	if len(jobs) == 0 {
		return errs
	}
	if err := ctx.Err(); err != nil {
		failRest(0, &connError{"not sent", err})
		return errs
	}

	pc, reused, err := s.acquire(ctx)
	if err != nil {
		failRest(0, err)
		return errs
	}
	// Cancelling ctx interrupts whatever the connection waits for.
	watching := context.AfterFunc(ctx, func() { _ = pc.raw.SetDeadline(time.Unix(1, 0)) })
	healthy := true
	for k := 0; k < len(jobs); k++ {
		j := jobs[k]
		if err := pc.c.UpdateDeadline(s.timeout); err != nil {
			failRest(k, &connError{"connection to " + s.addr, err})
			healthy = false
			break
		}
		if err := ctx.Err(); err != nil {
			failRest(k, &connError{"not sent", err})
			break
		}
		err, lost, dataSent := s.transact(pc.c, j.m, j.from, j.to)
		if lost != nil && reused && !dataSent {
			// A kept connection the server had dropped: nothing of this
			// message reached it, so send it on a new connection.
			watching()
			pc.close()
			reused = false
			if pc, err = s.open(ctx); err != nil {
				failRest(k, err)
				return errs
			}
			watching = context.AfterFunc(ctx, func() { _ = pc.raw.SetDeadline(time.Unix(1, 0)) })
			k--
			continue
		}
		if err != nil {
			if lost != nil && dataSent {
				err = &maybeSentError{err}
			}
			errs[j.i] = fmt.Errorf("email to %s: %w", j.to, err)
		}
		if lost != nil {
			healthy = false
			failRest(k+1, &connError{"not sent, the connection to " + s.addr + " was lost", lost})
			break
		}
	}
	if !watching() || ctx.Err() != nil {
		healthy = false // the deadline was poisoned to interrupt it
	}
	if healthy {
		s.release(pc)
	} else {
		pc.close()
	}
	return errs
}

// connect dials and sets up the session: greeting, EHLO, STARTTLS and
// AUTH. Every failure here is temporary.
func (s *Sender) connect(ctx context.Context) (*gosmtp.Client, error) {
	fail := func(cmd, doing string, err error) error {
		if se := replyError(cmd, err); se != nil {
			se.Temporary = true
			err = se
		}
		return &connError{doing + " " + s.addr, err}
	}
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// go-mail leaves the connection open when the session set-up
		// fails after connecting; slot.close closes it.
		return nil, fail("", "connecting to", err)
	}
	if s.newAuth != nil {
		if err := c.Auth(s.newAuth()); err != nil {
			return nil, fail("AUTH", "authenticating to", err)
		}
	}
	return c, nil
}

// transact sends one message in one mail transaction, from the envelope
// sender from to the envelope recipient to. err is the
// message's outcome; lost, when not nil, says why the connection cannot be
// used for another message; dataSent says whether any of the message's
// content was sent (if not, sending it again elsewhere cannot duplicate it).
func (s *Sender) transact(c *gosmtp.Client, m io.WriterTo, from, to string) (err, lost error, dataSent bool) {
	refused := func(cmd string, err error) (error, error, bool) {
		if se := replyError(cmd, err); se != nil {
			if rerr := c.Reset(); rerr != nil {
				return se, rerr, false
			}
			return se, nil, false
		}
		ce := &connError{"SMTP " + cmd, err}
		return ce, ce, false
	}
	if err := c.Mail(from); err != nil {
		return refused("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return refused("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return refused("DATA", err)
	}
	if _, err := m.WriteTo(w); err != nil {
		ce := &connError{"SMTP DATA (writing the message)", err}
		return ce, ce, true
	}
	if err := w.Close(); err != nil {
		if se := replyError("DATA", err); se != nil {
			// The transaction is over; the connection stays usable.
			return se, nil, true
		}
		ce := &connError{"SMTP DATA", err}
		return ce, ce, true
	}
	return nil, nil, true
}

// build turns m into the message to send (signed when DKIM is
// configured: once, so that a resend on a new connection sends the same
// bytes) and its envelope recipient.
func (s *Sender) build(m *Message, now time.Time) (io.WriterTo, string, error) {
	if err := m.check(); err != nil {
		return nil, "", err
	}
	to, _ := mail.ParseAddress(m.To) // check parsed it
	id := m.MessageID
	switch {
	case id == "":
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = "<notifyd." + hex.EncodeToString(b[:]) + "@" + s.fromDomain + ">"
	case !strings.Contains(id, "@"):
		id = id[:len(id)-1] + "@" + s.fromDomain + ">"
	}
	gm := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	gm.FromMailAddress(s.from)
	gm.ToMailAddress(to)
	gm.Subject(m.Subject)
	gm.SetDateWithValue(now)
	gm.SetMessageIDWithValue(id[1 : len(id)-1])
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		gm.SetGenHeader(gomail.Header(k), m.Headers[k])
	}
	switch {
	case m.Text != "" && m.HTML != "":
		gm.SetBodyString(gomail.TypeTextPlain, m.Text)
		gm.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		gm.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		gm.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	if c := m.Calendar; c != nil {
		// RFC 6047 §2.4: the iTIP object as a text/calendar alternative
		// whose method parameter is its METHOD (go-mail adds the
		// charset).
		gm.AddAlternativeString(gomail.ContentType("text/calendar; method="+c.Method), string(c.Data))
	}
	for _, a := range m.Attachments {
		if err := gm.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, "", fmt.Errorf("email: attachment %s: %w", a.Name, err)
		}
	}
	if s.dkim == nil {
		return gm, to.Address, nil
	}
	var raw bytes.Buffer
	if _, err := gm.WriteTo(&raw); err != nil {
		return nil, to.Address, s.dkim.fail(err)
	}
	signed, err := s.dkim.sign(raw.Bytes())
	if err != nil {
		return nil, to.Address, err
	}
	return rawMessage(signed), to.Address, nil
}

// autoAuth authenticates with PLAIN, else LOGIN, whichever the server
// offers. go-mail's own choice excludes both when it did not do the TLS
// itself, and its mechanisms refuse to send credentials over a
// connection without TLS unless the server is localhost.
type autoAuth struct {
	user, pass, host string
	inner            gosmtp.Auth
}

func (a *autoAuth) Start(si *gosmtp.ServerInfo) (string, []byte, error) {
	switch {
	case slices.Contains(si.Auth, "PLAIN"):
		a.inner = gosmtp.PlainAuth("", a.user, a.pass, a.host, false)
	case slices.Contains(si.Auth, "LOGIN"):
		a.inner = gosmtp.LoginAuth(a.user, a.pass, a.host, false)
	case len(si.Auth) == 0:
		return "", nil, errors.New("server offers no authentication (AUTH) but a user name is configured")
	default:
		return "", nil, fmt.Errorf("server offers neither PLAIN nor LOGIN authentication (only %s)", strings.Join(si.Auth, " "))
	}
	return a.inner.Start(si)
}

func (a *autoAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.inner.Next(fromServer, more)
}
