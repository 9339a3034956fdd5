package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// A failed delivery is found by address and status; its page shows the
// provider's reply in the timeline and the email as wilma saw it, in
// French and her time zone, its HTML in a sandboxed frame served under a
// CSP of its own.
func TestFindAndReadADelivery(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminKey)
	r := b.get("/console/deliveries?" + url.Values{"address": {"wilma@example.org"}, "status": {"failed"}}.Encode())
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, h.wilmaFailed) || strings.Contains(r.Body, h.wilmaSent) ||
		strings.Contains(r.Body, h.fredFail) || !strings.Contains(r.Body, "550 5.1.1 mailbox unavailable") {
		t.Fatalf("search: %d\n%s", r.StatusCode, r.Body)
	}
	if r := b.get("/console/deliveries?from=yesterday"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad time: %d", r.StatusCode)
	}
	if r := b.get("/console/deliveries?type=invitation"); strings.Contains(r.Body, "/console/deliveries/d-") {
		t.Errorf("type filter: invitations listed")
	}
	d := b.get("/console/deliveries/" + h.wilmaFailed)
	for _, want := range []string{"550 5.1.1 mailbox unavailable", "Quarry shifts", `sandbox src="/console/deliveries/` + h.wilmaFailed + `/email.html"`,
		"fr, Europe/Paris", `value="retry"`} {
		if !strings.Contains(d.Body, want) {
			t.Errorf("the delivery page lacks %q", want)
		}
	}
	f := b.get("/console/deliveries/" + h.wilmaFailed + "/email.html")
	if csp := f.Header.Get("Content-Security-Policy"); f.StatusCode != http.StatusOK || !strings.HasPrefix(csp, "sandbox;") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'self'") ||
		!strings.Contains(f.Body, "Quarry shifts") || !strings.Contains(f.Body, "<html") {
		t.Errorf("email frame: %d %q", f.StatusCode, csp)
	}
	sent := b.get("/console/deliveries/" + h.wilmaSent)
	if !strings.Contains(sent.Body, "notifyd."+h.wilmaSent) || strings.Contains(sent.Body, `value="retry"`) {
		t.Errorf("a sent delivery's page: provider ID missing or retry offered")
	}
}

// Dead letters: the bulk form asks for confirmation first (nothing
// changed yet), then retries or discards each and shows the outcome.
func TestDeadLettersBulk(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(adminKey)
	list := b.get("/console/dead-letters")
	if !strings.Contains(list.Body, h.wilmaFailed) || !strings.Contains(list.Body, h.fredFail) || strings.Contains(list.Body, h.wilmaSent) {
		t.Fatalf("dead letters:\n%s\n%s", list.Body, h.logs)
	}
	ask := b.do(http.MethodPost, "/console/dead-letters", url.Values{"csrf": {token}, "action": {"retry"},
		"id": {h.wilmaFailed, h.fredFail}})
	if ask.StatusCode != http.StatusOK || !strings.Contains(ask.Body, "Retry these deliveries?") ||
		!strings.Contains(ask.Body, `name="confirm" value="yes"`) || h.status(h.wilmaFailed) != "failed" {
		t.Fatalf("confirmation: %d", ask.StatusCode)
	}
	done := b.do(http.MethodPost, "/console/dead-letters", url.Values{"csrf": {token}, "action": {"retry"}, "confirm": {"yes"},
		"id": {h.wilmaFailed, h.fredFail}})
	if done.StatusCode != http.StatusOK || strings.Count(done.Body, "Queued again") != 2 ||
		h.status(h.wilmaFailed) != "queued" || h.status(h.fredFail) != "queued" {
		t.Fatalf("retry: %d\n%s", done.StatusCode, done.Body)
	}
	again := b.do(http.MethodPost, "/console/dead-letters", url.Values{"csrf": {token}, "action": {"discard"}, "confirm": {"yes"},
		"id": {h.wilmaFailed}})
	if !strings.Contains(again.Body, "Not a dead letter any more") || h.status(h.wilmaFailed) != "queued" {
		t.Errorf("discarding a delivery retried meanwhile: %s", h.status(h.wilmaFailed))
	}
	if r := b.do(http.MethodPost, "/console/dead-letters", url.Values{"csrf": {token}, "action": {"retry"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing selected: %d", r.StatusCode)
	}
}

// A subscription is edited with the API's validation; a form older than
// the subscription is refused (409) with the current version shown, and
// an invalid value is refused with its field.
func TestEditSubscription(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(operatorKey)
	page := b.get("/console/subscriptions/" + h.wilmaSub.ID)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `id="save"`) {
		t.Fatalf("page: %d", page.StatusCode)
	}
	v := strconv.FormatInt(h.wilmaSub.Version, 10)
	form := url.Values{"csrf": {token}, "version": {v}, "enabled": {"1"}, "locale": {"en"}, "time_zone": {"Europe/London"},
		"m0_address": {"wilma@example.org"}, "m0_enabled": {"1"}, "types": {"invitation", "share-invite"},
		"preferences": {`{"quiet_hours": [{"from": "22:00", "to": "07:00"}]}`}}
	r := b.do(http.MethodPost, "/console/subscriptions/"+h.wilmaSub.ID, form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
	}
	s, _ := h.subs.Get(t.Context(), h.wilmaSub.ID)
	if s.Locale != "en" || s.TimeZone != "Europe/London" || len(s.Types) != 2 || s.Preferences == nil ||
		len(s.Preferences.QuietHours) != 1 || s.Version != h.wilmaSub.Version+1 {
		t.Fatalf("saved %+v", s)
	}
	// The same form again: its version is old.
	r = b.do(http.MethodPost, "/console/subscriptions/"+h.wilmaSub.ID, form)
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "changed by someone else") ||
		!strings.Contains(r.Body, `name="version" value="`+strconv.FormatInt(s.Version, 10)+`"`) {
		t.Errorf("stale form: %d", r.StatusCode)
	}
	form.Set("version", strconv.FormatInt(s.Version, 10))
	form.Set("time_zone", "Mars/Olympus")
	r = b.do(http.MethodPost, "/console/subscriptions/"+h.wilmaSub.ID, form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "/time_zone") || !strings.Contains(r.Body, "Mars/Olympus") {
		t.Errorf("bad time zone: %d\n%s", r.StatusCode, r.Body)
	}
	form.Set("time_zone", "UTC")
	form.Set("preferences", "{not json")
	if r := b.do(http.MethodPost, "/console/subscriptions/"+h.wilmaSub.ID, form); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", r.StatusCode)
	}
	if s2, _ := h.subs.Get(t.Context(), h.wilmaSub.ID); s2.Version != s.Version {
		t.Errorf("refused forms changed the subscription")
	}
}

// The health page shows each system with its chart and deliveries by
// channel, in French when asked.
func TestHealthPage(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminKey)
	r := b.get("/console/health")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="system-cal"`) || !strings.Contains(r.Body, `id="system-hosp"`) ||
		!strings.Contains(r.Body, "<svg class=\"chart\"") || !strings.Contains(r.Body, "50.0 %") || !strings.Contains(r.Body, "Work outstanding") {
		t.Fatalf("health: %d\n%s", r.StatusCode, r.Body)
	}
	if r := b.get("/console/lang/fr?next=/console/health"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch language: %d", r.StatusCode)
	}
	if r := b.get("/console/health"); !strings.Contains(r.Body, "<h1>Santé</h1>") || !strings.Contains(r.Body, `lang="fr"`) {
		t.Errorf("French health page")
	}
}
