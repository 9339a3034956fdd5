package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/store"
)

// suppressionOut is a suppression as the API shows it.
type suppressionOut struct {
	ID        string `json:"id"`
	Channel   string `json:"channel"`
	Address   string `json:"address"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
	Actor     string `json:"actor"`
	ActorKind string `json:"actor_kind"`
	CreatedAt string `json:"created_at"`
}

// suppressionPages lists GET /v1/suppressions?query two at a time.
func suppressionPages(t *testing.T, h *harness, query string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := query + "&limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		res := h.do(t, request{method: http.MethodGet, path: "/v1/suppressions?" + q, bearer: roleKey(api.RoleViewer, "all")})
		if res.status != http.StatusOK {
			t.Fatalf("GET /v1/suppressions?%s: %d %s", q, res.status, res.body)
		}
		var page struct {
			Items      []suppressionOut `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		res.decode(t, &page)
		for _, s := range page.Items {
			out = append(out, s.Channel+":"+s.Address)
		}
		if cursor = page.NextCursor; cursor == "" || pages > 10 {
			return out
		}
	}
}

// An operator suppresses addresses (once: again answers what there is),
// lists them in pages with filters, and removes them by the address in
// the path, however spelled; every change is audited with its actor.
func TestSuppressionsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post := func(body string) response {
		t.Helper()
		return h.do(t, request{method: http.MethodPost, path: "/v1/suppressions", body: strings.NewReader(body), bearer: apiKey})
	}
	res := post(`{"channel":"email","address":"Wilma+Cal@Example.org","detail":"ticket 4711"}`)
	var s suppressionOut
	if res.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	res.decode(t, &s)
	if s.Address != "wilma+cal@example.org" || s.Reason != store.SuppressManual || s.Detail != "ticket 4711" ||
		s.ActorKind != store.ActorKindAPIKey || len(s.ID) != 32 || res.header.Get("Location") != "/v1/suppressions/email/wilma+cal@example.org" {
		t.Errorf("created %+v, Location %q", s, res.header.Get("Location"))
	}
	again := post(`{"channel":"email","address":"wilma+cal@example.org","reason":"complaint"}`)
	var s2 suppressionOut
	if again.status != http.StatusOK {
		t.Fatalf("POST again: %d %s", again.status, again.body)
	}
	again.decode(t, &s2)
	if s2 != s {
		t.Errorf("POST again answered %+v, want the first %+v", s2, s)
	}
	for _, body := range []string{`{"channel":"sms","address":"+14155550100","reason":"stop"}`,
		`{"channel":"sms","address":"+14155550199"}`, `{"channel":"email","address":"fred@example.net","reason":"hard_bounce"}`} {
		if res := post(body); res.status != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", body, res.status, res.body)
		}
	}

	for _, c := range []struct{ body, field string }{
		{`{"channel":"email","address":"not an address"}`, "/address"},
		{`{"channel":"sms","address":"4155550100"}`, "/address"},
		{`{"channel":"im","address":"wilma@example.org"}`, "/channel"},
		{`{"channel":"email","address":"w@example.org","reason":"bored"}`, "/reason"},
		{`{"channel":"email"}`, "/address"},
	} {
		res := post(c.body)
		if res.status != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", c.body, res.status)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !strings.Contains(string(res.body), c.field) {
			t.Errorf("POST %s: %s, want a validation problem naming %s", c.body, res.body, c.field)
		}
	}

	for q, want := range map[string]string{
		"":                        "email:wilma+cal@example.org sms:+14155550100 sms:+14155550199 email:fred@example.net",
		"channel=sms":             "sms:+14155550100 sms:+14155550199",
		"reason=manual":           "email:wilma+cal@example.org sms:+14155550199",
		"address_prefix=WILMA%2B": "email:wilma+cal@example.org",
		"address_prefix=%2B1415":  "sms:+14155550100 sms:+14155550199",
	} {
		if got := strings.Join(suppressionPages(t, h, q), " "); got != want {
			t.Errorf("?%s: %s, want %s", q, got, want)
		}
	}
	if res := h.do(t, request{method: http.MethodGet, path: "/v1/suppressions?cursor=nope", bearer: apiKey}); res.status != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d", res.status)
	}

	del := func(path string) int {
		return h.do(t, request{method: http.MethodDelete, path: path, bearer: apiKey}).status
	}
	if st := del("/v1/suppressions/email/Wilma+cal@example.org"); st != http.StatusNoContent {
		t.Errorf("DELETE: %d", st)
	}
	if st := del("/v1/suppressions/email/wilma+cal@example.org"); st != http.StatusNotFound {
		t.Errorf("DELETE again: %d, want 404", st)
	}
	if st := del("/v1/suppressions/sms/+14155550100"); st != http.StatusNoContent {
		t.Errorf("DELETE a phone number: %d", st)
	}
	if st := del("/v1/suppressions/webhook/x"); st != http.StatusNotFound && st != http.StatusBadRequest {
		t.Errorf("DELETE on a channel without a list: %d, want 404 or 400", st)
	}
	if got := strings.Join(suppressionPages(t, h, ""), " "); got != "sms:+14155550199 email:fred@example.net" {
		t.Errorf("after the removals: %s", got)
	}

	log, err := h.db.AuditEntries(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.ResourceType == store.AuditSuppression {
			got = append(got, e.Action+" "+e.ResourceID+" "+e.Actor.Name)
		}
	}
	want := "suppression.added email:wilma+cal@example.org key-1|suppression.added sms:+14155550100 key-1|" +
		"suppression.added sms:+14155550199 key-1|suppression.added email:fred@example.net key-1|" +
		"suppression.removed email:wilma+cal@example.org key-1|suppression.removed sms:+14155550100 key-1"
	if strings.Join(got, "|") != want {
		t.Errorf("audit\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

// POST /v1/suppressions takes JSON bodies of a sane size only; with the
// database gone the list is unavailable (503).
func TestSuppressionsBadBodiesAndUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"channel":"email","address":"w@example.org"}`
	if res := h.do(t, request{method: http.MethodPost, path: "/v1/suppressions", body: strings.NewReader(body), contentType: "text/plain",
		bearer: apiKey}); res.status != http.StatusUnsupportedMediaType || res.problem(t).Type != typeMediaType {
		t.Errorf("text/plain: %d %s", res.status, res.body)
	}
	huge := `{"channel":"email","address":"w@example.org","detail":"` + strings.Repeat("x", maxBody) + `"}`
	if res := h.do(t, request{method: http.MethodPost, path: "/v1/suppressions", body: strings.NewReader(huge),
		bearer: apiKey}); res.status != http.StatusRequestEntityTooLarge || res.problem(t).Type != typeTooLarge {
		t.Errorf("a huge body: %d %.200s", res.status, res.body)
	}
	h.db.Close()
	for _, r := range []request{
		{method: http.MethodGet, path: "/v1/suppressions", bearer: apiKey},
		{method: http.MethodPost, path: "/v1/suppressions", body: strings.NewReader(body), bearer: apiKey},
		{method: http.MethodDelete, path: "/v1/suppressions/email/w@example.org", bearer: apiKey},
	} {
		if res := h.do(t, r); res.status != http.StatusServiceUnavailable || res.problem(t).Type != typeUnavailable {
			t.Errorf("%s %s: %d %s, want 503", r.method, r.path, res.status, res.body)
		}
	}
}
