package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/store"
)

// flakyPrefStore is the preference page's store, failing while fail is
// set (the database unreachable).
type flakyPrefStore struct {
	api.PreferenceStore
	fail atomic.Bool
}

var errDown = errors.New("database down")

func (f *flakyPrefStore) PreferenceLinksRevokedAt(ctx context.Context, id string) (time.Time, error) {
	if f.fail.Load() {
		return time.Time{}, errDown
	}
	return f.PreferenceStore.PreferenceLinksRevokedAt(ctx, id)
}

func (f *flakyPrefStore) RecentDeliveries(ctx context.Context, system, principal, id string, limit int) ([]store.RecentDelivery, error) {
	if f.fail.Load() {
		return nil, errDown
	}
	return f.PreferenceStore.RecentDeliveries(ctx, system, principal, id, limit)
}

// prefCSPWant is the preference page's policy.
const prefCSPWant = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page sends a request to the preference page without following
// redirects (a post answers 303).
func (h *harness) page(t *testing.T, method, token string, form url.Values, header map[string]string) response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r, err := http.NewRequest(method, h.srv.URL+"/preferences/"+token, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	c := *h.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("X-Contract-Violation") != "" {
		t.Errorf("%s /preferences/…: the response breaks openapi.yaml", method)
	}
	if res.StatusCode != http.StatusSeeOther {
		if got := res.Header.Get("Content-Security-Policy"); got != prefCSPWant {
			t.Errorf("%s: CSP %q, want %q", method, got, prefCSPWant)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", method, cc)
		}
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("%s: sets cookies %q; the page needs none", method, sc)
	}
	return response{status: res.StatusCode, header: res.Header, body: buf}
}

// prefSub creates a subscription with two methods for the page.
func (h *harness) prefSub(t *testing.T, locale string) subscription {
	t.Helper()
	return h.create(t, map[string]any{"system": sysCal, "principal": "/principals/wilma/", "locale": locale,
		"time_zone": "Europe/Paris",
		"methods": []map[string]any{
			{"channel": "email", "address": "wilma@example.org"},
			{"channel": "sms", "address": "+33612345678", "types": []string{"reminder", "invitation"}},
		}})
}

// saveForm is a valid post of the settings form of sub opened with token:
// what the page shows, with quiet hours and a daily digest.
func (h *harness) saveForm(sub subscription, token string) url.Values {
	v := url.Values{
		"csrf": {h.prefLinks.FormToken(token)}, "action": {"save"}, "lang": {"en"},
		"version":                {strconv.FormatInt(sub.Version, 10)},
		"on":                     {sub.Methods[0].ID, sub.Methods[1].ID},
		"t-" + sub.Methods[0].ID: {"share-invite", "reminder", "event-modified"},
		"t-" + sub.Methods[1].ID: {"reminder"},
		"digest_mode":            {"daily"}, "digest_at": {"08:30"}, "digest_window": {"1h"},
		"qh_rows": {"3"}, "qh0_from": {"22:00"}, "qh0_to": {"07:00"},
		"qh1_days": {"sat", "sun"}, "qh1_from": {"00:00"}, "qh1_to": {"24:00"},
		"throttle_max": {"5"}, "throttle_per": {"1h"},
		"time_zone": {"America/New_York"}, "locale": {"fr"},
	}
	return v
}

func TestPreferencePageShowsAndSaves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	token, _ := h.prefLinks.Token(sub.ID)

	res := h.page(t, http.MethodGet, token, nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET: %d %s", res.status, res.body)
	}
	body := string(res.body)
	for _, want := range []string{`lang="en"`, "Your calendar notifications", "wilma@example.org", "33612345678",
		`name="csrf" value="` + h.prefLinks.FormToken(token) + `"`, `href="../assets/preferences.css"`, "Quiet hours",
		"No message yet."} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "style=", "onclick"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has %q: the CSP would refuse it", bad)
		}
	}
	// The SMS method gets only its two types.
	if !strings.Contains(body, `value="reminder" id="t-`+sub.Methods[1].ID+`-reminder" aria-labelledby="row-reminder col-`+sub.Methods[1].ID+`" checked`) ||
		strings.Contains(body, `id="t-`+sub.Methods[1].ID+`-share-invite" aria-labelledby="row-share-invite col-`+sub.Methods[1].ID+`" checked`) {
		t.Errorf("the type grid does not show the SMS method's types")
	}

	res = h.page(t, http.MethodPost, token, h.saveForm(sub, token), nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	if loc := res.header.Get("Location"); !strings.Contains(loc, "done=saved") {
		t.Errorf("Location %q", loc)
	}
	got := h.get(t, sub.ID)
	var prefs map[string]any
	json.Unmarshal(got.Preferences, &prefs)
	wantPrefs := `{"digest":{"at":"08:30","mode":"daily"},"quiet_hours":[{"from":"22:00","to":"07:00"},{"days":["sat","sun"],"from":"00:00","to":"24:00"}],"throttle":{"max":5,"per":"1h"}}`
	if b, _ := json.Marshal(prefs); string(b) != wantPrefs {
		t.Errorf("stored preferences %s, want %s", b, wantPrefs)
	}
	if got.TimeZone != "America/New_York" || got.Locale != "fr" {
		t.Errorf("time zone %q locale %q", got.TimeZone, got.Locale)
	}
	if strings.Join(got.Methods[0].Types, ",") != "share-invite,reminder,event-modified" ||
		strings.Join(got.Methods[1].Types, ",") != "reminder" {
		t.Errorf("method types %v / %v", got.Methods[0].Types, got.Methods[1].Types)
	}

	// The page now shows it, in the subscription's new language.
	res = h.page(t, http.MethodGet, token+"?done=saved", nil, nil)
	body = string(res.body)
	for _, want := range []string{`lang="fr"`, "Vos réglages sont enregistrés.", `value="08:30"`, `value="22:00"`, `value="24:00"`,
		`value="America/New_York"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page after saving lacks %q", want)
		}
	}
	// The language switch and Accept-Language.
	if res := h.page(t, http.MethodGet, token+"?lang=en", nil, nil); !strings.Contains(string(res.body), `lang="en"`) {
		t.Errorf("?lang=en did not switch to English")
	}
}

func TestPreferencePageLanguageFromBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "de")
	token, _ := h.prefLinks.Token(sub.ID)
	res := h.page(t, http.MethodGet, token, nil, map[string]string{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
	if !strings.Contains(string(res.body), `<html lang="fr">`) || !strings.Contains(string(res.body), "Heures de silence") {
		t.Errorf("a German subscription opened by a French browser is not in French")
	}
	// Its own locale stays a choice of the language select.
	if !strings.Contains(string(res.body), `<option value="de" selected>de</option>`) {
		t.Errorf("the subscription's locale de is not kept in the select")
	}
}

func TestPreferencePageFieldErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "fr")
	token, _ := h.prefLinks.Token(sub.ID)
	before := h.get(t, sub.ID)

	for name, c := range map[string]struct {
		set   map[string]string
		field string
		want  string
	}{
		"bad time":          {map[string]string{"qh0_to": "25:00"}, "qh0_to", "HH:MM"},
		"window not a day":  {map[string]string{"digest_mode": "window", "digest_window": "7m"}, "digest_window", "Refusé"},
		"unknown time zone": {map[string]string{"time_zone": "Mars/Olympus"}, "time_zone", "IANA"},
		"no quiet left":     {map[string]string{"qh0_from": "00:00", "qh0_to": "24:00"}, "quiet_hours", "Refusé"},
		"throttle words":    {map[string]string{"throttle_max": "five"}, "throttle_max", "nombre entier"},
		"nothing ticked":    {map[string]string{"t-" + sub.Methods[0].ID: ""}, "methods", "au moins une"},
		"pause in the past": {map[string]string{"paused_until": "2001-01-01"}, "paused_until", "past"},
	} {
		form := h.saveForm(sub, token)
		form.Set("lang", "fr")
		for k, v := range c.set {
			if v == "" {
				form.Del(k)
			} else {
				form.Set(k, v)
			}
		}
		res := h.page(t, http.MethodPost, token, form, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, res.status)
			continue
		}
		body := string(res.body)
		if !strings.Contains(body, `href="#`+c.field+`"`) || !strings.Contains(body, c.want) {
			t.Errorf("%s: the page does not point at %s with %q:\n%s", name, c.field, c.want, errorsPart(body))
		}
		// What the person wrote is shown again.
		for k, v := range c.set {
			if v != "" && k != "digest_mode" && !strings.Contains(body, `value="`+v+`"`) {
				t.Errorf("%s: the page lost the value %q of %s", name, v, k)
			}
		}
	}
	if after := h.get(t, sub.ID); after.Version != before.Version {
		t.Errorf("a refused form changed the subscription (version %d → %d)", before.Version, after.Version)
	}
}

// errorsPart is the error summary of a page, for failure messages.
func errorsPart(body string) string {
	if i := strings.Index(body, `id="errors"`); i >= 0 {
		return body[i:min(len(body), i+800)]
	}
	return "(no error summary)"
}

func TestPreferencePageRefusesForgedForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	token, _ := h.prefLinks.Token(sub.ID)
	other := h.prefSub(t, "en")
	otherToken, _ := h.prefLinks.Token(other.ID)

	for name, c := range map[string]struct {
		csrf   string
		header map[string]string
	}{
		"no token":         {"", nil},
		"garbage":          {"not-a-token", nil},
		"another link's":   {h.prefLinks.FormToken(otherToken), nil},
		"cross-site":       {h.prefLinks.FormToken(token), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"same-site, other": {h.prefLinks.FormToken(token), map[string]string{"Sec-Fetch-Site": "same-site"}},
	} {
		for _, action := range []string{"save", "unsubscribe"} {
			form := h.saveForm(sub, token)
			form.Set("action", action)
			if c.csrf == "" {
				form.Del("csrf")
			} else {
				form.Set("csrf", c.csrf)
			}
			res := h.page(t, http.MethodPost, token, form, c.header)
			if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "This form could not be accepted") {
				t.Errorf("%s %s: status %d, want 403 and the page saying so", name, action, res.status)
			}
		}
	}
	if got := h.get(t, sub.ID); got.Version != sub.Version || !got.Enabled {
		t.Errorf("a forged form changed the subscription")
	}
}

func TestPreferencePageBadLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "fr")
	token, _ := h.prefLinks.Token(sub.ID)

	// A tampered link: one character changed, or cut short.
	flip := []byte(token)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	for name, bad := range map[string]string{"tampered": string(flip), "truncated": token[:len(token)-3], "junk": "hello"} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			var form url.Values
			if m == http.MethodPost {
				form = h.saveForm(sub, bad)
			}
			res := h.page(t, m, bad, form, map[string]string{"Accept-Language": "fr"})
			if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "Ce lien n’est pas valide") {
				t.Errorf("%s %s: status %d, want 403 with the French page: %s", name, m, res.status, res.body)
			}
		}
	}

	// Revoked: links made until then stop working, later ones work.
	if res := h.sub(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/preference-links/revoke", nil, nil); res.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		var form url.Values
		if m == http.MethodPost {
			form = h.saveForm(sub, token)
		}
		res := h.page(t, m, token, form, nil)
		if res.status != http.StatusGone || !strings.Contains(string(res.body), "Ce lien ne fonctionne plus") {
			t.Errorf("revoked %s: status %d, want 410 in the subscription's French", m, res.status)
		}
	}
	h.clock.advance(time.Millisecond)
	fresh, _ := h.prefLinks.Token(sub.ID)
	if res := h.page(t, http.MethodGet, fresh, nil, nil); res.status != http.StatusOK {
		t.Errorf("a link made after the revocation: %d", res.status)
	}

	// Expired: past the lifetime, by GET or POST.
	h.clock.advance(h.prefLinks.Lifetime())
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		var form url.Values
		if m == http.MethodPost {
			form = h.saveForm(sub, fresh)
		}
		res := h.page(t, m, fresh, form, nil)
		if res.status != http.StatusGone || !strings.Contains(string(res.body), "Ce lien a expiré") {
			t.Errorf("expired %s: status %d, want 410", m, res.status)
		}
	}
	if got := h.get(t, sub.ID); got.Version != sub.Version {
		t.Errorf("a bad link changed the subscription")
	}

	// Gone: the subscription was deleted.
	late, _ := h.prefLinks.Token(sub.ID)
	if res := h.sub(t, http.MethodDelete, "/v1/subscriptions/"+sub.ID, nil, nil); res.status != http.StatusNoContent {
		t.Fatal(res.status)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		var form url.Values
		if m == http.MethodPost {
			form = h.saveForm(sub, late)
		}
		if res := h.page(t, m, late, form, nil); res.status != http.StatusNotFound {
			t.Errorf("deleted subscription %s: %d, want 404", m, res.status)
		}
	}
}

func TestPreferencePageConflictUnsubscribeResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	token, _ := h.prefLinks.Token(sub.ID)

	// Changed elsewhere since the page was shown: nothing written, the
	// page shows the current settings.
	if res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"time_zone": "Asia/Tokyo"}, nil); res.status != http.StatusOK {
		t.Fatal(res.status)
	}
	res := h.page(t, http.MethodPost, token, h.saveForm(sub, token), nil)
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), `value="Asia/Tokyo"`) {
		t.Errorf("stale form: %d, want 409 showing the current time zone", res.status)
	}

	form := url.Values{"csrf": {h.prefLinks.FormToken(token)}, "action": {"unsubscribe"}, "version": {"1"}}
	if res := h.page(t, http.MethodPost, token, form, nil); res.status != http.StatusSeeOther {
		t.Fatalf("unsubscribe: %d %s", res.status, res.body)
	}
	if h.get(t, sub.ID).Enabled {
		t.Errorf("still enabled after stopping everything")
	}
	res = h.page(t, http.MethodGet, token+"?done=unsubscribed", nil, nil)
	if !strings.Contains(string(res.body), "All notifications are off") {
		t.Errorf("the page does not say notifications are off")
	}
	form.Set("action", "resume")
	if res := h.page(t, http.MethodPost, token, form, nil); res.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", res.status)
	}
	if !h.get(t, sub.ID).Enabled {
		t.Errorf("not enabled after resuming")
	}
}

func TestPreferencePageDatabaseDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	token, _ := h.prefLinks.Token(sub.ID)
	h.prefStore.fail.Store(true)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		var form url.Values
		if m == http.MethodPost {
			form = h.saveForm(sub, token)
		}
		res := h.page(t, m, token, form, nil)
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
			t.Errorf("%s with the database down: %d, want 503 with Retry-After", m, res.status)
		}
	}
	if got := h.get(t, sub.ID); got.Version != sub.Version {
		t.Errorf("changed while the database was down")
	}
}

func TestPreferencePageBodyLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	token, _ := h.prefLinks.Token(sub.ID)
	res := h.do(t, request{method: http.MethodPost, path: "/preferences/" + token, body: strings.NewReader(`{"csrf":"x"}`)})
	if res.status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %d, want 415", res.status)
	}
	res = h.do(t, request{method: http.MethodPost, path: "/preferences/" + token, contentType: "application/x-www-form-urlencoded",
		body: strings.NewReader("a=" + strings.Repeat("x", maxBody))})
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d, want 413", res.status)
	}
	res = h.do(t, request{method: http.MethodGet, path: "/assets/preferences.css"})
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %q", res.status, res.header.Get("Content-Type"))
	}
}

func TestPreferenceLinkAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.prefSub(t, "en")
	res := h.sub(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/preference-links", nil, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("issue: %d %s", res.status, res.body)
	}
	var link struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	res.decode(t, &link)
	token, found := strings.CutPrefix(link.URL, "https://notifyd.example.org/preferences/")
	if !found || len(token) > 64 {
		t.Fatalf("url %q", link.URL)
	}
	if d := link.ExpiresAt.Sub(h.clock.now()); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("expires in %v, want 30 days", d)
	}
	if res := h.page(t, http.MethodGet, token, nil, nil); res.status != http.StatusOK {
		t.Errorf("the issued link: %d", res.status)
	}
	for _, p := range []string{"/preference-links", "/preference-links/revoke"} {
		if res := h.do(t, request{method: http.MethodPost, path: "/v1/subscriptions/" + sub.ID + p}); res.status != http.StatusUnauthorized {
			t.Errorf("%s without a key: %d", p, res.status)
		}
		if res := h.sub(t, http.MethodPost, "/v1/subscriptions/0190a0b0-0000-7000-8000-000000000000"+p, nil, nil); res.status != http.StatusNotFound {
			t.Errorf("%s of no subscription: %d", p, res.status)
		}
	}
}
