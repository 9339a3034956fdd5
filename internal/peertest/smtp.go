package peertest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTP is a running SMTP sink: aiosmtpd with STARTTLS on a self-signed
// certificate, storing every accepted message in a Maildir, and refusing
// the recipients its Rules name, or a random share of them
// (scripts/peers/smtp.sh and smtp_sink.py).
type SMTP struct {
	// Dir holds the certificate, the Maildir (Dir/maildir), rules.json,
	// the pid file and the server's log (smtp.log).
	Dir string
	// Addr is Host:Port.
	Addr string
	// Host is "127.0.0.1"; the certificate is valid for it and for
	// "localhost".
	Host string
	// Port is the TCP port it listens on, the same across Stop and Start.
	Port int

	mu      sync.Mutex
	running bool
}

// ReceivedMessage is one message the sink stored.
type ReceivedMessage struct {
	// MailFrom is the SMTP envelope sender (MAIL FROM).
	MailFrom string
	// RcptTo are the envelope recipients the sink accepted (RCPT TO).
	RcptTo []string
	// Header is the message's header as sent (Return-Path and X-RcptTo,
	// which the sink prepends, included).
	Header mail.Header
	// Text and HTML are the decoded text/plain and text/html parts (the
	// first of each, searched through nested multiparts), with CRLF line
	// ends turned into LF; empty when absent.
	Text, HTML string
	// Raw is the stored file's content.
	Raw []byte
	// Path is the stored file.
	Path string
}

// Rules decide which recipients the sink refuses (at RCPT TO).
type Rules struct {
	// TempFail maps an address to how many times it is refused with 451
	// before it is accepted.
	TempFail map[string]int
	// RateFail maps an address, or "@domain" for a whole domain, to how
	// many recipients it refuses before it accepts them: with Gmail's
	// "421 4.7.28 ... unusual rate of unsolicited mail ... temporarily
	// rate limited", after which the sink closes the connection. The
	// first ones are refused, however fast or slow they come, so a test
	// of a sender slowing down for a domain is deterministic.
	RateFail map[string]int
	// PermFail lists addresses refused with 550 every time.
	PermFail []string
	// RandomTempFail refuses about this share (0 to 1) of the other
	// recipients for now, each time anew: half of them with 421, after
	// which the sink closes the connection, half with 451.
	RandomTempFail float64
	// Seed seeds the random refusals (0: the same sequence each time the
	// rules are set).
	Seed int64
	// AtData moves the refusals from RCPT TO to the end of DATA.
	AtData bool
	// HoldReplies stores each message as its DATA ends but holds the 250
	// reply until rules without it are set: the message has arrived and
	// its sender does not know yet (see WaitHeld).
	HoldReplies bool
}

// StartSMTP starts an SMTP sink on a free loopback port with its data in a
// temporary directory; the test's cleanup stops it. It needs
// /usr/bin/python3 with aiosmtpd (scripts/peers/install.sh installs
// Debian's python3-aiosmtpd) and openssl.
func StartSMTP(t testing.TB) *SMTP {
	t.Helper()
	Need(t, "/usr/bin/python3", "openssl")
	if out, err := exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("PEER MISSING: /usr/bin/python3 cannot import aiosmtpd (%v: %s); run scripts/peers/install.sh (make test does) to run this test against the real peer", err, bytes.TrimSpace(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port := FreePort(t)
	s := &SMTP{
		Dir:  t.TempDir(),
		Host: "127.0.0.1",
		Port: port,
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
	t.Cleanup(func() { s.stop() })
	s.Start(t)
	return s
}

// LaunchSMTP is StartSMTP for a program that is not a test (make demo):
// the sink keeps its data in dir (made if missing) and the caller stops it
// with Close.
func LaunchSMTP(dir string) (*SMTP, error) {
	for _, cmd := range []string{"/usr/bin/python3", "openssl"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return nil, fmt.Errorf("%s is not installed: run scripts/peers/install.sh", cmd)
		}
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("/usr/bin/python3 cannot import aiosmtpd (%v: %s): run scripts/peers/install.sh", err, bytes.TrimSpace(out))
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &SMTP{
		Dir:  dir,
		Host: "127.0.0.1",
		Port: port,
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
	if err := s.start(); err != nil {
		// Stopped by its pid file, whether or not the start got that far
		// (a Ctrl-C may have ended the script after it launched the sink).
		_, _ = exec.Command(Script("smtp.sh"), "stop", s.Dir).CombinedOutput()
		return nil, err
	}
	return s, nil
}

// Close stops the sink (if it runs); its directory is the caller's.
func (s *SMTP) Close() error { return s.stop() }

// Start starts the sink again after Stop, on the same port, with the same
// certificate, Maildir and rules (temp_fail and rate_fail counts start
// afresh).
func (s *SMTP) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

func (s *SMTP) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	out, err := exec.Command(Script("smtp.sh"), "start", s.Dir, strconv.Itoa(s.Port)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("starting the SMTP sink: %v\n%s", err, out)
	}
	s.running = true
	return WaitTCP(s.Addr, 10*time.Second)
}

// Maildir is the directory (with new/, cur/ and tmp/) where the sink
// stores every message it accepts, one file each, as received.
func (s *SMTP) Maildir() string { return filepath.Join(s.Dir, "maildir") }

// Stop stops the sink (to test an outage); Start brings it back.
func (s *SMTP) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

func (s *SMTP) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	out, err := exec.Command(Script("smtp.sh"), "stop", s.Dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stopping the SMTP sink: %v\n%s", err, out)
	}
	s.running = false
	return nil
}

// CertPool returns a pool holding the sink's self-signed certificate, for
// a client that verifies it.
func (s *SMTP) CertPool() *x509.CertPool {
	pem, err := os.ReadFile(filepath.Join(s.Dir, "cert.pem"))
	if err != nil {
		panic(fmt.Sprintf("peertest: SMTP sink certificate: %v", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		panic("peertest: SMTP sink certificate: no certificate in cert.pem")
	}
	return pool
}

// SetRules replaces the sink's refusal rules; they apply from the next
// SMTP command on.
func (s *SMTP) SetRules(t testing.TB, r Rules) {
	t.Helper()
	doc := struct {
		TempFail       map[string]int `json:"temp_fail,omitempty"`
		RateFail       map[string]int `json:"rate_fail,omitempty"`
		PermFail       []string       `json:"perm_fail,omitempty"`
		RandomTempFail float64        `json:"random_temp_fail,omitempty"`
		Seed           int64          `json:"seed"`
		Stage          string         `json:"stage"`
		Hold           bool           `json:"hold,omitempty"`
	}{r.TempFail, r.RateFail, r.PermFail, r.RandomTempFail, r.Seed, "rcpt", r.HoldReplies}
	if r.AtData {
		doc.Stage = "data"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.Dir, "rules.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, "rules.json")); err != nil {
		t.Fatal(err)
	}
}

// Messages returns the messages stored so far, oldest first.
func (s *SMTP) Messages(t testing.TB) []ReceivedMessage {
	t.Helper()
	var msgs []ReceivedMessage
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(s.Dir, "maildir", sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(raw)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			m.Path = path
			msgs = append(msgs, m)
		}
	}
	// Maildir names start with the delivery time in seconds.microseconds.
	sort.Slice(msgs, func(i, j int) bool {
		return filepath.Base(msgs[i].Path) < filepath.Base(msgs[j].Path)
	})
	return msgs
}

// WaitMessages waits until at least n messages are stored and returns them
// all, looking each time one lands (see Await); it fails the test after
// timeout.
func (s *SMTP) WaitMessages(t testing.TB, n int, timeout time.Duration) []ReceivedMessage {
	t.Helper()
	return s.Await(t, timeout, fmt.Sprintf("%d messages", n), func(msgs []ReceivedMessage) bool { return len(msgs) >= n })
}

// WaitHeld waits until at least n messages are stored with their 250
// reply held (Rules.HoldReplies); it fails the test after timeout.
func (s *SMTP) WaitHeld(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	held := 0
	// The sink writes its count to a file; nothing signals a change
	// (Poll asserts no duration: it only bounds a broken run).
	if !Poll(timeout, 10*time.Millisecond, func() bool {
		b, err := os.ReadFile(filepath.Join(s.Dir, "held"))
		held, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && held >= n
	}) {
		t.Fatalf("after %s the SMTP sink holds %d replies; want %d", timeout, held, n)
	}
}

// ParseMessage parses a stored message: its header, envelope (from the
// Return-Path and X-RcptTo headers the sink adds) and decoded text/plain
// and text/html parts.
func ParseMessage(raw []byte) (ReceivedMessage, error) {
	m := ReceivedMessage{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, err
	}
	m.Header = msg.Header
	m.MailFrom = strings.Trim(msg.Header.Get("Return-Path"), "<>")
	for _, a := range strings.Split(msg.Header.Get("X-RcptTo"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			m.RcptTo = append(m.RcptTo, a)
		}
	}
	err = walkPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

// walkPart decodes one MIME entity into m, recursing into multiparts.
func walkPart(contentType, cte string, body io.Reader, m *ReceivedMessage) error {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mt == "text/plain" && m.Text == "":
		m.Text = text
	case mt == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
