package sms

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/internal/peertest"
)

// recorder is a transport that keeps the last reply's status and body.
type recorder struct {
	mu     sync.Mutex
	status int
	body   []byte
	// strip removes the Authorization header (a request without Basic
	// auth).
	strip bool
	// form is the last request's form.
	form url.Values
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if rec.strip {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		rec.mu.Lock()
		rec.form = form
		rec.mu.Unlock()
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	rec.mu.Lock()
	rec.status, rec.body = res.StatusCode, b
	rec.mu.Unlock()
	return res, err
}

// sent is the Body of the last message sent.
func (rec *recorder) sent() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.form.Get("Body")
}

func (rec *recorder) last() (int, string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.status, string(rec.body)
}

// TestPrism sends through Prism serving Twilio's OpenAPI document: what
// the channel sends passes Twilio's request validation, and what Prism
// refuses comes back as a failure with Prism's reason.
func TestPrism(t *testing.T) {
	prism := peertest.StartPrism(t)
	cfg := config.Twilio{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef",
		From: "+15005550006", MaxSegments: 3, BaseURL: prism.URL, Timeout: 10 * time.Second}
	const callback = "https://notifyd.example.org/v1/callbacks/twilio"
	req := &delivery.Request{DeliveryID: "d1", Address: "+14155550100", Locale: "fr", TimeZone: time.UTC,
		Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Françoise"},
			Calendar: notifyd.Collection{DisplayName: "Équipe 🎉"}, Access: "read",
			Summary: strings.Repeat("Un très long commentaire à propos du calendrier. ", 10)}}
	sid := regexp.MustCompile(`^SM[0-9a-fA-F]{32}$`)

	for _, tt := range []struct {
		name          string
		from, service string
	}{
		{"From", cfg.From, ""},
		{"messaging service", "", "MG0123456789abcdef0123456789abcdef"},
		{"both", cfg.From, "MG0123456789abcdef0123456789abcdef"},
	} {
		t.Run("accepted with "+tt.name, func(t *testing.T) {
			c := cfg
			c.From, c.MessagingServiceSID = tt.from, tt.service
			rec := &recorder{}
			ch, err := NewChannel(c, callback, WithTransport(rec))
			if err != nil {
				t.Fatal(err)
			}
			res, err := ch.Send(context.Background(), req)
			status, body := rec.last()
			if err != nil {
				t.Fatalf("%v\nPrism answered %d %s\nPrism's log:\n%s", err, status, body, prism.Log())
			}
			if status != http.StatusCreated || !strings.Contains(body, `"status":"queued"`) {
				t.Errorf("Prism answered %d %s", status, body)
			}
			if !sid.MatchString(res.ProviderID) {
				t.Errorf("provider ID %q is not a message SID", res.ProviderID)
			}
		})
	}

	t.Run("a reminder is accepted", func(t *testing.T) {
		rec := &recorder{}
		ch, err := NewChannel(cfg, callback, WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		rem := *req
		rem.Notification = &notifyd.Notification{Type: notifyd.TypeReminder,
			Event: &notifyd.Event{Summary: "Revue du budget", Location: "Salle 4",
				Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
			Reminder: &notifyd.Reminder{UID: "budget-1", Component: "event", Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC), LateSeconds: 120}}
		res, err := ch.Send(context.Background(), &rem)
		status, body := rec.last()
		if err != nil || status != http.StatusCreated || !sid.MatchString(res.ProviderID) {
			t.Fatalf("%v, %+v\nPrism answered %d %s\nPrism's log:\n%s", err, res, status, body, prism.Log())
		}
		if want := "Rappel : Revue du budget, 8h00-9h00, Salle 4 (2 min de retard)"; rec.sent() != want {
			t.Errorf("sent %q, want %q", rec.sent(), want)
		}
	})

	t.Run("a request without To is refused, permanently, with the reason", func(t *testing.T) {
		ch, err := NewChannel(cfg, callback)
		if err != nil {
			t.Fatal(err)
		}
		params := &openapi.CreateMessageParams{}
		params.SetFrom(cfg.From)
		params.SetBody("hello")
		_, x, err := ch.create(context.Background(), ch.accounts[0], params)
		if err == nil {
			t.Fatal("Prism accepted a message without To")
		}
		err = classify(err, x, "(none)")
		if temporary, _ := delivery.IsTemporary(err); temporary {
			t.Errorf("temporary: %v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
			t.Errorf("%#v", err)
		}
		if !strings.Contains(err.Error(), "Request body must have required property 'To'") {
			t.Errorf("the reason is lost: %v", err)
		}
		t.Logf("recorded as: %v", err)
	})

	t.Run("a request without credentials is refused, for a retry", func(t *testing.T) {
		ch, err := NewChannel(cfg, callback, WithTransport(&recorder{strip: true}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ch.Send(context.Background(), req)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Fatalf("%v", err)
		}
		if temporary, _ := delivery.IsTemporary(err); !temporary {
			t.Errorf("permanent: %v", err)
		}
	})
}
