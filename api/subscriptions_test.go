package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// subscription is the API's Subscription.
type subscription struct {
	ID        string   `json:"id"`
	System    string   `json:"system"`
	Principal string   `json:"principal"`
	Enabled   bool     `json:"enabled"`
	Types     []string `json:"types"`
	Locale    string   `json:"locale"`
	TimeZone  string   `json:"time_zone"`
	Methods   []method `json:"methods"`
	// NotifyOwnChanges sends the principal its own changes too.
	NotifyOwnChanges bool `json:"notify_own_changes"`
	// Preferences are checked by preferences_test.go.
	Preferences json.RawMessage `json:"preferences,omitempty"`
	Version     int64           `json:"version"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
}

type method struct {
	ID       string   `json:"id"`
	Channel  string   `json:"channel"`
	Address  string   `json:"address"`
	Types    []string `json:"types"`
	Enabled  bool     `json:"enabled"`
	Presence string   `json:"presence,omitempty"`
	Secret   string   `json:"secret,omitempty"`
	// SecretSet and PreviousSecretExpiresAt are a webhook method's.
	SecretSet               bool   `json:"secret_set,omitempty"`
	PreviousSecretExpiresAt string `json:"previous_secret_expires_at,omitempty"`
}

// withoutSecrets is s as answers that did not set its secrets show it.
func withoutSecrets(s subscription) subscription {
	s.Methods = append([]method(nil), s.Methods...)
	for i := range s.Methods {
		s.Methods[i].Secret = ""
	}
	return s
}

type subscriptionList struct {
	Items      []subscription `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

// sub sends an authenticated subscriptions request.
func (h *harness) sub(t *testing.T, method, path string, body any, header map[string]string) response {
	t.Helper()
	req := request{method: method, path: path, bearer: apiKey, header: header}
	if body != nil {
		req.body = jsonBody(t, body)
	}
	return h.do(t, req)
}

// create creates a subscription, failing t unless it is created.
func (h *harness) create(t *testing.T, body any) subscription {
	t.Helper()
	res := h.sub(t, http.MethodPost, "/v1/subscriptions", body, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, want 201; body %s", res.status, res.body)
	}
	var s subscription
	res.decode(t, &s)
	if loc := res.header.Get("Location"); loc != "/v1/subscriptions/"+s.ID {
		t.Errorf("Location %q, want /v1/subscriptions/%s", loc, s.ID)
	}
	checkETag(t, res, s)
	return s
}

// get reads a subscription, failing t unless it is there.
func (h *harness) get(t *testing.T, id string) subscription {
	t.Helper()
	res := h.sub(t, http.MethodGet, "/v1/subscriptions/"+id, nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("get %s: status %d; body %s", id, res.status, res.body)
	}
	var s subscription
	res.decode(t, &s)
	checkETag(t, res, s)
	return s
}

func checkETag(t *testing.T, res response, s subscription) {
	t.Helper()
	if got, want := res.header.Get("ETag"), fmt.Sprintf(`"%d"`, s.Version); got != want {
		t.Errorf("ETag %s, want %s (the version)", got, want)
	}
}

func simpleSub(system, principal string) map[string]any {
	return map[string]any{"system": system, "principal": principal,
		"methods": []map[string]any{{"channel": "email", "address": "fred@example.org"}}}
}

var methodIDRE = regexp.MustCompile(`^m_[0-9a-f]{16}$`)

func TestSubscriptionsRequireAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t, simpleSub(sysCal, "/p/fred"))
	path := "/v1/subscriptions/" + s.ID
	ops := []struct{ method, path string }{
		{http.MethodPost, "/v1/subscriptions"},
		{http.MethodGet, "/v1/subscriptions"},
		{http.MethodGet, path},
		{http.MethodPut, path},
		{http.MethodPatch, path},
		{http.MethodDelete, path},
	}
	auths := map[string]map[string]string{
		"no Authorization":   nil,
		"wrong key":          {"Authorization": "Bearer not-a-key"},
		"ping token":         {"Authorization": "Bearer " + tokenCal},
		"empty bearer":       {"Authorization": "Bearer "},
		"basic auth":         {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+apiKey))},
		"key without Bearer": {"Authorization": apiKey},
		"key with suffix":    {"Authorization": "Bearer " + apiKey + "x"},
	}
	for name, hdr := range auths {
		for _, op := range ops {
			t.Run(name+" "+op.method+" "+op.path, func(t *testing.T) {
				req := request{method: op.method, path: op.path, header: hdr}
				switch op.method {
				case http.MethodPost, http.MethodPut:
					req.body = jsonBody(t, simpleSub(sysCal, "/p/jim"))
				case http.MethodPatch:
					req.body = jsonBody(t, map[string]any{"enabled": false})
				}
				res := h.do(t, req)
				if res.status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401; body %s", res.status, res.body)
				}
				if p := res.problem(t); p.Type != typeUnauthorized {
					t.Errorf("type %q", p.Type)
				}
				if c := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Bearer") {
					t.Errorf("WWW-Authenticate %q", c)
				}
			})
		}
	}
	// Nothing changed.
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, s) {
		t.Errorf("after refused requests: %+v, want %+v", got, s)
	}
	if n := h.subscriptionRows(t); n != 1 {
		t.Errorf("%d subscriptions, want 1", n)
	}
	// Every configured key works.
	res := h.do(t, request{method: http.MethodGet, path: "/v1/subscriptions", bearer: apiKey2})
	if res.status != http.StatusOK {
		t.Errorf("second key: %d", res.status)
	}
}

func TestSubscriptionRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := time.Now().UTC().Add(-time.Second)

	// Create: addresses normalised, defaults filled in.
	created := h.create(t, map[string]any{
		"system":    sysCal,
		"principal": "/principals/users/%7efred",
		"methods": []map[string]any{
			{"channel": "email", "address": "Fred@Example.ORG"},
			{"channel": "sms", "address": "+14155550100", "types": []string{"reminder"}},
			{"channel": "im", "address": "Fred@Jabber.Example.ORG/Phone", "enabled": false},
			{"channel": "webhook", "address": "https://Hooks.Example.COM/notify?x=1"},
		},
	})
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(created.ID) {
		t.Errorf("id %q, want a UUIDv7", created.ID)
	}
	want := subscription{
		ID: created.ID, System: sysCal, Principal: "/principals/users/~fred", Enabled: true, Types: []string{},
		Locale: "en", TimeZone: "UTC", Version: 1,
		Methods: []method{
			{Channel: "email", Address: "Fred@example.org", Types: []string{}, Enabled: true},
			{Channel: "sms", Address: "+14155550100", Types: []string{"reminder"}, Enabled: true},
			{Channel: "im", Address: "fred@jabber.example.org/Phone", Types: []string{}, Enabled: false, Presence: "online_only"},
			{Channel: "webhook", Address: "https://hooks.example.com/notify?x=1", Types: []string{}, Enabled: true},
		},
		CreatedAt: created.CreatedAt, UpdatedAt: created.CreatedAt,
	}
	ids := map[string]bool{}
	for i, m := range created.Methods {
		if !methodIDRE.MatchString(m.ID) || ids[m.ID] {
			t.Errorf("method %d id %q: want a distinct m_<16 hex>", i, m.ID)
		}
		ids[m.ID] = true
		if i < len(want.Methods) {
			want.Methods[i].ID = m.ID
		}
	}
	// The webhook method gets a generated Standard Webhooks secret.
	if sec := created.Methods[3].Secret; !regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`).MatchString(sec) {
		t.Errorf("webhook secret %q, want whsec_ and 32 random bytes in base64", sec)
	}
	want.Methods[3].Secret, want.Methods[3].SecretSet = created.Methods[3].Secret, true
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("created\n%+v\nwant\n%+v", created, want)
	}
	createdAt := parseTime(t, created.CreatedAt)
	if createdAt.Before(start) || createdAt.After(time.Now().Add(time.Second)) {
		t.Errorf("created_at %s is not now", created.CreatedAt)
	}

	// Get and list show the same, but the secret.
	if got := h.get(t, created.ID); !reflect.DeepEqual(got, withoutSecrets(created)) {
		t.Fatalf("get\n%+v\nwant\n%+v", got, withoutSecrets(created))
	}
	if l := h.list(t, "?system=cal"); len(l.Items) != 1 || !reflect.DeepEqual(l.Items[0], withoutSecrets(created)) || l.NextCursor != "" {
		t.Fatalf("list %+v", l)
	}

	// Replace: keep the email method (another spelling), drop sms and im,
	// change the rest.
	time.Sleep(2 * time.Millisecond)
	res := h.sub(t, http.MethodPut, "/v1/subscriptions/"+created.ID, map[string]any{
		"system": sysCal, "principal": "/principals/users/~fred", "enabled": false,
		"types": []string{"share-invite", "reminder"}, "locale": "fr-ca", "time_zone": "Europe/Paris",
		"methods": []map[string]any{
			{"channel": "webhook", "address": "https://hooks.example.com/other"},
			{"channel": "email", "address": "Fred@EXAMPLE.org", "types": []string{"share-invite"}},
		},
	}, map[string]string{"If-Match": `"1"`})
	if res.status != http.StatusOK {
		t.Fatalf("replace: %d %s", res.status, res.body)
	}
	var replaced subscription
	res.decode(t, &replaced)
	checkETag(t, res, replaced)
	want = subscription{
		ID: created.ID, System: sysCal, Principal: "/principals/users/~fred", Enabled: false,
		Types: []string{"share-invite", "reminder"}, Locale: "fr-CA", TimeZone: "Europe/Paris", Version: 2,
		Methods: []method{
			{ID: replaced.Methods[0].ID, Channel: "webhook", Address: "https://hooks.example.com/other", Types: []string{}, Enabled: true,
				Secret: replaced.Methods[0].Secret, SecretSet: true},
			{ID: created.Methods[0].ID, Channel: "email", Address: "Fred@example.org", Types: []string{"share-invite"}, Enabled: true},
		},
		CreatedAt: created.CreatedAt, UpdatedAt: replaced.UpdatedAt,
	}
	if replaced.Methods[0].Secret == "" || replaced.Methods[0].Secret == created.Methods[3].Secret {
		t.Errorf("the new webhook method's secret %q: want a fresh one", replaced.Methods[0].Secret)
	}
	if !reflect.DeepEqual(replaced, want) {
		t.Fatalf("replaced\n%+v\nwant\n%+v", replaced, want)
	}
	if replaced.Methods[0].ID == created.Methods[3].ID || !methodIDRE.MatchString(replaced.Methods[0].ID) {
		t.Errorf("a method with a new address kept the old id %q", replaced.Methods[0].ID)
	}
	if !parseTime(t, replaced.UpdatedAt).After(createdAt) {
		t.Errorf("updated_at %s not after created_at %s", replaced.UpdatedAt, created.CreatedAt)
	}
	if got := h.get(t, created.ID); !reflect.DeepEqual(got, withoutSecrets(replaced)) {
		t.Fatalf("get after replace\n%+v\nwant\n%+v", got, replaced)
	}

	// Replace leaving optional fields out resets them to their defaults.
	res = h.sub(t, http.MethodPut, "/v1/subscriptions/"+created.ID, map[string]any{
		"system": sysCal, "principal": "/principals/users/~fred",
		"methods": []map[string]any{{"channel": "email", "address": "Fred@example.org"}},
	}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("replace without If-Match: %d %s", res.status, res.body)
	}
	var reset subscription
	res.decode(t, &reset)
	if reset.Version != 3 || !reset.Enabled || reset.Locale != "en" || reset.TimeZone != "UTC" || len(reset.Types) != 0 ||
		len(reset.Methods) != 1 || reset.Methods[0].ID != created.Methods[0].ID {
		t.Fatalf("replace with defaults: %+v", reset)
	}

	// Merge patch: only the fields given change.
	res = h.do(t, request{method: http.MethodPatch, path: "/v1/subscriptions/" + created.ID, bearer: apiKey,
		contentType: "application/merge-patch+json", header: map[string]string{"If-Match": `"3"`},
		body: jsonBody(t, map[string]any{"locale": "de", "time_zone": "America/New_York", "types": []string{"reminder"}})})
	if res.status != http.StatusOK {
		t.Fatalf("merge patch: %d %s", res.status, res.body)
	}
	var patched subscription
	res.decode(t, &patched)
	checkETag(t, res, patched)
	want = reset
	want.Version, want.Locale, want.TimeZone, want.Types, want.UpdatedAt = 4, "de", "America/New_York", []string{"reminder"}, patched.UpdatedAt
	if !reflect.DeepEqual(patched, want) {
		t.Fatalf("patched\n%+v\nwant\n%+v", patched, want)
	}

	// The same with application/json, replacing the methods and
	// disabling the subscription.
	res = h.sub(t, http.MethodPatch, "/v1/subscriptions/"+created.ID, map[string]any{
		"enabled": false,
		"methods": []map[string]any{
			{"channel": "email", "address": "Fred@example.org", "enabled": false},
			{"channel": "sms", "address": "+33612345678"},
		},
	}, map[string]string{"If-Match": `"4"`})
	if res.status != http.StatusOK {
		t.Fatalf("json patch: %d %s", res.status, res.body)
	}
	var patched2 subscription
	res.decode(t, &patched2)
	want = patched
	want.Version, want.Enabled, want.UpdatedAt = 5, false, patched2.UpdatedAt
	want.Methods = []method{
		{ID: created.Methods[0].ID, Channel: "email", Address: "Fred@example.org", Types: []string{}, Enabled: false},
		{ID: patched2.Methods[1].ID, Channel: "sms", Address: "+33612345678", Types: []string{}, Enabled: true},
	}
	if !reflect.DeepEqual(patched2, want) {
		t.Fatalf("patched\n%+v\nwant\n%+v", patched2, want)
	}
	// An empty types list means all types.
	res = h.sub(t, http.MethodPatch, "/v1/subscriptions/"+created.ID, map[string]any{"types": []string{}}, nil)
	var patched3 subscription
	res.decode(t, &patched3)
	if res.status != http.StatusOK || patched3.Version != 6 || len(patched3.Types) != 0 || patched3.Locale != "de" {
		t.Fatalf("types []: %d %+v", res.status, patched3)
	}
	if got := h.get(t, created.ID); !reflect.DeepEqual(got, patched3) {
		t.Fatalf("get after patch\n%+v\nwant\n%+v", got, patched3)
	}

	// Delete.
	res = h.sub(t, http.MethodDelete, "/v1/subscriptions/"+created.ID, nil, map[string]string{"If-Match": `"6"`})
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("delete: %d %q", res.status, res.body)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		res = h.sub(t, m, "/v1/subscriptions/"+created.ID, nil, nil)
		if res.status != http.StatusNotFound || res.problem(t).Type != typeNotFound {
			t.Errorf("%s after delete: %d %s", m, res.status, res.body)
		}
	}
	if l := h.list(t, ""); len(l.Items) != 0 {
		t.Errorf("list after delete: %+v", l)
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	if v.Location() != time.UTC {
		t.Errorf("time %q is not UTC", s)
	}
	return v
}

// list lists subscriptions with query, failing t unless it answers 200.
func (h *harness) list(t *testing.T, query string) subscriptionList {
	t.Helper()
	res := h.sub(t, http.MethodGet, "/v1/subscriptions"+query, nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, res.status, res.body)
	}
	var l subscriptionList
	res.decode(t, &l)
	var raw map[string]json.RawMessage
	json.Unmarshal(res.body, &raw)
	if _, ok := raw["next_cursor"]; ok && l.NextCursor == "" {
		t.Errorf("list %s: next_cursor present but empty", query)
	}
	if l.Items == nil {
		t.Errorf("list %s: items missing or null", query)
	}
	return l
}

func TestSubscriptionValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	method := func(channel, address string) map[string]any {
		return map[string]any{"system": sysCal, "principal": "/p/fred",
			"methods": []map[string]any{{"channel": channel, "address": address}}}
	}
	with := func(k string, v any) map[string]any {
		m := simpleSub(sysCal, "/p/fred")
		m[k] = v
		return m
	}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"channel": "email", "address": fmt.Sprintf("u%d@example.org", i)}
	}
	tests := []struct {
		name   string
		body   any
		fields []string
	}{
		{"email without @", method("email", "fred.example.org"), []string{"/methods/0/address"}},
		{"email with display name", method("email", "Fred <fred@example.org>"), []string{"/methods/0/address"}},
		{"email with bad domain", method("email", "fred@exa_mple.org"), []string{"/methods/0/address"}},
		{"email with spaces", method("email", " fred@example.org"), []string{"/methods/0/address"}},
		{"sms without +", method("sms", "14155550100"), []string{"/methods/0/address"}},
		{"sms with spaces", method("sms", "+1 415 555 0100"), []string{"/methods/0/address"}},
		{"sms too long", method("sms", "+1234567890123456"), []string{"/methods/0/address"}},
		{"sms starting with 0", method("sms", "+0612345678"), []string{"/methods/0/address"}},
		{"im without local part", method("im", "jabber.example.org"), []string{"/methods/0/address"}},
		{"im with space", method("im", "wil ma@example.org"), []string{"/methods/0/address"}},
		{"im with bad domain", method("im", "wilma@exa mple.org"), []string{"/methods/0/address"}},
		{"webhook over http", method("webhook", "http://hooks.example.org/x"), []string{"/methods/0/address"}},
		{"webhook with credentials", method("webhook", "https://user:pw@hooks.example.org/x"), []string{"/methods/0/address"}},
		{"webhook with fragment", method("webhook", "https://hooks.example.org/x#f"), []string{"/methods/0/address"}},
		{"webhook without host", method("webhook", "https:///x"), []string{"/methods/0/address"}},
		{"unknown channel", method("pigeon", "coo"), []string{"/methods/0/channel"}},
		{"empty address", method("email", ""), []string{"/methods/0/address"}},
		{"unknown system", simpleSub("nosuch", "/p/fred"), []string{"/system"}},
		{"principal with scheme", simpleSub(sysCal, "http://cal.example.org/p/fred"), []string{"/principal"}},
		{"principal with dot-dot", simpleSub(sysCal, "/p/../admin"), []string{"/principal"}},
		{"principal relative", simpleSub(sysCal, "p/fred"), []string{"/principal"}},
		{"principal empty", simpleSub(sysCal, ""), []string{"/principal"}},
		{"bad time zone", with("time_zone", "Mars/Olympus_Mons"), []string{"/time_zone"}},
		{"time zone Local", with("time_zone", "Local"), []string{"/time_zone"}},
		{"bad locale", with("locale", "not a locale"), []string{"/locale"}},
		{"unknown notification type", with("types", []string{"reminder", "party"}), []string{"/types/1"}},
		{"duplicate types", with("types", []string{"reminder", "share-invite", "reminder"}), []string{"/types"}},
		{"enabled as a string", with("enabled", "yes"), []string{"/enabled"}},
		{"methods missing", map[string]any{"system": sysCal, "principal": "/p/fred"}, []string{"/methods"}},
		{"principal missing", map[string]any{"system": sysCal, "methods": []map[string]any{{"channel": "email", "address": "a@example.org"}}}, []string{"/principal"}},
		{"21 methods", map[string]any{"system": sysCal, "principal": "/p/fred", "methods": many}, []string{"/methods"}},
		{"method types duplicate", map[string]any{"system": sysCal, "principal": "/p/fred", "methods": []map[string]any{
			{"channel": "email", "address": "a@example.org", "types": []string{"reminder", "reminder"}}}}, []string{"/methods/0/types"}},
		{"two identical methods", map[string]any{"system": sysCal, "principal": "/p/fred", "methods": []map[string]any{
			{"channel": "email", "address": "fred@example.org"}, {"channel": "email", "address": "fred@example.org"}}}, []string{"/methods/1"}},
		{"two methods identical once normalised", map[string]any{"system": sysCal, "principal": "/p/fred", "methods": []map[string]any{
			{"channel": "sms", "address": "+14155550100"}, {"channel": "email", "address": "Fred@Example.ORG"}, {"channel": "email", "address": "Fred@example.org"}}}, []string{"/methods/2"}},
		{"every error at once", map[string]any{"system": "nosuch", "principal": "/p/%2e%2e", "time_zone": "Nowhere/Town", "methods": []map[string]any{
			{"channel": "email", "address": "nope"}, {"channel": "webhook", "address": "http://x.example.org/"}}},
			[]string{"/system", "/principal", "/time_zone", "/methods/0/address", "/methods/1/address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.sub(t, http.MethodPost, "/v1/subscriptions", tt.body, nil)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", res.status, res.body)
			}
			p := res.problem(t)
			if p.Type != typeValidation {
				t.Errorf("type %q", p.Type)
			}
			if got := p.fields(); !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields %q, want %q; body %s", got, tt.fields, res.body)
			}
			for _, e := range p.Errors {
				if e.Detail == "" {
					t.Errorf("field %s without detail", e.Field)
				}
			}
		})
	}
	if n := h.subscriptionRows(t); n != 0 {
		t.Fatalf("%d subscriptions stored by invalid requests", n)
	}

	// The same checks apply to replace and patch, and change nothing.
	s := h.create(t, simpleSub(sysCal, "/p/fred"))
	for _, tt := range []struct {
		method string
		body   any
		field  string
	}{
		{http.MethodPut, method("sms", "555-0100"), "/methods/0/address"},
		{http.MethodPut, simpleSub("nosuch", "/p/fred"), "/system"},
		{http.MethodPatch, map[string]any{"time_zone": "Mars/Olympus_Mons"}, "/time_zone"},
		{http.MethodPatch, map[string]any{"locale": "!!"}, "/locale"},
		{http.MethodPatch, map[string]any{"methods": []map[string]any{{"channel": "webhook", "address": "http://x.example.org/"}}}, "/methods/0/address"},
		{http.MethodPatch, map[string]any{"system": "other"}, "/system"},
		{http.MethodPatch, map[string]any{"principal": "/p/jim"}, "/principal"},
		{http.MethodPatch, map[string]any{}, ""},
		{http.MethodPatch, map[string]any{"types": []string{"nope"}}, "/types/0"},
	} {
		res := h.sub(t, tt.method, "/v1/subscriptions/"+s.ID, tt.body, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s %v: status %d, want 400; body %s", tt.method, tt.body, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !p.hasField(tt.field) {
			t.Errorf("%s %v: problem %s, want field %q", tt.method, tt.body, res.body, tt.field)
		}
	}
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, s) {
		t.Fatalf("after refused changes\n%+v\nwant\n%+v", got, s)
	}
}

func TestSubscriptionPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var all []string
	byPrincipal := map[string][]string{}
	for i := range 25 {
		p := fmt.Sprintf("/p/u%d", i%3)
		s := h.create(t, simpleSub(sysCal, p))
		all = append(all, s.ID)
		byPrincipal[p] = append(byPrincipal[p], s.ID)
	}
	var others []string
	for range 5 {
		others = append(others, h.create(t, simpleSub(sysOther, "/p/u0")).ID)
	}

	page := func(query string) ([]string, string) {
		t.Helper()
		l := h.list(t, query)
		ids := make([]string, len(l.Items))
		for i, s := range l.Items {
			ids[i] = s.ID
		}
		return ids, l.NextCursor
	}
	walk := func(query string, limit int) ([]string, []int) {
		t.Helper()
		var ids []string
		var sizes []int
		cursor := ""
		for range 100 {
			q := fmt.Sprintf("?limit=%d%s", limit, query)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			got, next := page(q)
			ids = append(ids, got...)
			sizes = append(sizes, len(got))
			if next == "" {
				return ids, sizes
			}
			cursor = next
		}
		t.Fatalf("%s: the pages never end", query)
		return nil, nil
	}

	// 25 by 10: 10, 10, 5, oldest first, no overlap, no gap.
	ids, sizes := walk("&system=cal", 10)
	if !reflect.DeepEqual(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	if !reflect.DeepEqual(ids, all) {
		t.Errorf("pages\n%q\nwant, in creation order\n%q", ids, all)
	}
	// A page that ends exactly at the end has no next_cursor.
	if _, sizes := walk("&system=cal", 5); !reflect.DeepEqual(sizes, []int{5, 5, 5, 5, 5}) {
		t.Errorf("by 5: page sizes %v, want five pages of 5 and no empty one", sizes)
	}
	// Without filters: every subscription, once.
	if ids, _ := walk("", 7); !reflect.DeepEqual(ids, append(append([]string{}, all...), others...)) {
		t.Errorf("unfiltered pages: %d ids", len(ids))
	}
	// The default limit is 100.
	if ids, next := page(""); len(ids) != 30 || next != "" {
		t.Errorf("default page: %d items, next %q", len(ids), next)
	}
	if ids, next := page("?system=other"); !reflect.DeepEqual(ids, others) || next != "" {
		t.Errorf("system=other: %q next %q", ids, next)
	}
	if ids, next := page("?system=nosuch"); len(ids) != 0 || next != "" {
		t.Errorf("system=nosuch: %q next %q", ids, next)
	}
	// Filters by principal, also spelt differently, and combined.
	if ids, _ := walk("&system=cal&principal=/p/u1", 2); !reflect.DeepEqual(ids, byPrincipal["/p/u1"]) {
		t.Errorf("principal /p/u1: %q, want %q", ids, byPrincipal["/p/u1"])
	}
	if ids, _ := page("?system=cal&principal=" + url.QueryEscape("/p/%75%32")); !reflect.DeepEqual(ids, byPrincipal["/p/u2"]) {
		t.Errorf("principal /p/%%75%%32: %q, want %q", ids, byPrincipal["/p/u2"])
	}
	if ids, _ := page("?principal=/p/u0"); !reflect.DeepEqual(ids, append(append([]string{}, byPrincipal["/p/u0"]...), others...)) {
		t.Errorf("principal /p/u0 across systems: %q", ids)
	}

	// Bad queries.
	for _, tt := range []struct{ query, field string }{
		{"?cursor=" + url.QueryEscape("!!not a cursor!!"), "query.cursor"},
		{"?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("garbage")), "query.cursor"},
		{"?cursor=" + strings.Repeat("A", 65), "query.cursor"},
		{"?limit=0", "query.limit"},
		{"?limit=501", "query.limit"},
		{"?limit=ten", "query.limit"},
		{"?limit=-1", "query.limit"},
		{"?system=" + strings.Repeat("s", 65), "query.system"},
		{"?principal=" + url.QueryEscape("/p/../admin"), "query.principal"},
		{"?principal=relative", "query.principal"},
	} {
		res := h.sub(t, http.MethodGet, "/v1/subscriptions"+tt.query, nil, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %.300s", tt.query, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !p.hasField(tt.field) {
			t.Errorf("%s: %s, want field %s", tt.query, res.body, tt.field)
		}
	}
}

func TestSubscriptionIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t, simpleSub(sysCal, "/p/fred"))
	path := "/v1/subscriptions/" + s.ID
	patch := func(ifMatch string, body any) response {
		hdr := map[string]string{}
		if ifMatch != "" {
			hdr["If-Match"] = ifMatch
		}
		return h.sub(t, http.MethodPatch, path, body, hdr)
	}
	// Move to version 2.
	if res := patch(`"1"`, map[string]any{"locale": "fr"}); res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	v2 := h.get(t, s.ID)
	if v2.Version != 2 {
		t.Fatalf("version %d", v2.Version)
	}

	// A stale or foreign ETag changes nothing.
	for _, stale := range []string{`"1"`, `"3"`, `W/"2"`, `"abc"`, `2`, `""`, `"0"`} {
		hdr := map[string]string{"If-Match": stale}
		for _, req := range []struct {
			method string
			body   any
		}{
			{http.MethodPut, simpleSub(sysCal, "/p/jim")},
			{http.MethodPatch, map[string]any{"locale": "de"}},
			{http.MethodDelete, nil},
		} {
			res := h.sub(t, req.method, path, req.body, hdr)
			if res.status != http.StatusPreconditionFailed {
				t.Errorf("%s If-Match %s: status %d, want 412; body %s", req.method, stale, res.status, res.body)
				continue
			}
			if p := res.problem(t); p.Type != typePrecondition {
				t.Errorf("%s If-Match %s: type %q", req.method, stale, p.Type)
			}
		}
	}
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, v2) {
		t.Fatalf("after 412s\n%+v\nwant\n%+v", got, v2)
	}

	// The current ETag, *, or none: the change is made.
	if res := patch(`"2"`, map[string]any{"locale": "de"}); res.status != http.StatusOK || res.header.Get("ETag") != `"3"` {
		t.Fatalf("If-Match current: %d ETag %s", res.status, res.header.Get("ETag"))
	}
	if res := patch("*", map[string]any{"locale": "it"}); res.status != http.StatusOK || res.header.Get("ETag") != `"4"` {
		t.Fatalf("If-Match *: %d ETag %s", res.status, res.header.Get("ETag"))
	}
	if res := patch("", map[string]any{"locale": "es"}); res.status != http.StatusOK || res.header.Get("ETag") != `"5"` {
		t.Fatalf("no If-Match: %d ETag %s", res.status, res.header.Get("ETag"))
	}
	res := h.sub(t, http.MethodPut, path, simpleSub(sysCal, "/p/jim"), map[string]string{"If-Match": `"5"`})
	if res.status != http.StatusOK || res.header.Get("ETag") != `"6"` {
		t.Fatalf("PUT If-Match current: %d ETag %s", res.status, res.header.Get("ETag"))
	}
	res = h.sub(t, http.MethodPut, path, simpleSub(sysCal, "/p/jim"), map[string]string{"If-Match": "*"})
	if res.status != http.StatusOK || res.header.Get("ETag") != `"7"` {
		t.Fatalf("PUT If-Match *: %d ETag %s", res.status, res.header.Get("ETag"))
	}
	if got := h.get(t, s.ID); got.Locale != "en" || got.Principal != "/p/jim" || got.Version != 7 {
		t.Fatalf("after changes: %+v", got)
	}
	res = h.sub(t, http.MethodDelete, path, nil, map[string]string{"If-Match": `"7"`})
	if res.status != http.StatusNoContent {
		t.Fatalf("DELETE If-Match current: %d %s", res.status, res.body)
	}

	// DELETE with * and without If-Match.
	for _, im := range []string{"*", ""} {
		s := h.create(t, simpleSub(sysCal, "/p/fred"))
		hdr := map[string]string{}
		if im != "" {
			hdr["If-Match"] = im
		}
		if res := h.sub(t, http.MethodDelete, "/v1/subscriptions/"+s.ID, nil, hdr); res.status != http.StatusNoContent {
			t.Errorf("DELETE If-Match %q: %d %s", im, res.status, res.body)
		}
	}
	if n := h.subscriptionRows(t); n != 0 {
		t.Errorf("%d subscriptions left", n)
	}
}

func TestSubscriptionNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, simpleSub(sysCal, "/p/fred"))
	for _, id := range []string{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "nope", "%2e%2e", strings.Repeat("f", 64),
		// Too long to be an id: the contract's parameter refuses it.
		strings.Repeat("f", 65), strings.Repeat("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 20)} {
		for _, req := range []struct {
			method string
			body   any
		}{
			{http.MethodGet, nil},
			{http.MethodPut, simpleSub(sysCal, "/p/jim")},
			{http.MethodPatch, map[string]any{"locale": "de"}},
			{http.MethodDelete, nil},
		} {
			res := h.sub(t, req.method, "/v1/subscriptions/"+id, req.body, nil)
			if res.status != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404; body %s", req.method, id, res.status, res.body)
				continue
			}
			if p := res.problem(t); p.Type != typeNotFound {
				t.Errorf("%s %s: type %q", req.method, id, p.Type)
			}
		}
	}
	if n := h.subscriptionRows(t); n != 1 {
		t.Errorf("%d subscriptions, want 1", n)
	}
}

// Bodies of replace and patch are held to the same size and media type
// rules as the others.
func TestSubscriptionBodyLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t, simpleSub(sysCal, "/p/fred"))
	path := "/v1/subscriptions/" + s.ID
	big := `{"system":"cal","principal":"/p/` + strings.Repeat("a", maxBody) + `","methods":[]}`
	for _, m := range []string{http.MethodPut, http.MethodPatch} {
		res := h.do(t, request{method: m, path: path, bearer: apiKey, body: strings.NewReader(big)})
		if res.status != http.StatusRequestEntityTooLarge || res.problem(t).Type != typeTooLarge {
			t.Errorf("%s big: %d %s", m, res.status, res.body)
		}
		res = h.do(t, request{method: m, path: path, bearer: apiKey, body: strings.NewReader(`{"locale":"de"}`), contentType: "text/plain"})
		if res.status != http.StatusUnsupportedMediaType || res.problem(t).Type != typeMediaType {
			t.Errorf("%s text/plain: %d %s", m, res.status, res.body)
		}
		res = h.do(t, request{method: m, path: path, bearer: apiKey, body: strings.NewReader(`{"locale":`)})
		if res.status != http.StatusBadRequest || res.problem(t).Type != typeMalformed {
			t.Errorf("%s malformed: %d %s", m, res.status, res.body)
		}
	}
	// Merge patch is for PATCH only.
	res := h.do(t, request{method: http.MethodPut, path: path, bearer: apiKey, body: jsonBody(t, simpleSub(sysCal, "/p/fred")),
		contentType: "application/merge-patch+json"})
	if res.status != http.StatusUnsupportedMediaType {
		t.Errorf("PUT merge-patch: %d %s", res.status, res.body)
	}
	// A charset parameter is fine.
	res = h.do(t, request{method: http.MethodPatch, path: path, bearer: apiKey, body: strings.NewReader(`{"locale":"de"}`),
		contentType: "application/json; charset=utf-8"})
	if res.status != http.StatusOK {
		t.Errorf("PATCH with charset: %d %s", res.status, res.body)
	}
	if got := h.get(t, s.ID); got.Version != 2 || got.Locale != "de" {
		t.Errorf("after: %+v", got)
	}
}
