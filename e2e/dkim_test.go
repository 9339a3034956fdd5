package e2e

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/notifyd/notifyd/internal/peertest"
)

// dkimTestKey writes a new key of algo ("rsa", 2048 bits, or "ed25519")
// to a PEM file and returns the file and the DNS TXT record publishing
// its public key.
func dkimTestKey(t testing.TB, algo string) (file, record string) {
	t.Helper()
	var priv crypto.Signer
	var pub []byte
	switch algo {
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv = k
		pub, _ = x509.MarshalPKIXPublicKey(&k.PublicKey)
	case "ed25519":
		p, k, _ := ed25519.GenerateKey(rand.Reader)
		priv, pub = k, p
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "dkim-"+algo+".pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, "v=DKIM1; k=" + algo + "; p=" + base64.StdEncoding.EncodeToString(pub)
}

// verifyDKIM verifies raw (as the sink stored it) against record published
// at name; it returns the message's one verification.
func verifyDKIM(t *testing.T, raw []byte, name, record string) *dkim.Verification {
	t.Helper()
	wire := bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(wire), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != name {
				return nil, errors.New("no TXT record at " + domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil || len(vs) != 1 {
		t.Fatalf("%d signatures (%v), want 1:\n%s", len(vs), err, raw)
	}
	return vs[0]
}

// notifyd configured with a DKIM key signs the email of real
// notifications (a reminder with its .ics, a new event): the messages
// the SMTP sink stored verify against the selector's public key, their
// signatures cover List-Unsubscribe and List-Unsubscribe-Post, a changed
// body does not verify, and /metrics counts the signed messages.
func TestDKIMSignedEmail(t *testing.T) {
	for _, algo := range []string{"rsa", "ed25519"} {
		t.Run(algo, func(t *testing.T) {
			key, record := dkimTestKey(t, algo)
			w := newPublishWorld(t, "NOTIFYD_CHANNELS_SMTP_DKIM_KEY_FILE="+key,
				"NOTIFYD_CHANNELS_SMTP_DKIM_SELECTOR=nd2026", "NOTIFYD_CHANNELS_SMTP_DKIM_ALGORITHM="+algo)
			if code, body := w.publish(t, map[string]any{
				"topic":        "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=standup-1&aid=alarm-1&comptype=event",
				"principal":    wilmaPrincipal,
				"content_type": "text/calendar",
				"payload":      alarmICS("standup-1", "Standup"),
			}); code != http.StatusAccepted {
				t.Fatalf("alarm: %d %v", code, body)
			}
			if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
				"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "component_source": "WCAP",
				"content_type": "text/calendar", "payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted {
				t.Fatalf("event-create: %d %v", code, body)
			}
			msgs := w.sink.Await(t, time.Minute, "two signed emails", func(m []peertest.ReceivedMessage) bool { return len(m) >= 2 })
			for _, m := range msgs {
				if m.Header.Get("List-Unsubscribe-Post") == "" {
					t.Errorf("%q has no List-Unsubscribe-Post", mailSubject(m))
				}
				v := verifyDKIM(t, m.Raw, "nd2026._domainkey.localhost", record)
				if v.Err != nil {
					t.Fatalf("%q does not verify: %v\n%s", mailSubject(m), v.Err, m.Raw)
				}
				if v.Domain != "localhost" {
					t.Errorf("d=%s, want localhost (from notifyd@localhost)", v.Domain)
				}
				for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
						t.Errorf("h= %v lacks %s", v.HeaderKeys, h)
					}
				}
				body := bytes.Index(m.Raw, []byte("\n\n")) // the header's end (LF or CRLF line ends)
				if body < 0 {
					body = bytes.Index(m.Raw, []byte("\r\n\r\n"))
				}
				i := body + bytes.LastIndex(m.Raw[body:], []byte("Standup"))
				if i < body {
					i = body + bytes.LastIndex(m.Raw[body:], []byte("Planning"))
				}
				if i < body {
					t.Fatalf("no event summary in the body:\n%s", m.Raw)
				}
				changed := slices.Clone(m.Raw)
				changed[i] ^= 0x20 // a letter's case, in the text part
				if v := verifyDKIM(t, changed, "nd2026._domainkey.localhost", record); v.Err == nil {
					t.Errorf("%q with a changed body verifies", mailSubject(m))
				}
			}
			waitIdle(t, w.nd, time.Minute)
			m, err := scrape(w.nd.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			if n := m[`notifyd_email_dkim_signed_total{domain="localhost"}`]; n != 2 {
				t.Errorf("notifyd_email_dkim_signed_total = %v, want 2", n)
			}
		})
	}
}
