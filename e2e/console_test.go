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
