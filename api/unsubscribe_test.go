package api_test

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// oneClick is the body mail clients POST (RFC 8058).
const oneClick = "List-Unsubscribe=One-Click"

// twoMethodSub creates a subscription with an email and an SMS method.
func (h *harness) twoMethodSub(t *testing.T, principal string) subscription {
	t.Helper()
	s := h.create(t, map[string]any{"system": sysCal, "principal": principal,
		"methods": []map[string]any{
			{"channel": "email", "address": "fred@example.org"},
			{"channel": "sms", "address": "+14155550100"},
		}})
	if len(s.Methods) != 2 || !s.Methods[0].Enabled || !s.Methods[1].Enabled {
		t.Fatalf("created %+v", s)
	}
	return s
}

// unsubPage GETs the unsubscribe page of token (no API key).
func (h *harness) unsubPage(t *testing.T, token string) response {
	t.Helper()
	return h.do(t, request{method: http.MethodGet, path: "/v1/unsubscribe/" + token})
}

// unsubPost POSTs the one-click body to token (no API key).
func (h *harness) unsubPost(t *testing.T, token string) response {
	t.Helper()
	return h.do(t, request{method: http.MethodPost, path: "/v1/unsubscribe/" + token,
		body: strings.NewReader(oneClick), contentType: "application/x-www-form-urlencoded"})
}

// wantHTML fails t unless res is an HTML page with status.
func wantHTML(t *testing.T, res response, status int) string {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body %s", res.status, status, res.body)
	}
	mt, params, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
	if mt != "text/html" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q, want text/html; charset=utf-8", res.header.Get("Content-Type"))
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	body := string(res.body)
	if !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, "</html>") {
		t.Errorf("not an HTML page: %s", body)
	}
	return body
}

// wantNotFound fails t unless res is a 404 not-found problem.
func wantNotFound(t *testing.T, res response) {
	t.Helper()
	if res.status != http.StatusNotFound {
		t.Fatalf("status %d, want 404; body %s", res.status, res.body)
	}
	if p := res.problem(t); p.Type != typeNotFound {
		t.Errorf("problem %s", res.body)
	}
}

// sameExceptMethods compares two versions of a subscription but for the
// methods' enabled flags, the version and updated_at.
func sameExceptMethods(t *testing.T, got, want subscription) {
	t.Helper()
	g, w := got, want
	g.Version, w.Version, g.UpdatedAt, w.UpdatedAt = 0, 0, "", ""
	g.Methods, w.Methods = append([]method(nil), g.Methods...), append([]method(nil), w.Methods...)
	for i := range g.Methods {
		g.Methods[i].Enabled = false
	}
	for i := range w.Methods {
		w.Methods[i].Enabled = false
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("subscription changed beyond its methods' enabled flags:\n got %+v\nwant %+v", got, want)
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	token := h.token(t, s.ID, s.Methods[0].ID)

	// The page asks to confirm with a form POSTing back here, and
	// changes nothing: mail scanners follow links.
	for range 2 {
		body := wantHTML(t, h.unsubPage(t, token), http.StatusOK)
		if !strings.Contains(body, `<form method="post">`) ||
			!strings.Contains(body, `<input type="hidden" name="List-Unsubscribe" value="One-Click">`) ||
			!strings.Contains(body, `<button type="submit"`) {
			t.Errorf("page without a one-click form POSTing to itself: %s", body)
		}
	}
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, s) {
		t.Fatalf("GET changed the subscription: %+v, want %+v", got, s)
	}

	// POST disables method 0, and only it.
	body := wantHTML(t, h.unsubPost(t, token), http.StatusOK)
	if strings.Contains(body, "<form") {
		t.Errorf("the unsubscribed page offers a form: %s", body)
	}
	after := h.get(t, s.ID)
	if after.Methods[0].Enabled || !after.Methods[1].Enabled || !after.Enabled {
		t.Errorf("after unsubscribing method 0: enabled %v, methods %+v", after.Enabled, after.Methods)
	}
	if after.Version != s.Version+1 {
		t.Errorf("version %d, want %d", after.Version, s.Version+1)
	}
	if after.UpdatedAt == s.UpdatedAt {
		t.Errorf("updated_at unchanged")
	}
	sameExceptMethods(t, after, s)

	// Again: harmless, and no new version.
	wantHTML(t, h.unsubPost(t, token), http.StatusOK)
	if again := h.get(t, s.ID); !reflect.DeepEqual(again, after) {
		t.Errorf("second POST changed the subscription: %+v, want %+v", again, after)
	}
	// The page of a link already used still answers.
	wantHTML(t, h.unsubPage(t, token), http.StatusOK)

	// The other method's link, POSTed without a body, disables it too.
	res := h.do(t, request{method: http.MethodPost, path: "/v1/unsubscribe/" + h.token(t, s.ID, s.Methods[1].ID)})
	wantHTML(t, res, http.StatusOK)
	last := h.get(t, s.ID)
	if last.Methods[0].Enabled || last.Methods[1].Enabled || last.Version != s.Version+2 {
		t.Errorf("after unsubscribing method 1 without a body: version %d, methods %+v", last.Version, last.Methods)
	}
	sameExceptMethods(t, last, s)

	// The subscription is otherwise untouched by the API's listing.
	var list subscriptionList
	h.sub(t, http.MethodGet, "/v1/subscriptions", nil, nil).decode(t, &list)
	if len(list.Items) != 1 || !reflect.DeepEqual(list.Items[0], last) {
		t.Errorf("listing %+v, want %+v", list.Items, last)
	}
}

// The endpoints take no API key, and ignore one.
func TestUnsubscribeNeedsNoAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	token := h.token(t, s.ID, s.Methods[1].ID)
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Bearer " + apiKey}} {
		wantHTML(t, h.do(t, request{method: http.MethodGet, path: "/v1/unsubscribe/" + token, header: hdr}), http.StatusOK)
		wantHTML(t, h.do(t, request{method: http.MethodPost, path: "/v1/unsubscribe/" + token, header: hdr,
			body: strings.NewReader(oneClick), contentType: "application/x-www-form-urlencoded"}), http.StatusOK)
	}
	if got := h.get(t, s.ID); !got.Methods[0].Enabled || got.Methods[1].Enabled || got.Version != s.Version+1 {
		t.Errorf("methods %+v version %d", got.Methods, got.Version)
	}
}

// RFC 8058 lets mail clients send the body as multipart/form-data too.
func TestUnsubscribeMultipart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("List-Unsubscribe", "One-Click")
	w.Close()
	res := h.do(t, request{method: http.MethodPost, path: "/v1/unsubscribe/" + h.token(t, s.ID, s.Methods[0].ID),
		body: &buf, contentType: w.FormDataContentType()})
	wantHTML(t, res, http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled || !got.Methods[1].Enabled {
		t.Errorf("methods %+v", got.Methods)
	}
}

func TestUnsubscribeInvalidTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	token := h.token(t, s.ID, s.Methods[0].ID)
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || payload == "" || sig == "" {
		t.Fatalf("token %q: want payload.signature", token)
	}
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	// A token for another subscription, its payload with this signature.
	otherPayload, _, _ := strings.Cut(h.token(t, "0190a3c4-0000-7000-8000-000000000000", s.Methods[0].ID), ".")
	other := subscriptions.NewUnsubscriber(bytes.Repeat([]byte{7}, 32))
	for name, bad := range map[string]string{
		"signature's first char flipped": payload + "." + flip(sig, 0),
		"signature's middle flipped":     payload + "." + flip(sig, len(sig)/2),
		"payload's first char flipped":   flip(payload, 0) + "." + sig,
		"payload's last char flipped":    flip(payload, len(payload)-1) + "." + sig,
		"payload of another sub":         otherPayload + "." + sig,
		"signature truncated":            payload + "." + sig[:len(sig)-2],
		"signature doubled":              payload + "." + sig + sig,
		"no signature":                   payload + ".",
		"no dot":                         payload + sig,
		"only a signature":               "." + sig,
		"signed with another key":        other.Token(s.ID, notifyd.DeliveryMethod{ID: s.Methods[0].ID}),
		"not base64":                     "%21%21%21.%21%21%21",
		"garbage":                        "hello",
		"longer than the contract":       strings.Repeat("A", 600),
	} {
		t.Run(name, func(t *testing.T) {
			body := wantHTML(t, h.unsubPage(t, bad), http.StatusNotFound)
			if strings.Contains(body, "<form") {
				t.Errorf("404 page with a form: %s", body)
			}
			wantNotFound(t, h.unsubPost(t, bad))
		})
	}
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, s) {
		t.Errorf("invalid tokens changed the subscription: %+v, want %+v", got, s)
	}
}

// Genuine tokens for what is gone: 404, and nothing written.
func TestUnsubscribeGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	keep := h.twoMethodSub(t, "/p/keep")
	gone := h.twoMethodSub(t, "/p/gone")
	goneToken := h.token(t, gone.ID, gone.Methods[0].ID)
	wantHTML(t, h.unsubPage(t, goneToken), http.StatusOK)
	if res := h.sub(t, http.MethodDelete, "/v1/subscriptions/"+gone.ID, nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	// A method removed since the message was sent.
	trimmed := h.twoMethodSub(t, "/p/trimmed")
	res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+trimmed.ID, map[string]any{
		"methods": []map[string]any{{"channel": "email", "address": "fred@example.org"}}}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	removed := trimmed.Methods[1].ID
	res.decode(t, &trimmed)
	if len(trimmed.Methods) != 1 {
		t.Fatalf("patched methods %+v", trimmed.Methods)
	}
	for name, token := range map[string]string{
		"deleted subscription":        goneToken,
		"method removed since":        h.token(t, trimmed.ID, removed),
		"subscription that never was": h.token(t, "0190a3c4-0000-7000-8000-000000000000", keep.Methods[0].ID),
		"no such method":              h.token(t, keep.ID, "m_0000000000000000"),
		"method id of another shape":  h.token(t, keep.ID, "x"),
	} {
		t.Run(name, func(t *testing.T) {
			body := wantHTML(t, h.unsubPage(t, token), http.StatusNotFound)
			if strings.Contains(body, "<form") {
				t.Errorf("404 page with a form: %s", body)
			}
			wantNotFound(t, h.unsubPost(t, token))
		})
	}
	if got := h.get(t, keep.ID); !reflect.DeepEqual(got, keep) {
		t.Errorf("the remaining subscription changed: %+v, want %+v", got, keep)
	}
	if got := h.get(t, trimmed.ID); !reflect.DeepEqual(got, trimmed) {
		t.Errorf("the trimmed subscription changed: %+v, want %+v", got, trimmed)
	}
	if res := h.sub(t, http.MethodGet, "/v1/subscriptions/"+gone.ID, nil, nil); res.status != http.StatusNotFound {
		t.Errorf("the deleted subscription came back: %d %s", res.status, res.body)
	}
}

// With the database gone, unsubscribing is unavailable (503): the person
// must be able to tell it did not work.
func TestUnsubscribeUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	h.db.Close()
	res := h.unsubPost(t, h.token(t, s.ID, s.Methods[0].ID))
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d %s, want 503", res.status, res.body)
	}
	if p := res.problem(t); p.Type != typeUnavailable {
		t.Errorf("%s", res.body)
	}
}
