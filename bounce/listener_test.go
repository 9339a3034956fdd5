package bounce

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// startListener runs a Listener on a free port whose reports go to
// handle; it stops at the test's end.
func startListener(t *testing.T, handle Handler) *Listener {
	t.Helper()
	l, err := Listen(ListenerOptions{Addr: "127.0.0.1:0", VERP: testVERP(t), Handle: handle,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	return l
}

// send delivers raw from the null sender to rcpt; it returns the first
// refusal.
func send(t *testing.T, l *Listener, rcpt string, raw []byte) error {
	t.Helper()
	c, err := smtp.Dial(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestListenerHandsOverTheParsedReport(t *testing.T) {
	got := make(chan Report, 1)
	l := startListener(t, func(_ context.Context, r Report) error { got <- r; return nil })
	if err := send(t, l, fixtureAddr, readFixture(t, "rfc3464.eml")); err != nil {
		t.Fatalf("report refused: %v", err)
	}
	r := <-got
	if r.DeliveryID != fixtureID || r.Kind != Hard || r.Recipient != "wilma@example.net" || r.Status != "5.1.1" {
		t.Errorf("report %+v", r)
	}
}

func TestListenerRefusesOtherRecipients(t *testing.T) {
	l := startListener(t, func(context.Context, Report) error { t.Error("a report was handed over"); return nil })
	forged := strings.Replace(fixtureAddr, "2f3c468ba4750cc5", "2f3c468ba4750cc6", 1)
	for _, rcpt := range []string{"someone@example.com", "postmaster@bounces.example.org", forged} {
		if err := send(t, l, rcpt, readFixture(t, "rfc3464.eml")); code(err) != 550 {
			t.Errorf("RCPT TO %s: %v, want 550", rcpt, err)
		}
	}
}

func TestListenerFailingHandlerGives4xx(t *testing.T) {
	calls := make(chan struct{}, 2)
	var fail atomic.Bool
	fail.Store(true)
	l := startListener(t, func(context.Context, Report) error {
		calls <- struct{}{}
		if fail.Load() {
			return errors.New("database down")
		}
		return nil
	})
	if err := send(t, l, fixtureAddr, readFixture(t, "qmail.eml")); code(err) != 451 {
		t.Fatalf("failing handler: %v, want 451", err)
	}
	<-calls
	fail.Store(false) // the sending server retries
	if err := send(t, l, fixtureAddr, readFixture(t, "qmail.eml")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	<-calls
}

func TestListenerDropsAutoRepliesAndRefusesJunk(t *testing.T) {
	l := startListener(t, func(context.Context, Report) error { t.Error("a report was handed over"); return nil })
	if err := send(t, l, fixtureAddr, readFixture(t, "out-of-office.eml")); err != nil {
		t.Errorf("out-of-office: %v, want accepted and dropped", err)
	}
	junk := []byte("From: MAILER-DAEMON@x\r\nContent-Type: multipart/report\r\n\r\nx\r\n")
	if err := send(t, l, fixtureAddr, junk); code(err) != 550 {
		t.Errorf("unreadable report: %v, want 550", err)
	}
	big := append([]byte("Subject: x\r\n\r\n"), []byte(strings.Repeat("0123456789abcdef\r\n", 5000))...)
	if err := send(t, l, fixtureAddr, big); code(err) != 552 {
		t.Errorf("oversized message: %v, want 552", err)
	}
}

// The listener takes mail for the fixed feedback address: a complaint
// is handed over with its delivery; anything else sent there (a DMARC
// failure report, a complaint about another system's mail, an unreadable
// report, a person's mail) is accepted and dropped, never refused, so
// that the provider sends no bounce of its own.
func TestListenerTakesComplaintsAtTheFeedbackAddress(t *testing.T) {
	got := make(chan Report, 10)
	l := startListener(t, func(_ context.Context, r Report) error { got <- r; return nil })
	if err := send(t, l, strings.ToUpper(fixtureFBL), readFixture(t, "microsoft-jmrp.eml")); err != nil {
		t.Fatalf("complaint refused: %v", err)
	}
	if r := <-got; r.DeliveryID != fixtureID || r.Kind != Complaint || r.FeedbackType != "abuse" {
		t.Errorf("report %+v", r)
	}
	other := strings.ReplaceAll(string(readFixture(t, "yahoo-arf.eml")), fixtureAddr, "bounce-1234@mailer.example.com")
	for name, raw := range map[string][]byte{
		"dmarc":    readFixture(t, "dmarc-auth-failure.eml"),
		"foreign":  []byte(other),
		"broken":   readFixture(t, "arf-malformed.eml"),
		"junk":     []byte("From: MAILER-DAEMON@x\r\nContent-Type: multipart/report\r\n\r\nx\r\n"),
		"a person": []byte("From: someone@example.com\r\nSubject: hello\r\n\r\nHello!\r\n"),
	} {
		if err := send(t, l, fixtureFBL, raw); err != nil {
			t.Errorf("%s to the feedback address: %v, want accepted and dropped", name, err)
		}
	}
	// The complaint sent to the bounce address is taken there too.
	if err := send(t, l, fixtureAddr, readFixture(t, "yahoo-arf.eml")); err != nil {
		t.Fatalf("complaint to the bounce address: %v", err)
	}
	if r := <-got; r.DeliveryID != fixtureID || r.Kind != Complaint {
		t.Errorf("report %+v", r)
	}
	select {
	case r := <-got:
		t.Errorf("a dropped message was handed over: %+v", r)
	default:
	}
	for _, rcpt := range []string{"abuse@bounces.example.org", "fbl@example.org", "fbl+x@bounces.example.org"} {
		if err := send(t, l, rcpt, readFixture(t, "yahoo-arf.eml")); code(err) != 550 {
			t.Errorf("RCPT TO %s: %v, want 550", rcpt, err)
		}
	}
}
