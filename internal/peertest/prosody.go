package peertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	xmpp "github.com/xmppo/go-xmpp"
)

// ProsodyDomain is the XMPP domain (VirtualHost) of the instances
// StartProsody makes: users are USER@localhost.
const ProsodyDomain = "localhost"

// Prosody is a private Prosody 0.12 instance (scripts/peers/prosody.sh):
// client connections on a loopback port, STARTTLS offered on a
// self-signed certificate valid for localhost (plain connections
// allowed), offline storage on, data in its own directory. Every user's
// password is Password(user) (name + "pw").
type Prosody struct {
	// Dir holds the configuration (prosody.cfg.lua), the certificate
	// (cert.pem), the data, and the log (prosody.log).
	Dir string
	// Addr is "127.0.0.1:PORT", the client (c2s) listener.
	Addr string
	// Host is "127.0.0.1".
	Host string
	// Port is the client port, the same across Stop and Start.
	Port int
	// TLSAddr is "127.0.0.1:TLSPORT", where clients connect with TLS from
	// the first byte (XEP-0368 direct TLS) instead of STARTTLS.
	TLSAddr string
	// TLSPort is the direct TLS port.
	TLSPort int

	mu      sync.Mutex
	running bool
}

// StartProsody starts a fresh Prosody on a free loopback port with the
// given users registered, and stops it (and removes its data) when the
// test ends. It skips the test (fails under CI) when Prosody is not
// installed (scripts/peers/install.sh installs Debian's prosody).
func StartProsody(t testing.TB, users ...string) *Prosody {
	t.Helper()
	Need(t, "prosody", "prosodyctl", "openssl", "bash")
	if os.Geteuid() == 0 {
		Need(t, "runuser") // Prosody refuses to run as root
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, out, err := startProsody(t, users)
		if err == nil {
			t.Logf("%s", strings.TrimSpace(out))
			return p
		}
		lastErr = fmt.Errorf("%v\n%s", err, out)
		// A port taken between FreePort and the start: try another.
		if !strings.Contains(out, "already in use") && !strings.Contains(out, "not listening") {
			break
		}
	}
	t.Fatalf("starting Prosody: %v", lastErr)
	return nil
}

func startProsody(t testing.TB, users []string) (*Prosody, string, error) {
	// Not t.TempDir: its parent is private, and Prosody runs as the
	// prosody user.
	dir, err := os.MkdirTemp("", "notifyd-prosody-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Prosody{Dir: dir, Host: "127.0.0.1", Port: FreePort(t), TLSPort: FreePort(t)}
	for p.TLSPort == p.Port {
		p.TLSPort = FreePort(t)
	}
	p.Addr = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	p.TLSAddr = net.JoinHostPort(p.Host, strconv.Itoa(p.TLSPort))
	args := []string{"start", dir, strconv.Itoa(p.Port)}
	for _, u := range users {
		args = append(args, u, p.Password(u))
	}
	start := time.Now()
	out, err := p.script(args...)
	if err != nil {
		_, _ = p.script("stop", dir)
		_ = os.RemoveAll(dir)
		return nil, out, err
	}
	if err := WaitTCP(p.Addr, 10*time.Second); err != nil {
		_, _ = p.script("stop", dir)
		_ = os.RemoveAll(dir)
		return nil, out, err
	}
	out = strings.TrimSpace(out) + fmt.Sprintf("\nprosody: ready in %s with %d users", time.Since(start).Round(time.Millisecond), len(users))
	p.running = true
	t.Cleanup(func() {
		p.mu.Lock()
		running := p.running
		p.mu.Unlock()
		if running {
			if out, err := p.script("stop", dir); err != nil {
				t.Errorf("stopping Prosody: %v\n%s", err, out)
			}
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "prosody.log")); err == nil {
				t.Logf("prosody.log:\n%s", b)
			}
		}
		_ = os.RemoveAll(dir)
	})
	return p, out, nil
}

func (p *Prosody) script(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{Script("prosody.sh")}, args...)...)
	cmd.Env = append(os.Environ(), "PROSODY_TLS_PORT="+strconv.Itoa(p.TLSPort))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Register creates a user (password Password(user)), running or not.
func (p *Prosody) Register(t testing.TB, user string) {
	t.Helper()
	if out, err := p.script("register", p.Dir, user, p.Password(user)); err != nil {
		t.Fatalf("registering %s: %v\n%s", user, err, out)
	}
}

// Stop stops the server, keeping its data and port for Start (outage
// tests).
func (p *Prosody) Stop(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return
	}
	if out, err := p.script("stop", p.Dir); err != nil {
		t.Fatalf("stopping Prosody: %v\n%s", err, out)
	}
	p.running = false
}

// Start restarts a server Stop stopped, on the same port with the same
// data.
func (p *Prosody) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return
	}
	if out, err := p.script("start", p.Dir, strconv.Itoa(p.Port)); err != nil {
		t.Fatalf("restarting Prosody: %v\n%s", err, out)
	}
	if err := WaitTCP(p.Addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p.running = true
}

// JID returns user's bare JID, user@localhost.
func (p *Prosody) JID(user string) string { return user + "@" + ProsodyDomain }

// Password returns user's password.
func (p *Prosody) Password(user string) string { return user + "pw" }

// CertFile is the server's self-signed certificate (PEM), valid for
// localhost and 127.0.0.1.
func (p *Prosody) CertFile() string { return filepath.Join(p.Dir, "cert.pem") }

// CertPool returns a pool holding the server's certificate, for a client
// that verifies it.
func (p *Prosody) CertPool() *x509.CertPool {
	pem, err := os.ReadFile(p.CertFile())
	if err != nil {
		panic(fmt.Sprintf("peertest: Prosody certificate: %v", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		panic("peertest: Prosody certificate: no certificate in cert.pem")
	}
	return pool
}

// IMMessage is a message an XMPPUser received.
type IMMessage struct {
	// From is the sender's full JID.
	From string
	// Type is the message type ("chat", "normal", "error", …).
	Type string
	// Lang is the stanza's xml:lang.
	Lang string
	// Body is the body's text.
	Body string
	// Elements are the other child elements (payloads such as a calendar
	// object), with their text content.
	Elements []IMElement
	// Delayed is true for a message the server kept while the user was
	// offline (it carries a XEP-0203 delay); Stamp is when it was stored.
	Delayed bool
	Stamp   time.Time
	// Received is when the client got it.
	Received time.Time
}

// IMElement is an extension element of a message.
type IMElement struct {
	// Space and Local name the element.
	Space, Local string
	// Attr are its attributes.
	Attr map[string]string
	// Text is its character data (decoded), child elements' included.
	Text string
}

// Element returns the text of the message's first element in namespace
// space.
func (m IMMessage) Element(space string) (IMElement, bool) {
	for _, e := range m.Elements {
		if e.Space == space {
			return e, true
		}
	}
	return IMElement{}, false
}

// XMPPUser is a small XMPP client logged in as one user (go-xmpp, over
// STARTTLS, verifying the server's certificate): it approves every
// presence subscription request and asks for one back, so that
// subscriptions become mutual, and records the messages it receives. It
// can go offline and come back. With NOTIFYD_XMPP_DEBUG set, it logs its
// XML stream to stderr.
type XMPPUser struct {
	// JID is the user's bare JID.
	JID string

	p    *Prosody
	user string

	mu         sync.Mutex
	conn       *xmpp.Client
	readerDone chan struct{}
	msgs       []IMMessage
	approved   map[string]bool // bare JIDs whose subscription request we approved
	visible    map[string]bool // bare JIDs that approved ours
	answered   map[string]bool // IDs of the IQs answered (result or error)
	iqs        int             // IQs sent, to make their IDs
	changed    chan struct{}
}

// Login connects user and makes them available; the test's cleanup logs
// them out.
func (p *Prosody) Login(t testing.TB, user string) *XMPPUser {
	t.Helper()
	u := &XMPPUser{JID: p.JID(user), p: p, user: user, approved: map[string]bool{}, visible: map[string]bool{},
		answered: map[string]bool{}, changed: make(chan struct{})}
	u.Online(t)
	t.Cleanup(func() { u.offline() })
	return u
}

// Online logs the user in again (after Offline): the server then
// delivers what it stored for them.
func (u *XMPPUser) Online(t testing.TB) {
	t.Helper()
	if err := u.online(); err != nil {
		t.Fatal(err)
	}
}

// Reconnect waits for the session to end on the server's side (a server
// restart), then logs the user in again, trying until timeout (Poll: the
// server may take logins a moment after it listens): the server then
// delivers what it stored for them meanwhile.
func (u *XMPPUser) Reconnect(t testing.TB, timeout time.Duration) {
	t.Helper()
	u.mu.Lock()
	done := u.readerDone
	u.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(timeout):
			t.Fatalf("%s: the session did not end within %s", u.JID, timeout)
		}
	}
	u.mu.Lock()
	u.conn = nil
	u.mu.Unlock()
	var err error
	if !Poll(timeout, 100*time.Millisecond, func() bool { err = u.online(); return err == nil }) {
		t.Fatalf("%s cannot log in again within %s: %v", u.JID, timeout, err)
	}
}

func (u *XMPPUser) online() error {
	u.mu.Lock()
	on := u.conn != nil
	u.mu.Unlock()
	if on {
		return nil
	}
	opts := xmpp.Options{
		Host: u.p.Addr, User: u.JID, Password: u.p.Password(u.user), Resource: "test",
		NoTLS: true, StartTLS: true, DialTimeout: 5 * time.Second, Debug: os.Getenv("NOTIFYD_XMPP_DEBUG") != "",
		TLSConfig: &tls.Config{RootCAs: u.p.CertPool(), ServerName: ProsodyDomain, MinVersion: tls.VersionTLS12},
	}
	c, err := opts.NewClient()
	if err != nil {
		return fmt.Errorf("%s cannot log in: %v", u.JID, err)
	}
	// Asking for the roster makes this session an "interested resource":
	// Prosody sends roster pushes and subscription approvals only to those.
	if err := c.Roster(); err != nil {
		c.Close()
		return fmt.Errorf("%s: roster: %v", u.JID, err)
	}
	done := make(chan struct{})
	u.mu.Lock()
	u.conn, u.readerDone = c, done
	u.mu.Unlock()
	go u.read(c, done)
	return nil
}

// Offline ends the session: the server tells the user's contacts they
// are unavailable, and stores messages for them from now on.
func (u *XMPPUser) Offline(t testing.TB) {
	t.Helper()
	if !u.offline() {
		t.Fatalf("%s: the server did not end the session", u.JID)
	}
}

func (u *XMPPUser) offline() bool {
	u.mu.Lock()
	c, done := u.conn, u.readerDone
	u.conn = nil
	u.mu.Unlock()
	if c == nil {
		return true
	}
	// The reader sees the server close the stream, and closes the
	// connection (go-xmpp's Close reads the stream: only the reader may).
	c.SendOrg("<presence type='unavailable'/>")
	c.SendOrg("</stream:stream>")
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func (u *XMPPUser) read(c *xmpp.Client, done chan struct{}) {
	defer close(done)
	for {
		st, err := c.Recv()
		if err != nil {
			c.Close()
			return
		}
		switch v := st.(type) {
		case xmpp.Presence:
			bare, _, _ := strings.Cut(v.From, "/")
			switch v.Type {
			case "subscribe":
				c.ApproveSubscription(bare)
				u.mu.Lock()
				ask := !u.visible[bare]
				u.approved[bare] = true
				u.mu.Unlock()
				if ask {
					c.RequestSubscription(bare)
				}
			case "subscribed":
				u.mu.Lock()
				u.visible[bare] = true
				u.mu.Unlock()
			}
		case xmpp.IQ:
			if v.Type != "result" && v.Type != "error" {
				continue
			}
			u.mu.Lock()
			u.answered[v.ID] = true
			u.mu.Unlock()
		case xmpp.Chat:
			if v.Type == "roster" || (v.Text == "" && len(v.OtherElem) == 0) {
				continue // chat states and the like
			}
			m := IMMessage{From: v.Remote, Type: v.Type, Lang: v.Lang, Body: v.Text, Stamp: v.Stamp,
				Delayed: !v.Stamp.IsZero(), Received: time.Now()}
			for _, e := range v.OtherElem {
				el := IMElement{Space: e.XMLName.Space, Local: e.XMLName.Local, Attr: map[string]string{}, Text: innerText(e.InnerXML)}
				for _, a := range e.Attr {
					if a.Name.Local != "xmlns" {
						el.Attr[a.Name.Local] = a.Value
					}
				}
				m.Elements = append(m.Elements, el)
			}
			u.mu.Lock()
			u.msgs = append(u.msgs, m)
			u.mu.Unlock()
		default:
			continue
		}
		u.mu.Lock()
		close(u.changed)
		u.changed = make(chan struct{})
		u.mu.Unlock()
	}
}

// innerText decodes the character data of an element's inner XML.
func innerText(inner string) string {
	d := xml.NewDecoder(strings.NewReader("<x>" + inner + "</x>"))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return b.String()
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}

// Sync makes a round trip to the server (a XEP-0199 ping) and returns
// once it is answered: the server handles a session's stanzas in order,
// so the client has then received everything the server sent it on
// account of what it sent before, such as the messages kept for it while
// it was offline (sent when it comes online). It fails the test after
// timeout, or when the user is offline.
func (u *XMPPUser) Sync(t testing.TB, timeout time.Duration) {
	t.Helper()
	u.mu.Lock()
	c := u.conn
	u.iqs++
	id := fmt.Sprintf("peertest-sync-%d", u.iqs)
	u.mu.Unlock()
	if c == nil {
		t.Fatalf("%s: Sync while offline", u.JID)
	}
	if _, err := c.SendOrg("<iq type='get' id='" + id + "' to='" + ProsodyDomain + "'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		t.Fatalf("%s: sending a ping: %v", u.JID, err)
	}
	if !u.wait(timeout, func() bool { return u.answered[id] }) {
		t.Fatalf("%s: the server did not answer a ping within %s", u.JID, timeout)
	}
}

// Send sends one raw stanza (XML) as the user.
func (u *XMPPUser) Send(t testing.TB, stanza string) {
	t.Helper()
	u.mu.Lock()
	c := u.conn
	u.mu.Unlock()
	if c == nil {
		t.Fatalf("%s: Send while offline", u.JID)
	}
	if _, err := c.SendOrg(stanza); err != nil {
		t.Fatalf("%s: sending %s: %v", u.JID, stanza, err)
	}
}

// Messages returns the messages received so far, oldest first.
func (u *XMPPUser) Messages() []IMMessage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]IMMessage(nil), u.msgs...)
}

// WaitMessages waits until at least n messages arrived and returns them
// all; it fails the test after timeout.
func (u *XMPPUser) WaitMessages(t testing.TB, n int, timeout time.Duration) []IMMessage {
	t.Helper()
	var got []IMMessage
	if !u.wait(timeout, func() bool { got = u.msgs; return len(got) >= n }) {
		t.Fatalf("%s received %d messages after %s, want %d: %+v", u.JID, len(got), timeout, n, got)
	}
	return u.Messages()
}

// WaitMutual waits until the user and jid see each other's presence (the
// user approved jid's subscription request and jid approved the user's).
func (u *XMPPUser) WaitMutual(t testing.TB, jid string, timeout time.Duration) {
	t.Helper()
	if !u.wait(timeout, func() bool { return u.approved[jid] && u.visible[jid] }) {
		u.mu.Lock()
		defer u.mu.Unlock()
		t.Fatalf("%s and %s have no mutual presence subscription after %s (approved theirs: %v, they approved: %v)",
			u.JID, jid, timeout, u.approved[jid], u.visible[jid])
	}
}

// wait waits until ok (called with u.mu held) or timeout.
func (u *XMPPUser) wait(timeout time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		u.mu.Lock()
		done, ch := ok(), u.changed
		u.mu.Unlock()
		if done {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}
