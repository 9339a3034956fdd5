package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The webhook signing secret is write-only: an answer shows it only when
// the request set it (created the method, rotated it or gave a new one);
// every other answer, listings included, says only secret_set.

var whsecRE = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

func webhookSub(methods ...map[string]any) map[string]any {
	return map[string]any{"system": sysCal, "principal": "/p/wilma", "methods": append([]map[string]any{
		{"channel": "email", "address": "wilma@example.org"}}, methods...)}
}

// noSecrets fails t if body holds any of secrets or a "secret" member.
func noSecrets(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(string(body), s) || strings.Contains(string(body), strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("%s shows the secret %s: %s", what, s, body)
		}
	}
	if strings.Contains(string(body), `"secret":`) {
		t.Errorf("%s has a secret member: %s", what, body)
	}
}

// storedSecret reads the webhook method's secret from the database.
func (h *harness) storedSecret(t *testing.T, id string) string {
	t.Helper()
	sub, err := h.db.Subscription(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sub.Methods {
		if m.Channel == "webhook" {
			return m.Secret
		}
	}
	t.Fatalf("no webhook method in %+v", sub)
	return ""
}

func TestWebhookSecretShownOnlyWhenSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hook := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n"}

	// Create shows the secret notifyd made.
	created := h.create(t, webhookSub(hook))
	s1 := created.Methods[1].Secret
	if !whsecRE.MatchString(s1) {
		t.Fatalf("create: webhook method %+v, want its secret (whsec_ and 32 bytes)", created.Methods[1])
	}
	if !created.Methods[1].SecretSet {
		t.Errorf("create: webhook method %+v, want secret_set", created.Methods[1])
	}
	if got := h.storedSecret(t, created.ID); got != s1 {
		t.Fatalf("the answer's secret is not the stored one")
	}
	path := "/v1/subscriptions/" + created.ID

	// Reading never shows it.
	res := h.sub(t, http.MethodGet, path, nil, nil)
	noSecrets(t, "GET", res.body, s1)
	if got := h.get(t, created.ID); !got.Methods[1].SecretSet || got.Methods[1].PreviousSecretExpiresAt != "" {
		t.Errorf("GET: webhook method %+v, want secret_set and no previous secret", got.Methods[1])
	}
	for _, q := range []string{"", "?system=cal", "?principal=/p/wilma&limit=1"} {
		res := h.sub(t, http.MethodGet, "/v1/subscriptions"+q, nil, nil)
		noSecrets(t, "list"+q, res.body, s1)
		if l := h.list(t, q); len(l.Items) != 1 || !l.Items[0].Methods[1].SecretSet {
			t.Errorf("list%s: %+v, want the subscription with secret_set", q, l.Items)
		}
	}

	// Writes that leave the secret out keep it and do not show it: a
	// replace, a merge patch of another field, a patch of the methods.
	for _, w := range []struct {
		name, method string
		body         map[string]any
	}{
		{"replace", http.MethodPut, webhookSub(hook)},
		{"patch", http.MethodPatch, map[string]any{"locale": "fr"}},
		{"patch of methods", http.MethodPatch, map[string]any{"methods": webhookSub(hook)["methods"]}},
	} {
		res := h.sub(t, w.method, path, w.body, nil)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", w.name, res.status, res.body)
		}
		noSecrets(t, w.name, res.body, s1)
		if got := h.storedSecret(t, created.ID); got != s1 {
			t.Errorf("%s changed the secret", w.name)
		}
	}

	// A rotation shows the new secret, once; for a day the old one signs too.
	rotate := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n", "rotate_secret": true}
	res = h.sub(t, http.MethodPatch, path, map[string]any{"methods": webhookSub(rotate)["methods"]}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	var rotated subscription
	res.decode(t, &rotated)
	s2 := rotated.Methods[1].Secret
	if !whsecRE.MatchString(s2) || s2 == s1 {
		t.Fatalf("rotate: secret %q, want a new one (was %q)", s2, s1)
	}
	if strings.Contains(string(res.body), s1) {
		t.Errorf("the rotation's answer shows the previous secret: %s", res.body)
	}
	if got := h.storedSecret(t, created.ID); got != s2 {
		t.Errorf("stored after rotation: %q, want %q", got, s2)
	}
	expires := parseTime(t, rotated.Methods[1].PreviousSecretExpiresAt)
	if d := time.Until(expires); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("previous_secret_expires_at %s, want a day from now", rotated.Methods[1].PreviousSecretExpiresAt)
	}
	res = h.sub(t, http.MethodGet, path, nil, nil)
	noSecrets(t, "GET after rotation", res.body, s1, s2)
	if got := h.get(t, created.ID); got.Methods[1].PreviousSecretExpiresAt != rotated.Methods[1].PreviousSecretExpiresAt {
		t.Errorf("GET after rotation: previous_secret_expires_at %q, want %q",
			got.Methods[1].PreviousSecretExpiresAt, rotated.Methods[1].PreviousSecretExpiresAt)
	}
	res = h.sub(t, http.MethodGet, "/v1/subscriptions", nil, nil)
	noSecrets(t, "list after rotation", res.body, s1, s2)

	// A replace giving a secret of the client's own sets it and shows it
	// once; giving the current one again changes and shows nothing.
	own := "whsec_" + base64.StdEncoding.EncodeToString([]byte("\x8f\x1a\x9e\x03\xd2\x77\xc4\x5b\x0e\xe9\x61\xb8\x2c\xf4\x13\xa6\x7d\x58\xcb\x90\x3f\xe2\x46\x0b"))
	withOwn := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n", "secret": own}
	res = h.sub(t, http.MethodPut, path, webhookSub(withOwn), nil)
	var replaced subscription
	res.decode(t, &replaced)
	if res.status != http.StatusOK || replaced.Methods[1].Secret != own {
		t.Fatalf("replace with a secret: %d %s", res.status, res.body)
	}
	if got := h.storedSecret(t, created.ID); got != own {
		t.Errorf("stored after a replace with a secret: %q", got)
	}
	res = h.sub(t, http.MethodPut, path, webhookSub(withOwn), nil)
	if res.status != http.StatusOK {
		t.Fatalf("replace with the same secret: %d %s", res.status, res.body)
	}
	noSecrets(t, "replace with the same secret", res.body, own, s2)

	// A new webhook method's answer shows its secret, not the other's.
	other := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/other"}
	res = h.sub(t, http.MethodPut, path, webhookSub(withOwn, other), nil)
	var added subscription
	res.decode(t, &added)
	if res.status != http.StatusOK || added.Methods[1].Secret != "" || !whsecRE.MatchString(added.Methods[2].Secret) {
		t.Fatalf("adding a webhook method: %d %s", res.status, res.body)
	}
}

func TestWebhookSecretRefusesGuessableSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b64 := func(key []byte) string { return "whsec_" + base64.StdEncoding.EncodeToString(key) }
	counting := make([]byte, 32)
	for i := range counting {
		counting[i] = byte(i)
	}
	for _, tc := range []struct{ name, secret string }{
		{"16 bytes", b64([]byte("\x8f\x1a\x9e\x03\xd2\x77\xc4\x5b\x0e\xe9\x61\xb8\x2c\xf4\x13\xa6"))},
		{"one byte repeated", b64(make([]byte, 32))},
		{"two distinct bytes", b64([]byte(strings.Repeat("\x00\xff", 16)))},
		{"a repeated sequence", b64([]byte(strings.Repeat("\x8f\x1a\x9e\x03\xd2\x77\xc4\x5b", 4)))},
		{"counting bytes", b64(counting)},
		{"a password", b64([]byte("my webhook secret, do not share"))},
		{"no whsec_ prefix", base64.StdEncoding.EncodeToString([]byte("\x8f\x1a\x9e\x03\xd2\x77\xc4\x5b\x0e\xe9\x61\xb8\x2c\xf4\x13\xa6\x7d\x58\xcb\x90\x3f\xe2\x46\x0b"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n", "secret": tc.secret}
			res := h.sub(t, http.MethodPost, "/v1/subscriptions", webhookSub(hook), nil)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", res.status, res.body)
			}
			p := res.problem(t)
			if p.Type != typeValidation || len(p.Errors) != 1 || p.Errors[0].Field != "/methods/1/secret" {
				t.Errorf("problem %+v, want one error at /methods/1/secret", p)
			}
			if strings.Contains(string(res.body), strings.TrimPrefix(tc.secret, "whsec_")) {
				t.Errorf("the problem quotes the secret: %s", res.body)
			}
		})
	}
	// Both a secret and rotate_secret, and rotate_secret elsewhere.
	for _, tc := range []struct {
		name   string
		method map[string]any
		field  string
	}{
		{"secret and rotate_secret", map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n",
			"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "rotate_secret": true}, "/methods/1/rotate_secret"},
		{"rotate_secret on sms", map[string]any{"channel": "sms", "address": "+14155550100", "rotate_secret": true}, "/methods/1/rotate_secret"},
	} {
		res := h.sub(t, http.MethodPost, "/v1/subscriptions", webhookSub(tc.method), nil)
		if p := res.problem(t); res.status != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, res.status, res.body, tc.field)
		}
	}
	if n := h.subscriptionRows(t); n != 0 {
		t.Errorf("%d subscriptions stored, want none", n)
	}
	// The Standard Webhooks example secret (24 random bytes) is fine.
	hook := map[string]any{"channel": "webhook", "address": "https://hooks.example.org/n", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if s := h.create(t, webhookSub(hook)); s.Methods[1].Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Errorf("a client's secret: %+v", s.Methods[1])
	}
}
