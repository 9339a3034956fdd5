package email

import (
	"context"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

func TestFromConfig(t *testing.T) {
	f := FromConfig
	cfg := config.Default()
	if ch, err := f(cfg, nil); ch != nil || err != nil {
		t.Errorf("unconfigured: %v, %v; want nil, nil", ch, err)
	}
	cfg.Channels.SMTP.Host = "smtp.example.org"
	if _, err := f(cfg, nil); err == nil {
		t.Error("configured without a From address: no error")
	}
	cfg.Channels.SMTP.From = "notifyd@example.org"
	if ch, err := f(cfg, nil); ch == nil || err != nil {
		t.Errorf("configured: %v, %v", ch, err)
	}
}

func TestChannelSend(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	ts.refuse["busy@example.org"] = &smtpd.SMTPError{Code: 451, EnhancedCode: smtpd.EnhancedCode{4, 3, 0}, Message: "Try later"}
	ts.refuse["gone@example.org"] = &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "No such user"}
	// The server's certificate reaches the channel through ca_file, as an
	// operator would configure it.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ts.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := ts.config()
	cfg.CAFile = caFile
	ch, err := NewChannel(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	req := func(addr string) *delivery.Request {
		return &delivery.Request{
			DeliveryID:   "5f2c0e7a9b1d4c3e8a6b2d1f0e9c8b7a",
			Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}, Access: "read"},
			System:       "cyrus", Principal: "/dav/principals/user/wilma/", Address: addr,
			Locale: "en", TimeZone: paris, CalendarName: "Work",
			UnsubscribeURL: "http://127.0.0.1:8080/v1/unsubscribe/tok",
		}
	}
	ctx := context.Background()
	res, err := ch.Send(ctx, req("wilma@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	got := ts.received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	m, err := mail.ReadMessage(strings.NewReader(string(got[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "Fred shared the calendar “Work” with you (read-only)" {
		t.Errorf("subject %q", subject)
	}
	if id := m.Header.Get("Message-Id"); id != "<notifyd.5f2c0e7a9b1d4c3e8a6b2d1f0e9c8b7a@example.org>" {
		t.Errorf("Message-ID %q (the domain comes from the From address)", id)
	}
	if res.ProviderID == "" || !strings.Contains(m.Header.Get("Message-Id"), strings.Trim(res.ProviderID, "<>")) {
		t.Errorf("provider ID %q, want the message's Message-ID", res.ProviderID)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "<http://127.0.0.1:8080/v1/unsubscribe/tok>" {
		t.Errorf("List-Unsubscribe %q", got)
	}

	_, err = ch.Send(ctx, req("busy@example.org"))
	if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "451 4.3.0 Try later") {
		t.Errorf("451: %v, want temporary with the reply", err)
	}
	_, err = ch.Send(ctx, req("gone@example.org"))
	if tmp, _ := delivery.IsTemporary(err); tmp || err == nil || !strings.Contains(err.Error(), "550 5.1.1 No such user") {
		t.Errorf("550: %v, want permanent with the reply", err)
	}
	_, err = ch.Send(ctx, req("not an address"))
	if tmp, _ := delivery.IsTemporary(err); tmp || err == nil {
		t.Errorf("bad address: %v, want permanent", err)
	}
}

func TestChannelRateLimit(t *testing.T) {
	ts := startServer(t, serverOptions{})
	cfg := ts.config()
	cfg.RateLimit, cfg.Burst = 20, 1 // one message every 50ms
	ch, err := NewChannel(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	r := &delivery.Request{DeliveryID: "x", Notification: &notifyd.Notification{Type: notifyd.TypeOther}, Address: "a@example.org"}
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := ch.Send(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("4 messages at 20/s took %s, want at least 150ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ch.Send(ctx, r); !isTemporary(err) {
		t.Error("cancelled while waiting for the rate limit: not temporary")
	}
}

func TestNewSenderCAFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{bad, filepath.Join(dir, "missing.pem")} {
		if _, err := NewSender(config.SMTP{Host: "h", From: "n@example.org", CAFile: f}); err == nil {
			t.Errorf("%s: accepted", f)
		}
	}
}

func isTemporary(err error) bool {
	tmp, _ := delivery.IsTemporary(err)
	return tmp
}
