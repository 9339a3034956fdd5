package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/notifyd/notifyd/internal/peertest"
)

// An operator, in Chromium, signs in to the console with an API key,
// searches the delivery log for the email the SMTP server refused with
// 550, reads its page (the refusal in the timeline, the email as wilma
// saw it in a sandboxed frame), retries it once the server accepts
// wilma again (a confirmation page first), and the email arrives. They
// then change wilma's time zone from the console, and the API shows it.
// A request replaying the session cookie without the form's token
// changes nothing; the pages fit a phone and switch to French.
// Screenshots go to the artefacts.
func TestConsoleInChromium(t *testing.T) {
	w := newPublishWorld(t, "NOTIFYD_CONSOLE_ENABLED=true")
	w.sink.SetRules(t, peertest.Rules{PermFail: []string{wilmaEmail}})
	browser := peertest.Chromium(t)
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
		"payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, body)
	}
	var failed map[string]any
	waitUntil(t, time.Minute, func() bool {
		for _, d := range w.deliveries(t) {
			if d["status"] == "failed" {
				failed = d
				return true
			}
		}
		return false
	}, func() string { return "wilma's email is not failed" })
	if !strings.Contains(failed["last_error"].(string), "550") {
		t.Fatalf("the failure is not the sink's 550: %v", failed)
	}

	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	// Signing in: a console page sends to the sign-in form and back.
	if status := open(t, ctx, w.nd.baseURL+"/console/deliveries"); status != http.StatusOK || text(t, ctx, "h1") != "Sign in" {
		t.Fatalf("sign-in page: %d %q", status, text(t, ctx, "h1"))
	}
	screenshot(t, ctx, "console-signin-en.png")
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#key"), "not the key"),
		chromedp.Click(chromedp.CSS(`button[type="submit"].primary`))); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#notice"); !strings.Contains(n, "not valid") {
		t.Errorf("a wrong key: notice %q", n)
	}
	if strings.Contains(w.nd.log.String(), "not the key") {
		t.Errorf("the refused key is in notifyd's log")
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#key"), apiKey),
		chromedp.Click(chromedp.CSS(`button[type="submit"].primary`))); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, "h1"); h != "Find a message" {
		t.Fatalf("after signing in: %q", h)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "notifyd_console" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/console/" {
		t.Fatalf("session cookie %+v", session)
	}

	// Find it: by address and status, with the form.
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#address"), wilmaEmail),
		chromedp.SetValue(chromedp.CSS("#status"), "failed"),
		chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	if res := text(t, ctx, "#results"); !strings.Contains(res, wilmaEmail) || !strings.Contains(res, "550") {
		t.Fatalf("search results:\n%s", res)
	}
	screenshot(t, ctx, "console-search-en.png")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#results tbody a"))); err != nil {
		t.Fatal(err)
	}
	if s := text(t, ctx, "#status"); s != "Failed" {
		t.Errorf("delivery status %q", s)
	}
	if tl := text(t, ctx, "#timeline"); !strings.Contains(tl, "550") {
		t.Errorf("the timeline lacks the SMTP reply:\n%s", tl)
	}
	if msg := text(t, ctx, "#text"); !strings.Contains(msg, "Planning") {
		t.Errorf("the message's text part:\n%s", msg)
	}
	// The email's HTML is in a sandboxed frame: it loaded, and the page
	// cannot reach into it (an opaque origin).
	if sandboxed := eval[bool](t, ctx, `(() => { const f = document.getElementById("email-frame");
		return f !== null && f.sandbox.length === 0 && f.hasAttribute("sandbox") && f.contentDocument === null; })()`); !sandboxed {
		t.Errorf("the email frame is missing or not sandboxed")
	}
	if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(246, 248, 250)" {
		t.Errorf("body background %q: the stylesheet did not apply", bg)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView("#email-frame")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-delivery-en.png")
	// The frame shows the email: read from inside it (its own target).
	if got := frameText(t, ctx, "/email.html"); !strings.Contains(got, "Planning") || !strings.Contains(got, "Room 4") {
		t.Errorf("the email frame shows:\n%s", got)
	}
	deliveryURL := eval[string](t, ctx, `location.href`)

	// A request replaying the session cookie without the form's token
	// (another site's forged form) is refused and changes nothing.
	form := url.Values{"action": {"retry"}, "confirm": {"yes"}, "id": {failed["id"].(string)}}
	req, _ := http.NewRequest(http.MethodPost, w.nd.baseURL+"/console/dead-letters", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post without the form's token: %d", resp.StatusCode)
	}

	// The SMTP server accepts wilma again; the operator retries.
	w.sink.SetRules(t, peertest.Rules{})
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[value="retry"]`))); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, "h1"); h != "Retry these deliveries?" {
		t.Fatalf("confirmation page: %q", h)
	}
	for _, d := range w.deliveries(t) {
		if d["id"] == failed["id"] && d["status"] != "failed" {
			t.Fatalf("retried before confirming: %v", d)
		}
	}
	screenshot(t, ctx, "console-confirm-en.png")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#confirm"))); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#notice"); n != "The delivery is queued again." {
		t.Errorf("after retrying: notice %q", n)
	}
	w.sink.Await(t, time.Minute, "the retried email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	waitUntil(t, time.Minute, func() bool {
		for _, d := range w.deliveries(t) {
			if d["id"] == failed["id"] {
				return d["status"] == "sent"
			}
		}
		return false
	}, func() string { return "the retried delivery is not sent" })
	open(t, ctx, deliveryURL)
	if s := text(t, ctx, "#status"); s != "Sent" {
		t.Errorf("the delivery page after the retry: %q", s)
	}

	// Edit wilma's subscription: her time zone.
	open(t, ctx, w.nd.baseURL+"/console/subscriptions?principal="+url.QueryEscape(wilmaPrincipal))
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#subs tbody a"))); err != nil {
		t.Fatal(err)
	}
	subID := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/console/subscriptions/")
	if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#time_zone"), "America/Montreal"),
		chromedp.Click(chromedp.CSS("#save"))); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#notice"); n != "Saved." {
		t.Errorf("after saving: notice %q", n)
	}
	if code, sub := w.nd.api(t, http.MethodGet, "/v1/subscriptions/"+subID, nil); code != http.StatusOK || sub["time_zone"] != "America/Montreal" {
		t.Errorf("the subscription after the console's change: %d %v", code, sub["time_zone"])
	}
	screenshot(t, ctx, "console-subscription-en.png")
	// Both changes are in the audit trail, made by the key signed in.
	code, audit := w.nd.api(t, http.MethodGet, "/v1/audit?actor=key-1", nil)
	actions := map[string]bool{}
	if items, ok := audit["items"].([]any); ok {
		for _, it := range items {
			actions[it.(map[string]any)["action"].(string)] = true
		}
	}
	if code != http.StatusOK || !actions["dead_letter.retried"] || !actions["subscription.updated"] {
		t.Errorf("the audit trail of the console's changes: %d %v", code, audit)
	}

	// Health, then French, on a phone.
	open(t, ctx, w.nd.baseURL+"/console/health")
	if n := eval[int](t, ctx, `document.querySelectorAll("svg.chart rect").length`); n == 0 {
		t.Errorf("the health chart has no bar")
	}
	screenshot(t, ctx, "console-health-en.png")
	open(t, ctx, w.nd.baseURL+"/console/lang/fr?next="+url.QueryEscape("/console/deliveries?status=sent"))
	if h := text(t, ctx, "h1"); h != "Trouver un message" {
		t.Errorf("French heading %q", h)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if fits := eval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`); !fits {
		t.Errorf("the search page is wider than a phone's screen")
	}
	screenshot(t, ctx, "console-search-fr-phone.png")
	open(t, ctx, deliveryURL)
	if fits := eval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`); !fits {
		t.Errorf("the delivery page is wider than a phone's screen")
	}
	screenshot(t, ctx, "console-delivery-fr-phone.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 900)); err != nil {
		t.Fatal(err)
	}
}

// frameText is the text of the frame whose URL ends with suffix, read
// in the frame itself (a sandboxed frame is a target of its own).
func frameText(t *testing.T, ctx context.Context, suffix string) string {
	t.Helper()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type == "iframe" && strings.HasSuffix(tg.URL, suffix) {
			// Cancelling this context would close the frame's target: it
			// is cancelled when the test ends.
			fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(tg.TargetID))
			t.Cleanup(cancel)
			s, err := chromedp.Run(fctx, chromedp.Evaluate[string](`document.body.innerText`))
			if err != nil {
				t.Fatalf("read the frame: %v", err)
			}
			return s
		}
	}
	t.Fatalf("no frame %s", suffix)
	return ""
}

// Console keys with roles, in Chromium: a viewer sees the dead letter
// but is offered no change, and the server refuses the change it crafts
// with its own session and form token (403); an operator of another
// system sees nothing of it (404 on its page, none listed) and its
// crafted retry changes nothing; the admin's retry works.
func TestConsoleRolesInChromium(t *testing.T) {
	const viewerKey, otherKey = "e2e-viewer-key-0123456789", "e2e-hospital-key-0123456789"
	w := newPublishWorld(t, "NOTIFYD_CONSOLE_ENABLED=true",
		"NOTIFYD_SYSTEMS_HOSPITAL_CALDAV_URL=http://127.0.0.1:1/", "NOTIFYD_SYSTEMS_HOSPITAL_TOKENS=hospital-token-0123456789",
		`NOTIFYD_NAMED_API_KEYS=[{"name":"auditor","key":"`+viewerKey+`","role":"viewer"},`+
			`{"name":"hospital-ops","key":"`+otherKey+`","role":"operator","systems":["hospital"]}]`)
	w.sink.SetRules(t, peertest.Rules{PermFail: []string{wilmaEmail}})
	browser := peertest.Chromium(t)
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "content_type": "text/calendar",
		"payload": alarmICS("planning-2", "Review")}); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, body)
	}
	var id string
	waitUntil(t, time.Minute, func() bool {
		for _, d := range w.deliveries(t) {
			if d["status"] == "failed" {
				id = d["id"].(string)
			}
		}
		return id != ""
	}, func() string { return "wilma's email is not failed" })
	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	signIn := func(key string) {
		t.Helper()
		open(t, ctx, w.nd.baseURL+"/console/login")
		if _, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.CSS("#key"), key),
			chromedp.Click(chromedp.CSS(`button[type="submit"].primary`))); err != nil {
			t.Fatal(err)
		}
	}
	// crafted posts a retry of the delivery with the browser's session
	// and the page's own form token, outside any page.
	crafted := func() (int, string) {
		t.Helper()
		token := eval[string](t, ctx, `document.querySelector('input[name="csrf"]').value`)
		cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"csrf": {token}, "action": {"retry"}, "confirm": {"yes"}, "id": {id}}
		req, _ := http.NewRequest(http.MethodPost, w.nd.baseURL+"/console/dead-letters", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies.Cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	status := func() string {
		for _, d := range w.deliveries(t) {
			if d["id"] == id {
				return d["status"].(string)
			}
		}
		return ""
	}
	signOut := func() {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`))); err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Sign in" {
			t.Fatalf("after signing out: %q", h)
		}
	}

	// The viewer.
	signIn(viewerKey)
	if role := text(t, ctx, ".role"); role != "viewer" {
		t.Errorf("viewer's role badge %q", role)
	}
	open(t, ctx, w.nd.baseURL+"/console/dead-letters")
	if !strings.Contains(text(t, ctx, "main"), wilmaEmail) {
		t.Errorf("the viewer does not see the dead letter")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('button[value="retry"], button[value="discard"]').length`); n != 0 {
		t.Errorf("the viewer is offered %d change buttons", n)
	}
	screenshot(t, ctx, "console-dead-viewer-en.png")
	if code, _ := crafted(); code != http.StatusForbidden {
		t.Errorf("the viewer's crafted retry: %d, want 403", code)
	}
	if s := status(); s != "failed" {
		t.Errorf("after the viewer's crafted retry the delivery is %q", s)
	}
	signOut()

	// The operator of another system.
	signIn(otherKey)
	if code := open(t, ctx, w.nd.baseURL+"/console/deliveries/"+id); code != http.StatusNotFound {
		t.Errorf("another system's delivery: %d, want 404", code)
	}
	open(t, ctx, w.nd.baseURL+"/console/dead-letters")
	if strings.Contains(text(t, ctx, "main"), wilmaEmail) {
		t.Errorf("the hospital operator sees ens's dead letter")
	}
	if code, body := crafted(); code != http.StatusOK || !strings.Contains(body, "Not found") {
		t.Errorf("the hospital operator's crafted retry: %d", code)
	}
	if s := status(); s != "failed" {
		t.Errorf("after another system's operator's retry the delivery is %q", s)
	}
	screenshot(t, ctx, "console-dead-scoped-en.png")
	signOut()

	// The admin.
	w.sink.SetRules(t, peertest.Rules{})
	signIn(apiKey)
	open(t, ctx, w.nd.baseURL+"/console/deliveries/"+id)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[value="retry"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#confirm"))); err != nil {
		t.Fatal(err)
	}
	w.sink.Await(t, time.Minute, "the retried email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
}
