package sms_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/sms"
)

// The fallback account of these tests.
const (
	backupSID   = "ACfedcba9876543210fedcba9876543210"
	backupToken = "fedcba9876543210fedcba9876543210"
	backupFrom  = "+15005550007"
)

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fallbackChannel is a channel whose primary account is at primaryURL and
// whose one fallback account, "backup", is at backupURL, on clock.
func fallbackChannel(t *testing.T, primaryURL, backupURL string, clock *fakeClock, timeout time.Duration) *sms.Channel {
	t.Helper()
	cfg := twilioConfig(primaryURL)
	cfg.Timeout = timeout
	cfg.CoolDown = time.Minute
	cfg.FallbackAccounts = []config.TwilioAccount{{Name: "backup", AccountSID: backupSID, AuthToken: backupToken,
		From: backupFrom, BaseURL: backupURL}}
	ch, err := sms.NewChannel(cfg, callback, sms.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

const serverError = `{"code":20500,"message":"Internal Server Error","status":500}`

// An account that is down passes the message to the next one, which
// sends it with its own credentials and sender; the down account is
// skipped for the cool-down, then tried first again.
func TestSendFailsOverWhileThePrimaryIsDown(t *testing.T) {
	primary, backup := newFakeTwilio(t), newFakeTwilio(t)
	primary.setReply(http.StatusServiceUnavailable, nil, serverError)
	clock := &fakeClock{t: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	ch := fallbackChannel(t, primary.srv.URL, backup.srv.URL, clock, 5*time.Second)

	res, err := ch.Send(context.Background(), request())
	if err != nil || res.ProviderID != testMsgSID {
		t.Fatalf("primary down: %+v, %v; want the backup to send it", res, err)
	}
	b := backup.requests()
	if len(b) != 1 || b[0].user != backupSID || b[0].pass != backupToken || b[0].form.Get("From") != backupFrom ||
		!strings.Contains(b[0].path, backupSID) || b[0].form.Get("StatusCallback") != callback {
		t.Fatalf("backup requests: %+v", b)
	}

	// Within the cool-down the primary is not asked.
	clock.add(59 * time.Second)
	if _, err := ch.Send(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if n, m := len(primary.requests()), len(backup.requests()); n != 1 || m != 2 {
		t.Fatalf("within the cool-down: %d requests to the primary, %d to the backup; want 1 and 2", n, m)
	}

	// After it, the primary (back up) is used again.
	primary.setReply(http.StatusCreated, nil, `{"sid":"`+testMsgSID+`","status":"queued"}`)
	clock.add(2 * time.Second)
	if _, err := ch.Send(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	p := primary.requests()
	if len(p) != 2 || p[1].user != testSID || len(backup.requests()) != 2 {
		t.Fatalf("after the cool-down: %d requests to the primary, %d to the backup; want 2 and 2", len(p), len(backup.requests()))
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ch)
	want := `
# HELP notifyd_sms_account_accepted_total SMS messages a Twilio account accepted, by account (channels.twilio is "primary").
# TYPE notifyd_sms_account_accepted_total counter
notifyd_sms_account_accepted_total{account="backup"} 2
notifyd_sms_account_accepted_total{account="primary"} 1
# HELP notifyd_sms_account_failovers_total SMS messages sent on to the next Twilio account because this one was down, by account.
# TYPE notifyd_sms_account_failovers_total counter
notifyd_sms_account_failovers_total{account="backup"} 0
notifyd_sms_account_failovers_total{account="primary"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"notifyd_sms_account_accepted_total", "notifyd_sms_account_failovers_total"); err != nil {
		t.Error(err)
	}
}

// Each way of being down fails over; the message is sent once.
func TestSendFailsOverOnEveryKindOfOutage(t *testing.T) {
	for name, setup := range map[string]func(*fakeTwilio) string{
		"unreachable": func(*fakeTwilio) string { return closedURL(t) },
		"500":         func(f *fakeTwilio) string { f.setReply(500, nil, serverError); return f.srv.URL },
		"429": func(f *fakeTwilio) string {
			f.setReply(429, map[string]string{"Retry-After": "30"}, `{"code":20429,"message":"Too Many Requests","status":429}`)
			return f.srv.URL
		},
		"401": func(f *fakeTwilio) string {
			f.setReply(401, nil, `{"code":20003,"message":"Authenticate","status":401}`)
			return f.srv.URL
		},
	} {
		primary, backup := newFakeTwilio(t), newFakeTwilio(t)
		clock := &fakeClock{t: time.Now()}
		ch := fallbackChannel(t, setup(primary), backup.srv.URL, clock, 5*time.Second)
		if _, err := ch.Send(context.Background(), request()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n := len(backup.requests()); n != 1 {
			t.Errorf("%s: %d requests to the backup, want 1", name, n)
		}
	}
}

// A refusal of the message or the recipient is the message's problem:
// another account would refuse it too, or send what should not be sent.
func TestSendDoesNotFailOverARefusal(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		gone       bool
	}{
		{"invalid number", `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`, false},
		{"unsubscribed", `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, true},
	} {
		primary, backup := newFakeTwilio(t), newFakeTwilio(t)
		primary.setReply(http.StatusBadRequest, nil, tt.body)
		ch := fallbackChannel(t, primary.srv.URL, backup.srv.URL, &fakeClock{t: time.Now()}, 5*time.Second)
		_, err := ch.Send(context.Background(), request())
		if temporary, _ := delivery.IsTemporary(err); err == nil || temporary {
			t.Errorf("%s: %v, want a permanent error", tt.name, err)
		}
		if gone := errors.Is(err, delivery.ErrRecipientGone); gone != tt.gone {
			t.Errorf("%s: recipient gone %v, want %v", tt.name, gone, tt.gone)
		}
		if n := len(backup.requests()); n != 0 {
			t.Errorf("%s: the backup was asked %d times", tt.name, n)
		}
		// The primary is not put aside for it either.
		if _, err := ch.Send(context.Background(), request()); err == nil {
			t.Errorf("%s: the second send did not go to the primary", tt.name)
		}
		if n := len(primary.requests()); n != 2 {
			t.Errorf("%s: %d requests to the primary, want 2", tt.name, n)
		}
	}
}

// When the primary may have taken the message (no answer once the request
// was sent, a gateway timeout), it is not sent through the backup: the
// channel's rule for an unknown outcome holds (a temporary error, retried
// later), and the primary is not put aside.
func TestSendDoesNotFailOverAnUnknownOutcome(t *testing.T) {
	got := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	gateway := newFakeTwilio(t)
	gateway.setReply(http.StatusGatewayTimeout, nil, "<html>504 Gateway Time-out</html>")

	for name, url := range map[string]string{"no answer": hang.URL, "504": gateway.srv.URL} {
		backup := newFakeTwilio(t)
		ch := fallbackChannel(t, url, backup.srv.URL, &fakeClock{t: time.Now()}, 300*time.Millisecond)
		_, err := ch.Send(context.Background(), request())
		if temporary, _ := delivery.IsTemporary(err); !temporary {
			t.Errorf("%s: %v, want a temporary error", name, err)
		}
		if n := len(backup.requests()); n != 0 {
			t.Errorf("%s: the backup was asked %d times: the message may be sent twice", name, n)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(ch)
		want := `
# HELP notifyd_sms_account_cooling_down 1 while a Twilio account is skipped for its cool-down after it was found down, by account.
# TYPE notifyd_sms_account_cooling_down gauge
notifyd_sms_account_cooling_down{account="backup"} 0
notifyd_sms_account_cooling_down{account="primary"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "notifyd_sms_account_cooling_down"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	select {
	case <-got:
	default:
		t.Error("the hanging server never got the request")
	}
}

// When every account is down, the error is the last one's, temporary.
func TestSendEveryAccountDown(t *testing.T) {
	primary, backup := newFakeTwilio(t), newFakeTwilio(t)
	primary.setReply(http.StatusServiceUnavailable, nil, serverError)
	backup.setReply(http.StatusServiceUnavailable, nil, serverError)
	clock := &fakeClock{t: time.Now()}
	ch := fallbackChannel(t, primary.srv.URL, backup.srv.URL, clock, 5*time.Second)
	_, err := ch.Send(context.Background(), request())
	if temporary, _ := delivery.IsTemporary(err); !temporary || !strings.Contains(err.Error(), "account backup") {
		t.Fatalf("every account down: %v", err)
	}
	// Both cooling down: one try, at the account whose cool-down ends
	// first (the primary).
	clock.add(time.Second)
	if _, err := ch.Send(context.Background(), request()); err == nil {
		t.Fatal("sent while every account is down")
	}
	if n, m := len(primary.requests()), len(backup.requests()); n != 2 || m != 1 {
		t.Errorf("%d requests to the primary, %d to the backup; want 2 and 1", n, m)
	}
}

// Fallback accounts are checked like the primary.
func TestNewChannelChecksFallbackAccounts(t *testing.T) {
	for name, a := range map[string]config.TwilioAccount{
		"account_sid":           {AccountSID: "AC1", AuthToken: backupToken, From: backupFrom},
		"auth_token":            {AccountSID: backupSID, AuthToken: "not-a-token!", From: backupFrom},
		"messaging_service_sid": {AccountSID: backupSID, AuthToken: backupToken},
		"base_url":              {AccountSID: backupSID, AuthToken: backupToken, From: backupFrom, BaseURL: "ftp://x"},
	} {
		cfg := twilioConfig("")
		cfg.FallbackAccounts = []config.TwilioAccount{a}
		_, err := sms.NewChannel(cfg, callback)
		if err == nil || !strings.Contains(err.Error(), "channels.twilio.fallback_accounts[1]."+name) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "not-a-token") {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}
