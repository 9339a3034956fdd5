package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The suppression list in the console, in Chromium, against notifyd
// sending through the real SMTP sink. An operator adds wilma's address
// from the Suppressions page (a bad address first: the form says why);
// the API lists the entry as theirs; the next change for wilma is
// suppressed, and its delivery's page links the entry. The operator
// removes it through the confirmation, which says notifyd will send to
// the address again: the API lists it no more, the audit trail has both
// changes by the operator's key, and the next change reaches wilma by
// email. A viewer sees the list with no button to change it; an operator
// scoped to another system is not offered the list and is refused it.
// Screenshots go to the artefacts.
func TestConsoleSuppressionsInChromium(t *testing.T) {
	const deskKey, viewerKey, scopedKey = "e2e-desk-key-0123456789", "e2e-viewer-key-0123456789", "e2e-hospital-key-0123456789"
	w := newPublishWorld(t, "NOTIFYD_CONSOLE_ENABLED=true",
		"NOTIFYD_SYSTEMS_HOSPITAL_CALDAV_URL=http://127.0.0.1:1/", "NOTIFYD_SYSTEMS_HOSPITAL_TOKENS=hospital-token-0123456789",
		`NOTIFYD_NAMED_API_KEYS=[{"name":"desk","key":"`+deskKey+`","role":"operator"},`+
			`{"name":"auditor","key":"`+viewerKey+`","role":"viewer"},`+
			`{"name":"hospital-ops","key":"`+scopedKey+`","role":"operator","systems":["hospital"]}]`)
	browser := peertest.Chromium(t)
	ctx, cancel := context.WithTimeout(browser, 4*time.Minute)
	defer cancel()
	click := func(css string) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
			t.Fatalf("click %s: %v", css, err)
		}
	}
	signIn := func(key string) {
		t.Helper()
		open(t, ctx, w.nd.baseURL+"/console/login")
		if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#key"), key),
			chromedp.Click(chromedp.CSS(`button[type="submit"].primary`))); err != nil {
			t.Fatal(err)
		}
	}
	signOut := func() {
		t.Helper()
		click(`form[action="/console/logout"] button`)
		if h := text(t, ctx, "h1"); h != "Sign in" {
			t.Fatalf("after signing out: %q", h)
		}
	}
	listed := func() map[string]map[string]any {
		t.Helper()
		code, body := w.nd.api(t, http.MethodGet, "/v1/suppressions", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/suppressions: %d %v", code, body)
		}
		out := map[string]map[string]any{}
		for _, it := range body["items"].([]any) {
			e := it.(map[string]any)
			out[e["address"].(string)] = e
		}
		return out
	}
	// change publishes a change for wilma and returns its delivery once
	// it has ended (suppressed or sent).
	seen := map[string]bool{}
	change := func(uid string) map[string]any {
		t.Helper()
		if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
			"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
			"payload": alarmICS(uid, "Planning "+uid)}); code != http.StatusAccepted {
			t.Fatalf("publish %s: %d %v", uid, code, body)
		}
		var final map[string]any
		waitUntil(t, time.Minute, func() bool {
			for _, d := range w.deliveries(t) {
				if st := d["status"]; (st == "suppressed" || st == "sent") && !seen[d["id"].(string)] {
					final = d
					seen[d["id"].(string)] = true
					return true
				}
			}
			return false
		}, func() string { return "no delivery of " + uid + " ended:\n" + w.nd.log.String() })
		return final
	}
	if code, body := w.nd.api(t, http.MethodPost, "/v1/suppressions", map[string]any{"channel": "email",
		"address": "fred@example.org", "reason": "hard_bounce", "detail": "550 5.1.1 user unknown"}); code != http.StatusCreated {
		t.Fatalf("suppress fred: %d %v", code, body)
	}

	// The operator adds wilma's address, a bad one first.
	signIn(deskKey)
	click(`nav a[href="/console/suppressions"]`)
	if h := text(t, ctx, "h1"); h != "Suppression list" {
		t.Fatalf("the Suppressions link leads to %q", h)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#add-address"), "wilma at example.org"),
		chromedp.Click(chromedp.CSS("#add-submit"))); err != nil {
		t.Fatal(err)
	}
	if e := text(t, ctx, "#add-errors"); !strings.Contains(e, "must be a bare email address") {
		t.Errorf("a bad address: the form says %q", e)
	}
	if _, ok := listed()["wilma at example.org"]; ok || len(listed()) != 1 {
		t.Fatalf("a bad address was added: %v", listed())
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#add-address"), "Wilma@Example.org"),
		chromedp.SetValue(chromedp.CSS("#add-note"), "asked by phone for no more email"),
		chromedp.Click(chromedp.CSS("#add-submit"))); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#notice"); n != "Added: notifyd will send nothing to this address." {
		t.Errorf("after adding: notice %q", n)
	}
	if rows := text(t, ctx, "#suppressions tbody"); !strings.Contains(rows, wilmaEmail) || !strings.Contains(rows, "Manual") ||
		!strings.Contains(rows, "asked by phone for no more email") || !strings.Contains(rows, "desk") {
		t.Errorf("the list after adding:\n%s", rows)
	}
	if e := listed()[wilmaEmail]; e == nil || e["reason"] != "manual" || e["actor"] != "desk" || e["detail"] != "asked by phone for no more email" {
		t.Fatalf("the API's entry: %v", e)
	}
	open(t, ctx, w.nd.baseURL+"/console/suppressions")
	if n := eval[int](t, ctx, `document.querySelectorAll("#suppressions tbody tr").length`); n != 2 {
		t.Errorf("the list shows %d entries, want 2", n)
	}
	if first := text(t, ctx, "#suppressions tbody tr .address"); first != wilmaEmail {
		t.Errorf("the newest entry is %q", first)
	}
	screenshot(t, ctx, "console-suppressions-en.png")

	// The next change for wilma is suppressed; its page links the entry.
	d := change("s1")
	if d["status"] != "suppressed" {
		t.Fatalf("the delivery to a suppressed address: %v", d)
	}
	open(t, ctx, w.nd.baseURL+"/console/deliveries/"+d["id"].(string))
	if s := text(t, ctx, "#suppression"); !strings.Contains(s, "Manual") {
		t.Errorf("the suppressed delivery's page says %q of the list", s)
	}
	click("#suppression a")
	if rows := text(t, ctx, "#suppressions tbody"); !strings.Contains(rows, wilmaEmail) || strings.Contains(rows, "fred@") {
		t.Fatalf("the delivery's link shows:\n%s", rows)
	}

	// Removing it: a confirmation first, then the API lists it no more.
	click(`#suppressions button.remove`)
	if h := text(t, ctx, "h1"); h != "Remove this address from the suppression list?" {
		t.Fatalf("confirmation page: %q", h)
	}
	if c := text(t, ctx, "#confirm-text"); !strings.Contains(c, "notifyd will send to this address again") {
		t.Errorf("the confirmation says %q", c)
	}
	if listed()[wilmaEmail] == nil {
		t.Fatal("removed before confirming")
	}
	screenshot(t, ctx, "console-suppression-confirm-en.png")
	click("#confirm")
	if n := text(t, ctx, "#notice"); n != "Removed: notifyd will send to this address again." {
		t.Errorf("after removing: notice %q", n)
	}
	if e := listed(); e[wilmaEmail] != nil || e["fred@example.org"] == nil {
		t.Errorf("the API after the removal: %v", e)
	}
	code, audit := w.nd.api(t, http.MethodGet, "/v1/audit?actor=desk", nil)
	var actions []string
	if items, ok := audit["items"].([]any); ok {
		for _, it := range items {
			e := it.(map[string]any)
			actions = append(actions, e["action"].(string)+" "+e["resource_id"].(string))
		}
	}
	if want := "suppression.added email:wilma@example.org suppression.removed email:wilma@example.org"; code != http.StatusOK ||
		strings.Join(actions, " ") != want {
		t.Errorf("the audit trail of desk: %d %q, want %q", code, strings.Join(actions, " "), want)
	}
	if d := change("s2"); d["status"] != "sent" {
		t.Errorf("after the removal the next delivery is %v", d)
	}
	w.sink.Await(t, time.Minute, "wilma's email after the removal", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	signOut()

	// A viewer sees the list, with nothing to change it with.
	signIn(viewerKey)
	open(t, ctx, w.nd.baseURL+"/console/suppressions")
	if rows := text(t, ctx, "#suppressions tbody"); !strings.Contains(rows, "fred@example.org") {
		t.Errorf("the viewer's list:\n%s", rows)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#add-form, button.remove, main form[method=post]").length`); n != 0 {
		t.Errorf("the viewer is offered %d forms to change the list", n)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if fits := eval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`); !fits {
		t.Errorf("the suppression list is wider than a phone's screen")
	}
	screenshot(t, ctx, "console-suppressions-viewer-phone-en.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 900)); err != nil {
		t.Fatal(err)
	}
	signOut()

	// An operator scoped to another system: no link, and refused.
	signIn(scopedKey)
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href^="/console/suppressions"]').length`); n != 0 {
		t.Errorf("a scoped operator is offered the suppression list")
	}
	if code := open(t, ctx, w.nd.baseURL+"/console/suppressions"); code != http.StatusForbidden ||
		strings.Contains(text(t, ctx, "main"), "fred@example.org") {
		t.Errorf("a scoped operator's list: %d", code)
	}
}
