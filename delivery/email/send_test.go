package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtpd "github.com/emersion/go-smtp"

	"github.com/notifyd/notifyd/config"
)

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// testServer is an in-process SMTP server (go-smtp) that records what it
// gets and refuses recipients by rule.
type testServer struct {
	addr    string
	host    string
	port    int
	pool    *x509.CertPool
	certPEM []byte // the server's certificate, PEM-encoded

	mu       sync.Mutex
	sessions int        // TCP connections accepted (go-smtp starts a new Session after STARTTLS)
	conns    []net.Conn // the connections accepted, to hang up on them
	tlsSeen  []bool
	authed   []string // user names that authenticated
	msgs     []received
	// refuse maps a recipient to the error its RCPT TO gets.
	refuse map[string]*smtpd.SMTPError
	// dataRefuse maps a recipient to the error the end of DATA gets.
	dataRefuse map[string]*smtpd.SMTPError
	// drop lists recipients whose DATA makes the server hang up.
	drop map[string]bool
	// hold, when set, makes DATA wait until it is closed.
	hold chan struct{}
	// users maps user name to password; empty means no AUTH offered.
	users map[string]string
	// mechs are the AUTH mechanisms offered (default PLAIN).
	mechs []string
	// down makes the server refuse every session (451 to EHLO).
	down bool
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	ts *testServer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.ts.mu.Lock()
		l.ts.sessions++
		l.ts.conns = append(l.ts.conns, c)
		l.ts.mu.Unlock()
	}
	return c, err
}

// hangUp closes every connection the server accepted, as a server does
// with idle sessions.
func (ts *testServer) hangUp() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range ts.conns {
		c.Close()
	}
}

type received struct {
	from string
	to   []string
	data []byte
}

type serverOptions struct {
	tls      bool // offer STARTTLS
	implicit bool // TLS from the first byte
	users    map[string]string
	mechs    []string
	ip       string // listen address (default 127.0.0.1)
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	ts := &testServer{
		refuse:     map[string]*smtpd.SMTPError{},
		dataRefuse: map[string]*smtpd.SMTPError{},
		drop:       map[string]bool{},
		users:      o.users,
		mechs:      o.mechs,
	}
	if len(ts.mechs) == 0 {
		ts.mechs = []string{sasl.Plain}
	}
	s := smtpd.NewServer(smtpd.BackendFunc(func(c *smtpd.Conn) (smtpd.Session, error) {
		ts.mu.Lock()
		down := ts.down
		ts.mu.Unlock()
		if down {
			return nil, errors.New("service not available")
		}
		return &testSession{ts: ts, c: c}, nil
	}))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = !o.tls && !o.implicit
	var l net.Listener
	var err error
	if o.tls || o.implicit {
		cert, pool := testCert(t)
		ts.pool = pool
		ts.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	ip := o.ip
	if ip == "" {
		ip = "127.0.0.1"
	}
	if o.implicit {
		l, err = tls.Listen("tcp", ip+":0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", ip+":0")
	}
	if err != nil {
		t.Fatal(err)
	}
	l = &countingListener{Listener: l, ts: ts}
	ts.addr = l.Addr().String()
	ts.host = ip
	ts.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() {
		ts.mu.Lock()
		if ts.hold != nil {
			select {
			case <-ts.hold:
			default:
				close(ts.hold)
			}
		}
		ts.mu.Unlock()
		_ = s.Close()
	})
	return ts
}

func (ts *testServer) config() config.SMTP {
	mode := config.TLSNone
	if ts.pool != nil {
		mode = config.TLSStartTLS
	}
	return config.SMTP{Host: ts.host, Port: ts.port, TLS: mode, From: "notifyd <notifications@example.org>", Timeout: 5 * time.Second}
}

func (ts *testServer) sender(t *testing.T, cfg config.SMTP) *Sender {
	t.Helper()
	s, err := NewSender(cfg, WithRootCAs(ts.pool))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (ts *testServer) received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

type testSession struct {
	ts   *testServer
	c    *smtpd.Conn
	from string
	to   []string
}

func (s *testSession) AuthMechanisms() []string {
	if len(s.ts.users) == 0 {
		return nil
	}
	return s.ts.mechs
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := s.ts.users[user]; !ok || want != pass {
			return smtpd.ErrAuthFailed
		}
		s.ts.mu.Lock()
		s.ts.authed = append(s.ts.authed, user)
		s.ts.mu.Unlock()
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtpd.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN (go-sasl has none).
type loginServer struct {
	step       int
	user, pass string
	check      func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		l.pass = string(resp)
		return nil, true, l.check(l.user, l.pass)
	}
}

func (s *testSession) Mail(from string, _ *smtpd.MailOptions) error {
	if len(s.ts.users) > 0 {
		s.ts.mu.Lock()
		n := len(s.ts.authed)
		s.ts.mu.Unlock()
		if n == 0 {
			return smtpd.ErrAuthRequired
		}
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtpd.RcptOptions) error {
	s.ts.mu.Lock()
	e := s.ts.refuse[to]
	s.ts.mu.Unlock()
	if e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	hold := s.ts.hold
	var refuse *smtpd.SMTPError
	drop := false
	for _, to := range s.to {
		if e := s.ts.dataRefuse[to]; e != nil {
			refuse = e
		}
		drop = drop || s.ts.drop[to]
	}
	s.ts.mu.Unlock()
	if drop {
		_ = s.c.Close()
		return errors.New("hung up")
	}
	if hold != nil {
		<-hold
	}
	if refuse != nil {
		return refuse
	}
	_, isTLS := s.c.TLSConnectionState()
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, received{from: s.from, to: s.to, data: b})
	s.ts.tlsSeen = append(s.ts.tlsSeen, isTLS)
	s.ts.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

func testMessage(to, subject string) *Message {
	return &Message{
		To:      to,
		Subject: subject,
		Text:    "Hello " + to + "\n",
		HTML:    "<p>Hello " + to + "</p>\n",
		Headers: map[string]string{
			"Auto-Submitted":        "auto-generated",
			"List-Unsubscribe":      "<https://notifyd.example.org/u/1>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		MessageID: "<notifyd." + strings.ReplaceAll(strings.Split(to, "@")[0], ".", "-") + "@notifyd.example.org>",
	}
}

func TestSendReusesOneConnection(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	s := ts.sender(t, ts.config())
	msgs := []*Message{
		testMessage("a@example.org", "First"),
		testMessage("b@example.org", "Second “quoted” é"),
		testMessage("c@example.org", "Third"),
	}
	errs := s.Send(context.Background(), msgs)
	if len(errs) != 3 {
		t.Fatalf("%d errors for 3 messages", len(errs))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	ts.mu.Lock()
	sessions := ts.sessions
	tlsSeen := ts.tlsSeen
	ts.mu.Unlock()
	if sessions != 1 {
		t.Errorf("%d SMTP sessions for 3 messages, want 1", sessions)
	}
	got := ts.received()
	if len(got) != 3 {
		t.Fatalf("server got %d messages", len(got))
	}
	for i, r := range got {
		if !tlsSeen[i] {
			t.Errorf("message %d was not sent over TLS", i)
		}
		if r.from != "notifications@example.org" || len(r.to) != 1 || r.to[0] != msgs[i].To {
			t.Errorf("message %d envelope: from %q to %v", i, r.from, r.to)
		}
		m, err := mail.ReadMessage(strings.NewReader(string(r.data)))
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header
		subj, err := new(mimeDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"From":                  `"notifyd" <notifications@example.org>`,
			"To":                    "<" + msgs[i].To + ">",
			"Message-Id":            msgs[i].MessageID,
			"Auto-Submitted":        "auto-generated",
			"List-Unsubscribe":      "<https://notifyd.example.org/u/1>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"Mime-Version":          "1.0",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("message %d %s: %q, want %q", i, k, got, want)
			}
		}
		if subj != msgs[i].Subject {
			t.Errorf("message %d subject %q, want %q", i, subj, msgs[i].Subject)
		}
		if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
			t.Errorf("message %d Date %q: %v", i, h.Get("Date"), err)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
			t.Errorf("message %d Content-Type %q", i, ct)
		}
		if h.Get("User-Agent") != "" || h.Get("X-Mailer") != "" {
			t.Errorf("message %d names the mailer library", i)
		}
	}
}

func TestSendTemporaryRefusal(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.refuse["busy@example.org"] = &smtpd.SMTPError{Code: 451, EnhancedCode: smtpd.EnhancedCode{4, 2, 1}, Message: "Mailbox busy, try later"}
	s := ts.sender(t, ts.config())
	errs := s.Send(context.Background(), []*Message{
		testMessage("a@example.org", "1"), testMessage("busy@example.org", "2"), testMessage("c@example.org", "3"),
	})
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("others failed: %v, %v", errs[0], errs[2])
	}
	err := errs[1]
	if !IsTemporary(err) {
		t.Fatalf("451 not temporary: %v", err)
	}
	var se *SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("no SMTPError in %v", err)
	}
	if se.Code != 451 || se.Enhanced != "4.2.1" || se.Message != "Mailbox busy, try later" || !se.Temporary {
		t.Errorf("SMTPError %+v", se)
	}
	if want := "email to busy@example.org: SMTP RCPT TO: 451 4.2.1 Mailbox busy, try later"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if n := len(ts.received()); n != 2 {
		t.Errorf("server got %d messages, want 2", n)
	}
	ts.mu.Lock()
	if ts.sessions != 1 {
		t.Errorf("%d sessions, want 1 (a refusal must not cost the connection)", ts.sessions)
	}
	ts.mu.Unlock()
}

func TestSendPermanentRefusal(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.refuse["gone@example.org"] = &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	ts.dataRefuse["spam@example.org"] = &smtpd.SMTPError{Code: 554, EnhancedCode: smtpd.EnhancedCode{5, 7, 1}, Message: "Message refused as spam"}
	ts.dataRefuse["full@example.org"] = &smtpd.SMTPError{Code: 452, EnhancedCode: smtpd.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}
	s := ts.sender(t, ts.config())
	errs := s.Send(context.Background(), []*Message{
		testMessage("gone@example.org", "1"), testMessage("spam@example.org", "2"),
		testMessage("full@example.org", "3"), testMessage("ok@example.org", "4"),
	})
	for i, want := range []struct {
		code      int
		temporary bool
		text      string
	}{{550, false, "No such user here"}, {554, false, "Message refused as spam"}, {452, true, "Mailbox full"}} {
		err := errs[i]
		var se *SMTPError
		if !errors.As(err, &se) {
			t.Fatalf("message %d: no SMTPError in %v", i, err)
		}
		if IsTemporary(err) != want.temporary || se.Code != want.code || se.Message != want.text {
			t.Errorf("message %d: temporary %v, %+v; want %+v", i, IsTemporary(err), se, want)
		}
		if !strings.Contains(err.Error(), want.text) {
			t.Errorf("message %d: error %q lacks the reply", i, err)
		}
	}
	if errs[3] != nil {
		t.Errorf("ok@: %v", errs[3])
	}
}

func TestSendAuth(t *testing.T) {
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		t.Run(mech, func(t *testing.T) {
			ts := startServer(t, serverOptions{tls: true, users: map[string]string{"notifyd": "s3cret"}, mechs: []string{mech}})
			cfg := ts.config()
			cfg.Username = "notifyd"
			cfg.Password = "s3cret"
			s := ts.sender(t, cfg)
			errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1")})
			if errs[0] != nil {
				t.Fatal(errs[0])
			}
			ts.mu.Lock()
			authed := ts.authed
			ts.mu.Unlock()
			if len(authed) != 1 || authed[0] != "notifyd" {
				t.Errorf("authenticated %v", authed)
			}

			if dump := fmt.Sprintf("%v %+v %#v", s, s, s); strings.Contains(dump, "s3cret") {
				t.Errorf("printing the Sender shows the password: %s", dump)
			}

			cfg.Password = "wrong"
			errs = ts.sender(t, cfg).Send(context.Background(), []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
			for i, err := range errs {
				var se *SMTPError
				if !errors.As(err, &se) || se.Code != 535 {
					t.Fatalf("message %d: %v, want a 535 reply", i, err)
				}
				// A refused login is notifyd's configuration, not the
				// message: retry.
				if !IsTemporary(err) {
					t.Errorf("message %d: failed AUTH is permanent", i)
				}
				if strings.Contains(err.Error(), "wrong") {
					t.Errorf("error shows the password: %v", err)
				}
			}
		})
	}
}

func TestSendNoAuthOverPlainText(t *testing.T) {
	// Credentials are not sent over a connection without TLS to a host
	// other than localhost (127.0.0.2 is loopback, but not a name go-mail
	// treats as local).
	ts := startServer(t, serverOptions{ip: "127.0.0.2", users: map[string]string{"notifyd": "s3cret"}})
	cfg := ts.config()
	cfg.Username, cfg.Password = "notifyd", "s3cret"
	errs := ts.sender(t, cfg).Send(context.Background(), []*Message{testMessage("a@example.org", "1")})
	if errs[0] == nil || !IsTemporary(errs[0]) || !strings.Contains(errs[0].Error(), "unencrypted") {
		t.Errorf("%v, want a temporary error about an unencrypted connection", errs[0])
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.authed) > 0 || ts.sessions != 1 {
		t.Errorf("authenticated %v over %d connections", ts.authed, ts.sessions)
	}
}

func TestSendStartTLSRequired(t *testing.T) {
	ts := startServer(t, serverOptions{}) // no STARTTLS offered
	cfg := ts.config()
	cfg.TLS = config.TLSStartTLS
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
	for i, err := range errs {
		if err == nil || !IsTemporary(err) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("message %d: %v, want a temporary STARTTLS error", i, err)
		}
	}
	if n := len(ts.received()); n != 0 {
		t.Errorf("%d messages sent without STARTTLS", n)
	}
}

func TestSendVerifiesCertificate(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	s, err := NewSender(ts.config()) // system roots: the test certificate is unknown
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1")})
	var cve *tls.CertificateVerificationError
	if !errors.As(errs[0], &cve) || !IsTemporary(errs[0]) {
		t.Errorf("%v, want a temporary certificate verification error", errs[0])
	}
	if n := len(ts.received()); n != 0 {
		t.Errorf("%d messages sent to an unverified server", n)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	ts := startServer(t, serverOptions{implicit: true, users: map[string]string{"u": "p"}})
	cfg := ts.config()
	cfg.TLS = config.TLSImplicit
	cfg.Username, cfg.Password = "u", "p"
	errs := ts.sender(t, cfg).Send(context.Background(), []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.msgs) != 2 || !ts.tlsSeen[0] || ts.sessions != 1 || len(ts.authed) != 1 {
		t.Errorf("messages %d, TLS %v, sessions %d, authed %v", len(ts.msgs), ts.tlsSeen, ts.sessions, ts.authed)
	}
}

func TestSendConnectionLost(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.refuse["gone@example.org"] = &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "No such user"}
	ts.drop["drop@example.org"] = true
	s := ts.sender(t, ts.config())
	errs := s.Send(context.Background(), []*Message{
		testMessage("a@example.org", "1"), testMessage("gone@example.org", "2"),
		testMessage("drop@example.org", "3"), testMessage("d@example.org", "4"),
	})
	if errs[0] != nil {
		t.Errorf("a@: %v", errs[0])
	}
	if errs[1] == nil || IsTemporary(errs[1]) {
		t.Errorf("gone@: %v, want permanent", errs[1])
	}
	for _, i := range []int{2, 3} {
		var se *SMTPError
		if !IsTemporary(errs[i]) || errors.As(errs[i], &se) {
			t.Errorf("message %d: %v, want a temporary connection error", i, errs[i])
		}
	}
	if !strings.Contains(errs[3].Error(), "was lost") {
		t.Errorf("message 3: %v", errs[3])
	}
	if n := len(ts.received()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}

func TestSendServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := NewSender(config.SMTP{Host: "127.0.0.1", Port: port, TLS: "none", From: "n@example.org", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
	for i, err := range errs {
		if !IsTemporary(err) {
			t.Errorf("message %d: %v, want temporary", i, err)
		}
		if err != nil && !strings.Contains(err.Error(), strconv.Itoa(port)) {
			t.Errorf("message %d: %v does not say where", i, err)
		}
	}
}

func TestSendCancelled(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.hold = make(chan struct{})
	s := ts.sender(t, ts.config())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	errs := s.Send(ctx, []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %s after cancellation (timeout is 5s)", d)
	}
	for i, err := range errs {
		if !IsTemporary(err) {
			t.Errorf("message %d: %v, want temporary", i, err)
		}
	}
	// Already cancelled: nothing is dialled.
	ts.mu.Lock()
	before := ts.sessions
	ts.mu.Unlock()
	errs = s.Send(ctx, []*Message{testMessage("a@example.org", "1")})
	if !errors.Is(errs[0], context.Canceled) || !IsTemporary(errs[0]) {
		t.Errorf("%v", errs[0])
	}
	ts.mu.Lock()
	if ts.sessions != before {
		t.Error("dialled with a cancelled context")
	}
	ts.mu.Unlock()
}

func TestSendTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.hold = make(chan struct{})
	cfg := ts.config()
	cfg.Timeout = 300 * time.Millisecond
	errs := ts.sender(t, cfg).Send(context.Background(), []*Message{testMessage("a@example.org", "1"), testMessage("b@example.org", "2")})
	for i, err := range errs {
		var ne net.Error
		if !IsTemporary(err) || (i == 0 && !(errors.As(err, &ne) && ne.Timeout())) {
			t.Errorf("message %d: %v, want a temporary timeout", i, err)
		}
	}
}

func TestSendInvalidMessages(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := ts.sender(t, ts.config())
	injected := testMessage("b@example.org", "2")
	injected.Headers["X-Note"] = "x\r\nBcc: victim@example.net"
	noDomain := testMessage("c@example.org", "3")
	noDomain.MessageID = "<notifyd.abc>"
	random := testMessage("d@example.org", "4")
	random.MessageID = ""
	errs := s.Send(context.Background(), []*Message{
		{To: "not an address", Subject: "1", Text: "x"},
		injected, noDomain, random, nil,
		{To: "e@example.org", Subject: "1", Text: "x", Headers: map[string]string{"From": "evil@example.net"}},
	})
	for _, i := range []int{0, 1, 4, 5} {
		if errs[i] == nil || IsTemporary(errs[i]) {
			t.Errorf("message %d: %v, want a permanent error", i, errs[i])
		}
	}
	if !errors.Is(errs[1], errInjection) {
		t.Errorf("injection: %v", errs[1])
	}
	if errs[2] != nil || errs[3] != nil {
		t.Fatalf("valid messages: %v, %v", errs[2], errs[3])
	}
	got := ts.received()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	ids := []string{}
	for _, r := range got {
		m, err := mail.ReadMessage(strings.NewReader(string(r.data)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get("Message-Id"))
	}
	if ids[0] != "<notifyd.abc@example.org>" {
		t.Errorf("completed Message-ID %q", ids[0])
	}
	if !strings.HasPrefix(ids[1], "<notifyd.") || !strings.HasSuffix(ids[1], "@example.org>") || len(ids[1]) < 40 {
		t.Errorf("random Message-ID %q", ids[1])
	}
}

func TestNewSender(t *testing.T) {
	ok := config.SMTP{Host: "smtp.example.org", From: "n@example.org"}
	if _, err := NewSender(ok); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]config.SMTP{
		"no host":      {From: "n@example.org"},
		"no from":      {Host: "smtp.example.org"},
		"bad from":     {Host: "smtp.example.org", From: "not an address"},
		"from with LF": {Host: "smtp.example.org", From: "n@example.org\nBcc: x@example.net"},
		"bad TLS":      {Host: "smtp.example.org", From: "n@example.org", TLS: "ssl"},
		"bad port":     {Host: "smtp.example.org", From: "n@example.org", Port: 70000},
	} {
		if _, err := NewSender(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestIsTemporary(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&SMTPError{Code: 451, Temporary: true}, true},
		{&SMTPError{Code: 550}, false},
		{context.DeadlineExceeded, true},
		{context.Canceled, true},
		{io.EOF, true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{&connError{"x", errors.New("y")}, true},
		{&invalidError{errors.New("bad")}, false},
		{errors.New("something else"), false},
	} {
		if got := IsTemporary(tc.err); got != tc.want {
			t.Errorf("IsTemporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestReplyError(t *testing.T) {
	se := replyError("RCPT TO", &textprotoError{Code: 550, Msg: "5.1.1 <x@y>: user unknown\n5.1.1 see https://help"})
	if se.Code != 550 || se.Enhanced != "5.1.1" || se.Message != "<x@y>: user unknown see https://help" || se.Temporary {
		t.Errorf("%+v", se)
	}
	se = replyError("RCPT TO", &textprotoError{Code: 451, Msg: "try again later"})
	if se.Code != 451 || se.Enhanced != "" || se.Message != "try again later" || !se.Temporary {
		t.Errorf("%+v", se)
	}
	if replyError("x", errors.New("EOF")) != nil {
		t.Error("non-reply converted")
	}
}

type textprotoError = textproto.Error

type mimeDecoder = mime.WordDecoder
