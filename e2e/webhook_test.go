package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// webhookHit is one request the receiver got.
type webhookHit struct {
	path     string
	header   http.Header
	body     []byte
	verified error // nil: the signature verified with the method's secret
	status   int   // what the receiver answered
	at       time.Time
}

// webhookReceiver is a local https receiver (httptest, on 127.0.0.1). The
// subscription API accepts only https webhook URLs, so notifyd is made to
// trust the receiver's certificate through SSL_CERT_FILE. Each path has
// the secret of the method that posts to it (from the subscription API's
// answer) and a list of statuses to answer with, then 200.
type webhookReceiver struct {
	srv    *httptest.Server
	caFile string

	mu      sync.Mutex
	secrets map[string]string
	plan    map[string][]int
	hits    []webhookHit
}

func startWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	rc := &webhookReceiver{secrets: map[string]string{}, plan: map[string][]int{}}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	rc.srv.StartTLS()
	t.Cleanup(rc.srv.Close)
	rc.caFile = filepath.Join(t.TempDir(), "webhook-receiver.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw})
	if err := os.WriteFile(rc.caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}

func (rc *webhookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rc.mu.Lock()
	hit := webhookHit{path: r.URL.Path, header: r.Header.Clone(), body: body, status: http.StatusOK, at: time.Now()}
	if r.Method != http.MethodPost {
		hit.verified = fmt.Errorf("method %s", r.Method)
	} else if secret, ok := rc.secrets[r.URL.Path]; !ok {
		hit.verified = errors.New("no secret for this path")
	} else {
		hit.verified = webhookVerify(secret, r.Header, body, time.Now())
	}
	if p := rc.plan[r.URL.Path]; len(p) > 0 {
		hit.status, rc.plan[r.URL.Path] = p[0], p[1:]
	}
	rc.hits = append(rc.hits, hit)
	rc.mu.Unlock()
	if hit.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(hit.status)
}

func (rc *webhookReceiver) url(path string) string { return rc.srv.URL + path }

func (rc *webhookReceiver) setSecret(path, secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets[path] = secret
}

func (rc *webhookReceiver) answer(path string, statuses ...int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.plan[path] = statuses
}

func (rc *webhookReceiver) hitsFor(path string) []webhookHit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []webhookHit
	for _, h := range rc.hits {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// webhookVerify checks a request as a Standard Webhooks receiver does,
// written from the specification: webhook-id, webhook-timestamp within
// five minutes, and a "v1," signature equal (in constant time) to
// base64(HMAC-SHA256(base64-decoded secret after "whsec_",
// "{id}.{timestamp}.{raw body}")).
func webhookVerify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers: id %q timestamp %q signature %q", id, ts, sigs)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d is %s away", sec, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret %q is not whsec_ and base64", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		if v, b64, ok := strings.Cut(s, ","); ok && v == "v1" {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

// webhookSubscribe subscribes user to a webhook at url and returns the
// subscription's ID and the method's signing secret, as the answer to the
// create shows it (the only answer that does).
func webhookSubscribe(t *testing.T, nd *instance, cy *peertest.Cyrus, user, url string) (id, secret string) {
	t.Helper()
	code, body := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": "cyrus", "principal": cy.PrincipalHref(user), "time_zone": "Europe/Paris",
		"methods": []map[string]any{{"channel": "webhook", "address": url}},
	})
	if code != http.StatusCreated {
		t.Fatalf("subscribe %s: %d %v", user, code, body)
	}
	methods, _ := body["methods"].([]any)
	if len(methods) != 1 {
		t.Fatalf("subscription methods: %v", body)
	}
	secret, _ = methods[0].(map[string]any)["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the API shows no whsec_ secret for the webhook method: %v", methods[0])
	}
	id, _ = body["id"].(string)
	return id, secret
}

func webhookPing(t *testing.T, nd *instance, cy *peertest.Cyrus, user string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"system": "cyrus", "token": pingToken, "hrefs": []string{cy.PrincipalHref(user)}})
	resp, err := http.Post(nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping %s: %d", user, resp.StatusCode)
	}
}

// webhookWaitDeliveries waits until user has n deliveries, all final.
func webhookWaitDeliveries(t *testing.T, nd *instance, cy *peertest.Cyrus, user string, n int) []map[string]any {
	t.Helper()
	return waitFinal(t, time.Minute, n, func() []map[string]any {
		code, body := nd.api(t, http.MethodGet, "/v1/deliveries?system=cyrus&principal="+cy.PrincipalHref(user), nil)
		if code != http.StatusOK {
			t.Fatalf("deliveries: %d %v", code, body)
		}
		var ds []map[string]any
		items, _ := body["items"].([]any)
		for _, it := range items {
			ds = append(ds, it.(map[string]any))
		}
		return ds
	}, func() string { return fmt.Sprintf("(%s)\nnotifyd log:\n%s", user, nd.log) })
}

// TestWebhookDelivery delivers real Cyrus notifications to a local
// webhook receiver through the notifyd binary.
func TestWebhookDelivery(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred", "wilma", "betty")
	rc := startWebhookReceiver(t)
	t.Setenv("SSL_CERT_FILE", rc.caFile) // inherited by notifyd: it trusts the receiver
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  cyrus:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    principal_prefix: /dav/principals/
    after_delivery: keep
    timeout: 5s
channels:
  webhook:
    allow_private: true
    timeout: 5s
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, cy.BaseURL, pingToken))
	nd.start()

	t.Run("share and ping: one signed POST", func(t *testing.T) {
		const path = "/hooks/wilma"
		_, secret := webhookSubscribe(t, nd, cy, "wilma", rc.url(path))
		rc.setSecret(path, secret)
		cy.Share(t, "fred", "wilma", true)
		webhookPing(t, nd, cy, "wilma")
		ds := webhookWaitDeliveries(t, nd, cy, "wilma", 1)
		waitIdle(t, nd, time.Minute) // a duplicate would have been sent
		if len(ds) != 1 || ds[0]["status"] != "sent" || ds[0]["channel"] != "webhook" || ds[0]["address"] != rc.url(path) {
			t.Fatalf("deliveries %v", ds)
		}
		hits := rc.hitsFor(path)
		if len(hits) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(hits))
		}
		h := hits[0]
		if h.verified != nil {
			t.Fatalf("signature: %v\n%v", h.verified, h.header)
		}
		if id := h.header.Get("webhook-id"); id != ds[0]["id"] {
			t.Errorf("webhook-id %q, want the delivery ID %v", id, ds[0]["id"])
		}
		if ct, ua := h.header.Get("Content-Type"), h.header.Get("User-Agent"); ct != "application/json" || !strings.Contains(ua, "notifyd") {
			t.Errorf("Content-Type %q, User-Agent %q", ct, ua)
		}
		var p struct {
			Type      string    `json:"type"`
			Timestamp time.Time `json:"timestamp"`
			Data      struct {
				System       string `json:"system"`
				Principal    string `json:"principal"`
				DeliveryID   string `json:"delivery_id"`
				Notification struct {
					Type     string `json:"type"`
					Element  string `json:"element"`
					Access   string `json:"access"`
					Calendar struct {
						Href string `json:"href"`
					} `json:"calendar"`
				} `json:"notification"`
			} `json:"data"`
		}
		if err := json.Unmarshal(h.body, &p); err != nil {
			t.Fatalf("body: %v\n%s", err, h.body)
		}
		n := p.Data.Notification
		if p.Type != "notification.share-invite" || p.Timestamp.IsZero() || p.Data.System != "cyrus" ||
			p.Data.Principal != cy.PrincipalHref("wilma") || p.Data.DeliveryID != ds[0]["id"] ||
			n.Type != "share-invite" || n.Access != "read-write" || !strings.Contains(n.Calendar.Href, "/fred/") {
			t.Errorf("body:\n%s", h.body)
		}
		t.Logf("body: %s", h.body)
	})

	t.Run("503 then 200: retried with the same webhook-id, one delivery", func(t *testing.T) {
		const path = "/hooks/betty"
		_, secret := webhookSubscribe(t, nd, cy, "betty", rc.url(path))
		rc.setSecret(path, secret)
		rc.answer(path, http.StatusServiceUnavailable) // then 200
		cy.Share(t, "fred", "betty", false)
		webhookPing(t, nd, cy, "betty")
		ds := webhookWaitDeliveries(t, nd, cy, "betty", 1)
		waitIdle(t, nd, time.Minute) // a duplicate would have been sent
		if len(ds) != 1 || ds[0]["status"] != "sent" || ds[0]["attempts"] != float64(2) {
			t.Fatalf("deliveries %v, want one sent after 2 attempts", ds)
		}
		hits := rc.hitsFor(path)
		if len(hits) != 2 {
			t.Fatalf("the receiver got %d requests, want 2 (503, then 200)", len(hits))
		}
		accepted := 0
		for i, h := range hits {
			if h.verified != nil {
				t.Errorf("attempt %d: %v", i+1, h.verified)
			}
			if h.header.Get("webhook-id") != ds[0]["id"] {
				t.Errorf("attempt %d: webhook-id %q, want %v", i+1, h.header.Get("webhook-id"), ds[0]["id"])
			}
			if h.status/100 == 2 {
				accepted++
			}
		}
		if hits[0].status != http.StatusServiceUnavailable || accepted != 1 {
			t.Errorf("answers %d, %d: want 503 then one 200", hits[0].status, hits[1].status)
		}
		// The retry waited for the 503's Retry-After: 1 (the backoff alone
		// is 200ms to 1s), and was signed anew at its own time.
		if d := hits[1].at.Sub(hits[0].at); d < 950*time.Millisecond {
			t.Errorf("the retry came %s after the 503 asking for 1s", d)
		}
		if hits[0].header.Get("webhook-timestamp") == hits[1].header.Get("webhook-timestamp") {
			t.Error("the retry has the first attempt's webhook-timestamp")
		}
	})

	t.Run("rotated secret: both sign; no secret shown again or logged", func(t *testing.T) {
		const path = "/hooks/fred"
		id, old := webhookSubscribe(t, nd, cy, "fred", rc.url(path))
		rc.setSecret(path, old) // the receiver has not switched yet
		code, body := nd.api(t, http.MethodPatch, "/v1/subscriptions/"+id, map[string]any{
			"methods": []map[string]any{{"channel": "webhook", "address": rc.url(path), "rotate_secret": true}}})
		methods, _ := body["methods"].([]any)
		if code != http.StatusOK || len(methods) != 1 {
			t.Fatalf("rotate: %d %v", code, body)
		}
		rotated, _ := methods[0].(map[string]any)["secret"].(string)
		if !strings.HasPrefix(rotated, "whsec_") || rotated == old {
			t.Fatalf("rotate: secret %q, want a new one", rotated)
		}
		cy.Share(t, "wilma", "fred", false)
		webhookPing(t, nd, cy, "fred")
		if ds := webhookWaitDeliveries(t, nd, cy, "fred", 1); len(ds) != 1 || ds[0]["status"] != "sent" {
			t.Fatalf("deliveries %v", ds)
		}
		hits := rc.hitsFor(path)
		if len(hits) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(hits))
		}
		h := hits[0]
		if h.verified != nil {
			t.Errorf("the previous secret does not verify the request: %v", h.verified)
		}
		if err := webhookVerify(rotated, h.header, h.body, h.at); err != nil {
			t.Errorf("the new secret does not verify the request: %v", err)
		}

		// Every secret notifyd made is absent from what the API shows and
		// from notifyd's log.
		secrets := []string{rotated}
		rc.mu.Lock()
		for _, s := range rc.secrets {
			secrets = append(secrets, s)
		}
		rc.mu.Unlock()
		for _, get := range []string{"/v1/subscriptions/" + id, "/v1/subscriptions", "/v1/deliveries"} {
			code, body := nd.api(t, http.MethodGet, get, nil)
			raw, _ := json.Marshal(body)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", get, code, raw)
			}
			for _, s := range secrets {
				if strings.Contains(string(raw), strings.TrimPrefix(s, "whsec_")) {
					t.Errorf("GET %s shows a secret: %s", get, raw)
				}
			}
		}
		for _, s := range secrets {
			if strings.Contains(nd.log.String(), strings.TrimPrefix(s, "whsec_")) {
				t.Errorf("notifyd's log shows a secret:\n%s", nd.log)
			}
		}
	})
}
