package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Signing in: a page needs a session (GET: to the sign-in page and back);
// a wrong key is refused and never logged; the session cookie is
// HttpOnly, SameSite=Strict, limited to /console/; signing out ends it.
func TestSignInAndOut(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	r := b.get("/console/deliveries?status=failed")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/login?next="+url.QueryEscape("/console/deliveries?status=failed") {
		t.Fatalf("no session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	page := b.get("/console/login")
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	bad := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, page)}, "key": {"not-a-key-secret-42"}})
	if bad.StatusCode != http.StatusUnauthorized || !strings.Contains(bad.Body, "This key is not valid") {
		t.Errorf("wrong key: %d", bad.StatusCode)
	}
	if strings.Contains(h.logs.String(), "not-a-key-secret-42") || !strings.Contains(h.logs.String(), "sign-in refused") {
		t.Errorf("the refused key is in the logs, or the refusal is not:\n%s", h.logs)
	}
	page = b.get("/console/login?next=" + url.QueryEscape("/console/deliveries?status=failed"))
	ok := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, page)}, "key": {adminKey},
		"next": {"/console/deliveries?status=failed"}})
	if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/console/deliveries?status=failed" {
		t.Fatalf("sign in: %d %q", ok.StatusCode, ok.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range ok.Cookies() {
		if c.Name == "notifyd_console" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/console/" ||
		strings.Contains(cookie.Value, adminKey) {
		t.Fatalf("session cookie %+v", cookie)
	}
	if strings.Contains(h.logs.String(), adminKey) {
		t.Errorf("the key is in the logs")
	}
	if r := b.get("/console/deliveries?status=failed"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, h.wilmaFailed) {
		t.Fatalf("signed in: %d", r.StatusCode)
	}
	// A next that leaves the console is not followed.
	page = b.get("/console/login")
	if r := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, page)}, "key": {adminKey},
		"next": {"//evil.example/console/"}}); r.Header.Get("Location") != "/console/" {
		t.Errorf("next to another site: %q", r.Header.Get("Location"))
	}
	token := csrf(t, b.get("/console/deliveries"))
	if r := b.do(http.MethodPost, "/console/logout", url.Values{"csrf": {token}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	if r := b.get("/console/deliveries"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after signing out: %d", r.StatusCode)
	}
}

// Over https the cookie is Secure and __Secure- prefixed.
func TestSecureCookie(t *testing.T) {
	s, err := newSessions(make([]byte, 32), true, time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w := &headerRecorder{h: http.Header{}}
	s.set(w, &session{Key: "k", CSRF: "c"})
	c := w.h.Get("Set-Cookie")
	if !strings.HasPrefix(c, "__Secure-notifyd_console=") || !strings.Contains(c, "; Secure") ||
		!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
		t.Errorf("Set-Cookie %q", c)
	}
}

type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(int)             {}

// A session ends after the idle timeout without a request, and after its
// lifetime even when active; a cookie tampered with is no session.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminKey)
	h.clock.Add(29 * time.Minute)
	if r := b.get("/console/deliveries"); r.StatusCode != http.StatusOK {
		t.Fatalf("within the idle timeout: %d", r.StatusCode)
	}
	h.clock.Add(30 * time.Minute)
	r := b.get("/console/deliveries")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "expired=1") {
		t.Fatalf("idle: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	b.signIn(adminKey)
	for range 30 {
		h.clock.Add(29 * time.Minute)
		if r := b.get("/console/deliveries"); r.StatusCode != http.StatusOK {
			break
		}
	}
	if r := b.get("/console/deliveries"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("a session active for over 12 hours: %d", r.StatusCode)
	}

	b2 := h.browser()
	b2.signIn(adminKey)
	u, _ := url.Parse(h.srv.URL + "/console/")
	var cs []*http.Cookie
	for _, c := range b2.c.Jar.Cookies(u) {
		if c.Name == "notifyd_console" {
			v := []byte(c.Value)
			v[len(v)/2] ^= 1
			cs = append(cs, &http.Cookie{Name: c.Name, Value: string(v), Path: "/console/"})
		}
	}
	if len(cs) != 1 {
		t.Fatalf("session cookies %v", cs)
	}
	b2.c.Jar.SetCookies(u, cs)
	if r := b2.get("/console/deliveries"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("tampered cookie: %d", r.StatusCode)
	}
}

// Every form needs the session's token and the same site: without it, a
// retry changes nothing (403); the sign-in form needs its own.
func TestCSRFRefused(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(adminKey)
	form := url.Values{"action": {"retry"}, "confirm": {"yes"}, "id": {h.wilmaFailed}}
	if r := b.do(http.MethodPost, "/console/dead-letters", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("no token: %d", r.StatusCode)
	}
	wrong := "0"
	if token[0] == '0' {
		wrong = "1"
	}
	form.Set("csrf", wrong+token[1:])
	if r := b.do(http.MethodPost, "/console/dead-letters", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	form.Set("csrf", token)
	if r := b.do(http.MethodPost, "/console/dead-letters", form, "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
		t.Errorf("from another site: %d", r.StatusCode)
	}
	if h.status(h.wilmaFailed) != "failed" || len(h.retried.ids) != 0 {
		t.Fatalf("a refused form changed the delivery")
	}
	// Another session's token is not this one's.
	other := h.browser().signIn(adminKey)
	form.Set("csrf", other)
	if r := b.do(http.MethodPost, "/console/dead-letters", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d", r.StatusCode)
	}
	b3 := h.browser()
	if r := b3.do(http.MethodPost, "/console/login", url.Values{"key": {adminKey}, "csrf": {"x"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %d", r.StatusCode)
	}
	form.Set("csrf", token)
	if r := b.do(http.MethodPost, "/console/dead-letters", form); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusOK {
		t.Errorf("with the token: %d", r.StatusCode)
	}
	if h.status(h.wilmaFailed) != "queued" {
		t.Errorf("the retry with the token did not requeue")
	}
}

// A viewer sees but changes nothing: every change is refused by the
// server (403), crafted with a valid token, whatever the page showed.
func TestViewerRefusedEveryPost(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(viewerKey)
	sub := b.get("/console/subscriptions/" + h.wilmaSub.ID)
	if sub.StatusCode != http.StatusOK || strings.Contains(sub.Body, `id="save"`) || !strings.Contains(sub.Body, "disabled") {
		t.Errorf("a viewer's subscription page offers to save: %d", sub.StatusCode)
	}
	if d := b.get("/console/dead-letters"); strings.Contains(d.Body, `value="retry"`) {
		t.Errorf("a viewer's dead letters page offers retry")
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/console/dead-letters", url.Values{"action": {"retry"}, "id": {h.wilmaFailed}}},
		{"/console/dead-letters", url.Values{"action": {"retry"}, "confirm": {"yes"}, "id": {h.wilmaFailed}}},
		{"/console/dead-letters", url.Values{"action": {"discard"}, "confirm": {"yes"}, "id": {h.wilmaFailed, h.fredFail}}},
		{"/console/subscriptions/" + h.wilmaSub.ID, url.Values{"version": {"1"}, "locale": {"en"}, "time_zone": {"UTC"},
			"m0_address": {"wilma@example.org"}}},
	} {
		c.form.Set("csrf", token)
		if r := b.do(http.MethodPost, c.path, c.form); r.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s %v: %d", c.path, c.form, r.StatusCode)
		}
	}
	if h.status(h.wilmaFailed) != "failed" || h.status(h.fredFail) != "failed" {
		t.Errorf("a viewer changed a dead letter")
	}
	if s, _ := h.subs.Get(t.Context(), h.wilmaSub.ID); s.Version != h.wilmaSub.Version || s.Locale != "fr" {
		t.Errorf("a viewer changed a subscription: %+v", s)
	}
	if r := b.do(http.MethodPost, "/console/logout", url.Values{"csrf": {token}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("a viewer cannot sign out: %d", r.StatusCode)
	}
}

// A key scoped to system cal sees nothing of hosp: its deliveries,
// message frames and subscriptions are 404 as if they did not exist, its
// searches and lists leave them out, and a change naming them does
// nothing.
func TestScopeHidesOtherSystems(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(operatorKey)
	for _, p := range []string{"/console/deliveries/" + h.fredFail, "/console/deliveries/" + h.fredFail + "/email.html",
		"/console/subscriptions/" + h.fredSub.ID, "/console/deliveries/no-such-delivery"} {
		if r := b.get(p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	if r := b.get("/console/deliveries/" + h.wilmaFailed); r.StatusCode != http.StatusOK {
		t.Errorf("own system's delivery: %d", r.StatusCode)
	}
	for _, p := range []string{"/console/deliveries", "/console/deliveries?system=hosp", "/console/dead-letters",
		"/console/dead-letters?system=hosp", "/console/subscriptions", "/console/subscriptions?system=hosp", "/console/health"} {
		r := b.get(p)
		if r.StatusCode != http.StatusOK || strings.Contains(r.Body, h.fredFail) || strings.Contains(r.Body, "/principals/fred/") ||
			strings.Contains(r.Body, `value="hosp"`) || strings.Contains(r.Body, "fred@example.org") {
			t.Errorf("GET %s shows hosp: %d", p, r.StatusCode)
		}
	}
	if r := b.do(http.MethodPost, "/console/subscriptions/"+h.fredSub.ID, url.Values{"csrf": {token},
		"version": {"1"}, "locale": {"en"}, "time_zone": {"UTC"}, "m0_address": {"x@example.org"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("POST hosp's subscription: %d", r.StatusCode)
	}
	r := b.do(http.MethodPost, "/console/dead-letters", url.Values{"csrf": {token}, "action": {"discard"}, "confirm": {"yes"},
		"id": {h.fredFail, h.wilmaFailed}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Not found") || h.status(h.fredFail) != "failed" ||
		h.status(h.wilmaFailed) != "discarded" {
		t.Errorf("bulk discard across systems: %d, fred %s, wilma %s", r.StatusCode, h.status(h.fredFail), h.status(h.wilmaFailed))
	}
}
