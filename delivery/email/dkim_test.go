package email

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// rsaTestKey is one RSA-2048 key for every test (generating one is slow
// under -race).
var rsaTestKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// dkimKey is a test key, its PEM file and the TXT record publishing it.
type dkimKey struct {
	algo, file, record string
}

func newDKIMKey(t testing.TB, algo string) dkimKey {
	t.Helper()
	var priv crypto.Signer
	switch algo {
	case config.DKIMRSA:
		priv = rsaTestKey()
	case config.DKIMEd25519:
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), algo+".pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	_, record, err := publicRecord(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return dkimKey{algo: algo, file: file, record: record}
}

// config is the DKIM configuration signing with k as selector "nd" of
// example.org (the test server's From domain).
func (k dkimKey) config() config.DKIM {
	return config.DKIM{Selector: "nd", KeyFile: k.file, Algorithm: k.algo}
}

// verify checks msg's DKIM signatures against k published for
// nd._domainkey.example.org; it returns the one verification.
func (k dkimKey) verify(t *testing.T, msg []byte) *dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "nd._domainkey.example.org" {
				return nil, errors.New("no such record " + domain)
			}
			return []string{k.record}, nil
		},
	})
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d signatures, want 1:\n%s", len(vs), msg)
	}
	return vs[0]
}

// wireCRLF gives a message received from the test server CRLF line ends, as
// on the wire.
func wireCRLF(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

func TestDKIMSignature(t *testing.T) {
	for _, algo := range []string{config.DKIMRSA, config.DKIMEd25519} {
		t.Run(algo, func(t *testing.T) {
			key := newDKIMKey(t, algo)
			ts := startServer(t, serverOptions{})
			cfg := ts.config()
			cfg.DKIM = key.config()
			s := ts.sender(t, cfg)
			defer s.Close()
			m := testMessage("wilma@example.org", "Signed")
			m.Attachments = []Attachment{{Name: "reminder.ics", ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}
			m.Calendar = &CalendarPart{Method: "REQUEST", Data: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")}
			if err := s.Send(context.Background(), []*Message{m})[0]; err != nil {
				t.Fatal(err)
			}
			got := ts.received()
			if len(got) != 1 {
				t.Fatalf("server got %d messages", len(got))
			}
			raw := wireCRLF(got[0].data)
			if n := bytes.Count(raw, []byte("DKIM-Signature:")); n != 1 {
				t.Fatalf("%d DKIM-Signature fields, want 1", n)
			}
			v := key.verify(t, raw)
			if v.Err != nil {
				t.Fatalf("signature does not verify: %v\n%s", v.Err, raw)
			}
			if v.Domain != "example.org" {
				t.Errorf("d=%s, want example.org", v.Domain)
			}
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post", "mime-version", "content-type"} {
				if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
					t.Errorf("h= %v lacks %s", v.HeaderKeys, h)
				}
			}
			if !bytes.Contains(raw, []byte("a="+algo+"-sha256")) || !bytes.Contains(raw, []byte("c=relaxed/relaxed")) {
				t.Errorf("want a=%s-sha256 and c=relaxed/relaxed:\n%s", algo, raw)
			}

			// A changed body, or a changed List-Unsubscribe-Post, fails.
			body := bytes.Replace(raw, []byte("Hello wilma"), []byte("Hello fred!"), 1)
			if v := key.verify(t, body); v.Err == nil {
				t.Error("a modified body verifies")
			}
			post := bytes.Replace(raw, []byte("List-Unsubscribe=One-Click"), []byte("List-Unsubscribe=One-Clack"), 1)
			if v := key.verify(t, post); v.Err == nil {
				t.Error("a modified List-Unsubscribe-Post verifies")
			}
			// A second Subject or List-Unsubscribe, prepended on the
			// way, fails: they are oversigned.
			for _, h := range []string{"Subject: Urgent: pay now", "List-Unsubscribe: <https://evil.example/u>"} {
				added := append([]byte(h+"\r\n"), raw...)
				if v := key.verify(t, added); v.Err == nil {
					t.Errorf("verifies with %q added above the signature", h)
				}
			}
		})
	}
}

// TestDKIMChannelPaths signs what the channel renders: a template and a
// digest.
func TestDKIMChannelPaths(t *testing.T) {
	key := newDKIMKey(t, config.DKIMEd25519)
	ts := startServer(t, serverOptions{})
	cfg := ts.config()
	cfg.DKIM = key.config()
	ch, err := NewChannel(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	base := delivery.Request{
		DeliveryID: "5f2c0e7a9b1d4c3e8a6b2d1f0e9c8b7a", System: "cyrus", Principal: "/dav/principals/user/wilma/",
		Address: "wilma@example.org", Locale: "en", TimeZone: paris, CalendarName: "Work",
		UnsubscribeURL: "http://127.0.0.1:8080/v1/unsubscribe/tok",
	}
	invite, digest := base, base
	invite.Notification = &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}, Access: "read"}
	digest.Digest = teamDigest()
	for _, r := range []*delivery.Request{&invite, &digest} {
		if _, err := ch.Send(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	got := ts.received()
	if len(got) != 2 {
		t.Fatalf("server got %d messages", len(got))
	}
	for i, g := range got {
		if v := key.verify(t, wireCRLF(g.data)); v.Err != nil {
			t.Errorf("message %d: %v", i, v.Err)
		}
	}
	if err := testutil.CollectAndCompare(ch, strings.NewReader(`
# HELP notifyd_email_dkim_errors_total Email messages notifyd failed to DKIM-sign (not sent, retried), by signing domain.
# TYPE notifyd_email_dkim_errors_total counter
notifyd_email_dkim_errors_total{domain="example.org"} 0
# HELP notifyd_email_dkim_signed_total Email messages DKIM-signed by notifyd, by signing domain.
# TYPE notifyd_email_dkim_signed_total counter
notifyd_email_dkim_signed_total{domain="example.org"} 2
`), "notifyd_email_dkim_errors_total", "notifyd_email_dkim_signed_total"); err != nil {
		t.Error(err)
	}
}

// failingSigner is a key whose signing fails.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("hardware token unplugged")
}

func TestDKIMSigningErrorIsRetried(t *testing.T) {
	key := newDKIMKey(t, config.DKIMEd25519)
	ts := startServer(t, serverOptions{})
	cfg := ts.config()
	cfg.DKIM = key.config()
	ch, err := NewChannel(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	ch.sender.dkim.opts.Signer = failingSigner{ch.sender.dkim.opts.Signer}
	r := &delivery.Request{DeliveryID: "x", Notification: &notifyd.Notification{Type: notifyd.TypeOther}, Address: "a@example.org"}
	_, err = ch.Send(context.Background(), r)
	if !isTemporary(err) || !strings.Contains(err.Error(), "DKIM signing for example.org") || !strings.Contains(err.Error(), key.file) {
		t.Errorf("err = %v, want a temporary error naming the domain and key file", err)
	}
	if n := len(ts.received()); n != 0 {
		t.Errorf("an unsigned message was sent (%d)", n)
	}
	if n := ch.sender.dkim.failed.Load(); n != 1 {
		t.Errorf("errors counted: %d, want 1", n)
	}
}

func TestDKIMKeyMismatchRefused(t *testing.T) {
	key := newDKIMKey(t, config.DKIMEd25519)
	cfg := config.SMTP{Host: "h", From: "n@example.org", DKIM: key.config()}
	cfg.DKIM.Algorithm = config.DKIMRSA
	if _, err := NewSender(cfg); err == nil || !strings.Contains(err.Error(), key.file) {
		t.Errorf("Ed25519 key declared rsa: %v, want an error naming the file", err)
	}
}

// BenchmarkDKIMSign measures signing one rendered share invitation
// (text and HTML parts), as the Sender does for each message.
func BenchmarkDKIMSign(b *testing.B) {
	m, err := newTestRenderer(b).Render(input(&notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
		Access:   "read-write",
	}))
	if err != nil {
		b.Fatal(err)
	}
	from, _ := mail.ParseAddress("notifyd <n@example.org>")
	wm, _, err := (&Sender{from: from, fromDomain: "example.org"}).build(m, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := wm.WriteTo(&raw); err != nil {
		b.Fatal(err)
	}
	for _, algo := range []string{config.DKIMRSA, config.DKIMEd25519} {
		b.Run(algo, func(b *testing.B) {
			key := newDKIMKey(b, algo)
			d, err := newDKIMSigner(config.DKIM{Selector: "nd", KeyFile: key.file}, "n@example.org")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(raw.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.sign(raw.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
