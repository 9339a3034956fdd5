package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// auditEntry is an entry of GET /v1/audit.
type auditEntry struct {
	ID           string          `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	ActorKind    string          `json:"actor_kind"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	System       string          `json:"system"`
	Principal    string          `json:"principal"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
}

// audit lists the whole audit trail matching query with bearer, a page of
// limit at a time.
func (h *harness) audit(t *testing.T, bearer, query string) []auditEntry {
	t.Helper()
	var out []auditEntry
	cursor := ""
	for {
		q := query + "&limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		res := h.do(t, request{method: http.MethodGet, path: "/v1/audit?" + q, bearer: bearer})
		if res.status != http.StatusOK {
			t.Fatalf("GET /v1/audit?%s: %d %s", q, res.status, res.body)
		}
		var page struct {
			Items      []auditEntry `json:"items"`
			NextCursor string       `json:"next_cursor"`
		}
		res.decode(t, &page)
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
}

// field reads a member of an entry's before or after ("" for null).
func field(t *testing.T, raw json.RawMessage, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			v = x[p[0]-'0']
		default:
			return nil
		}
	}
	return v
}

// TestAuditScriptedSession makes changes with several keys, through the
// one-click unsubscribe and the preference page, and refused ones, and
// checks the audit trail: exactly the changes made, in order, with who,
// what and before/after; and its filters and scope.
func TestAuditScriptedSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	do := func(bearer, method, path string, body any, want int) response {
		t.Helper()
		req := request{method: method, path: path, bearer: bearer}
		if body != nil {
			req.body = jsonBody(t, body)
		}
		if method == http.MethodPatch {
			req.contentType = "application/merge-patch+json"
		}
		res := h.do(t, req)
		if res.status != want {
			t.Fatalf("%s %s with %.12s: %d, want %d: %s", method, path, bearer, res.status, want, res.body)
		}
		return res
	}
	opIn, opAll, adminIn := roleKey("operator", "in"), roleKey("operator", "all"), roleKey("admin", "in")

	// 1. An operator scoped to cal creates a subscription.
	var sub subscription
	do(opIn, "POST", "/v1/subscriptions", map[string]any{"system": sysCal, "principal": "/principals/wilma/",
		"methods": []map[string]any{{"channel": "email", "address": "wilma@example.org"}, {"channel": "webhook", "address": "https://hooks.example.org/w"}}},
		201).decode(t, &sub)
	path := "/v1/subscriptions/" + sub.ID
	// 2. An admin key of api_keys changes its locale.
	do(apiKey, "PATCH", path, map[string]any{"locale": "fr"}, 200)
	// 3. The recipient unsubscribes the email method with one click.
	h.do(t, request{method: "POST", path: "/v1/unsubscribe/" + h.token(t, sub.ID, sub.Methods[0].ID),
		contentType: "application/x-www-form-urlencoded", body: strings.NewReader("List-Unsubscribe=One-Click")})
	// 4. The recipient stops everything on the preference page.
	token, _ := h.prefLinks.Token(sub.ID)
	form := url.Values{"csrf": {h.prefLinks.FormToken(token)}, "action": {"unsubscribe"}, "lang": {"en"}}
	if res := h.page(t, http.MethodPost, token, form, nil); res.status != http.StatusSeeOther {
		t.Fatalf("preference page: %d %s", res.status, res.body)
	}
	// 5, 6. Preference links issued, then revoked.
	do(opIn, "POST", path+"/preference-links", nil, 201)
	do(opAll, "POST", path+"/preference-links/revoke", nil, 200)
	// 7, 8. Dead letters retried and discarded.
	retried, discarded := h.seedFailed(t, sysCal, "r"), h.seedFailed(t, sysCal, "d")
	do(adminIn, "POST", "/v1/dead-letters/"+retried+"/retry", nil, 202)
	do(opAll, "DELETE", "/v1/dead-letters/"+discarded, nil, 204)
	// Refused: a viewer's change, another system's operator's, a wrong
	// version. None is recorded.
	do(roleKey("viewer", "all"), "PATCH", path, map[string]any{"locale": "de"}, 403)
	do(roleKey("operator", "out"), "DELETE", path, nil, 404)
	do(opAll, "POST", "/v1/dead-letters/"+discarded+"/retry", nil, 409)
	// 9. Another admin key deletes the subscription.
	do(apiKey2, "DELETE", path, nil, 204)

	got := h.audit(t, apiKey, "")
	type line struct{ actor, kind, action, resource string }
	want := []line{
		{"operator-in", "api_key", "subscription.created", sub.ID},
		{"key-1", "api_key", "subscription.updated", sub.ID},
		{"recipient via signed link", "recipient", "subscription.unsubscribed", sub.ID},
		{"recipient via signed link", "recipient", "subscription.updated", sub.ID},
		{"operator-in", "api_key", "preference_link.issued", sub.ID},
		{"operator-all", "api_key", "preference_links.revoked", sub.ID},
		{"admin-in", "api_key", "dead_letter.retried", retried},
		{"operator-all", "api_key", "dead_letter.discarded", discarded},
		{"key-2", "api_key", "subscription.deleted", sub.ID},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if (line{g.Actor, g.ActorKind, g.Action, g.ResourceID}) != w {
			t.Errorf("entry %d: %s %s %s %s, want %+v", i, g.Actor, g.ActorKind, g.Action, g.ResourceID, w)
		}
		if g.System != sysCal {
			t.Errorf("entry %d: system %q", i, g.System)
		}
		if i > 0 && g.At.Before(got[i-1].At) {
			t.Errorf("entry %d is older than the one before", i)
		}
	}
	check := func(i int, raw json.RawMessage, want any, path ...string) {
		t.Helper()
		if g := field(t, raw, path...); g != want {
			t.Errorf("entry %d (%s) %v: %v, want %v", i, got[i].Action, path, g, want)
		}
	}
	check(0, got[0].Before, nil)
	check(0, got[0].After, "en", "locale")
	check(0, got[0].After, "/principals/wilma/", "principal")
	check(0, got[0].After, true, "methods", "1", "secret_set")
	check(0, got[0].After, nil, "methods", "1", "secret") // never the secret
	check(1, got[1].Before, "en", "locale")
	check(1, got[1].After, "fr", "locale")
	check(1, got[1].Before, float64(1), "version")
	check(1, got[1].After, float64(2), "version")
	check(2, got[2].Before, true, "methods", "0", "enabled")
	check(2, got[2].After, false, "methods", "0", "enabled")
	check(3, got[3].Before, true, "enabled")
	check(3, got[3].After, false, "enabled")
	check(4, got[4].Before, nil)
	check(5, got[5].Before, nil)
	check(6, got[6].Before, "failed", "status")
	check(6, got[6].After, "queued", "status")
	check(7, got[7].After, "discarded", "status")
	check(8, got[8].Before, false, "enabled")
	check(8, got[8].After, nil)
	if g := got[6].Principal; g != alice {
		t.Errorf("dead letter principal %q", g)
	}
	for i, e := range got {
		if strings.Contains(string(e.Before)+string(e.After), "whsec_") {
			t.Errorf("entry %d shows a webhook secret", i)
		}
	}

	// Filters.
	count := func(bearer, query string, want int) {
		t.Helper()
		if n := len(h.audit(t, bearer, query)); n != want {
			t.Errorf("?%s with %.12s: %d entries, want %d", query, bearer, n, want)
		}
	}
	count(apiKey, "actor=operator-in", 2)
	count(apiKey, "actor=recipient+via+signed+link", 2)
	count(apiKey, "action=subscription.updated", 2)
	count(apiKey, "principal=%2Fprincipals%2Fwilma%2F", 7)
	count(apiKey, "resource_id="+retried, 1)
	count(apiKey, "system="+sysOther, 0)
	count(apiKey, "from="+url.QueryEscape(got[3].At.Format(time.RFC3339Nano)), 6)
	count(apiKey, "to="+url.QueryEscape(got[3].At.Format(time.RFC3339Nano)), 3)
	// Scope: every role reads it, within its systems.
	count(roleKey("viewer", "in"), "", 9)
	count(roleKey("viewer", "out"), "", 0)
	count(roleKey("viewer", "out"), "system="+sysCal, 0)

	if res := h.do(t, request{method: "GET", path: "/v1/audit?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", bearer: apiKey}); res.status != 400 {
		t.Errorf("to before from: %d", res.status)
	}
	h.db.Close()
	if res := h.do(t, request{method: "GET", path: "/v1/audit", bearer: apiKey}); res.status != http.StatusServiceUnavailable {
		t.Errorf("database closed: %d %s", res.status, res.body)
	}
}
