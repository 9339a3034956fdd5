package e2e

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/subscriptions"
)

// prefLinkRE finds the preference link in an email's text part.
var prefLinkRE = regexp.MustCompile(`https?://\S+/preferences/[A-Za-z0-9_-]+`)

// artefactDir is where the test's screenshots go: $NOTIFYD_TEST_ARTEFACTS, else
// e2e/artefacts (ignored by git).
func artefactDir(t *testing.T) string {
	dir := os.Getenv("NOTIFYD_TEST_ARTEFACTS")
	if dir == "" {
		dir = "artefacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes the whole page as PNG into the artefacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artefactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// open loads url in the browser and returns the document's status.
func open(t *testing.T, ctx context.Context, u string) int64 {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	return res.Status
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// A notification reaches wilma by email with a "manage notifications"
// link; opened in Chromium, the page shows her subscription and the
// message she got; she sets quiet hours and a daily summary and saves,
// and the subscription the API shows has them. Her stylesheet applies
// under the page's CSP, the browser holds no cookie, and the page fits a
// phone. A tampered, an expired and a revoked link each get a page saying
// so and change nothing, even posting a form loaded before the
// revocation. Screenshots in English and French go to the artefacts.
func TestPreferencePageInChromium(t *testing.T) {
	w := newPublishWorld(t)
	browser := peertest.Chromium(t)
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
		"payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the new event's email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	link := prefLinkRE.FindString(msgs[0].Text)
	if link == "" || !strings.Contains(msgs[0].Text, "Manage notifications") || !strings.Contains(msgs[0].HTML, `>Manage notifications</a>`) {
		t.Fatalf("the email has no manage notifications link:\n%s", msgs[0].Text)
	}
	code, list := w.nd.api(t, http.MethodGet, "/v1/subscriptions?principal="+url.QueryEscape(wilmaPrincipal), nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	subID := list["items"].([]any)[0].(map[string]any)["id"].(string)
	waitIdle(t, w.nd, time.Minute)

	// The page, as a person sees it.
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	if status := open(t, ctx, link); status != http.StatusOK {
		t.Fatalf("the link: %d", status)
	}
	if h := text(t, ctx, "h1"); h != "Your calendar notifications" {
		t.Errorf("heading %q", h)
	}
	if recent := text(t, ctx, "#recent"); !strings.Contains(recent, "Event added") || !strings.Contains(recent, "Sent") ||
		!strings.Contains(recent, wilmaEmail) {
		t.Errorf("recent messages do not show the email sent:\n%s", recent)
	}
	// The stylesheet applied (the CSP let it), no cookie, no overflow on
	// a phone.
	if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(246, 248, 250)" {
		t.Errorf("body background %q: the stylesheet did not apply", bg)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil || len(cookies.Cookies) != 0 {
		t.Errorf("cookies %v (%v), want none", cookies.Cookies, err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "style-src 'self'") || !strings.Contains(csp, "form-action 'self'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	screenshot(t, ctx, "prefpage-en.png")
	open(t, ctx, link+"?lang=fr")
	if h := text(t, ctx, "h1"); h != "Vos notifications d’agenda" {
		t.Errorf("French heading %q", h)
	}
	screenshot(t, ctx, "prefpage-fr.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if fits := eval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`); !fits {
		t.Errorf("the page is wider than a phone's screen")
	}
	screenshot(t, ctx, "prefpage-fr-phone.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 900)); err != nil {
		t.Fatal(err)
	}

	// Quiet hours 22:00–07:00 and a daily summary at 08:00, saved.
	open(t, ctx, link)
	if _, err := chromedp.RunResponse(ctx,
		chromedp.SetValue(chromedp.CSS("#qh0_from"), "22:00"),
		chromedp.SetValue(chromedp.CSS("#qh0_to"), "07:00"),
		chromedp.Click(chromedp.CSS("#digest-daily")),
		chromedp.SetValue(chromedp.CSS("#digest_at"), "08:00"),
		chromedp.Click(chromedp.CSS(`button[value="save"]`)),
	); err != nil {
		t.Fatalf("save: %v", err)
	}
	if n := text(t, ctx, "#notice"); n != "Your settings are saved." {
		t.Errorf("notice %q", n)
	}
	code, sub := w.nd.api(t, http.MethodGet, "/v1/subscriptions/"+subID, nil)
	prefs, _ := sub["preferences"].(map[string]any)
	if code != http.StatusOK || prefs == nil {
		t.Fatalf("subscription: %d %v", code, sub)
	}
	digest, _ := prefs["digest"].(map[string]any)
	quiet, _ := prefs["quiet_hours"].([]any)
	if digest["mode"] != "daily" || digest["at"] != "08:00" || len(quiet) != 1 ||
		quiet[0].(map[string]any)["from"] != "22:00" || quiet[0].(map[string]any)["to"] != "07:00" {
		t.Errorf("stored preferences %v", prefs)
	}
	for sel, want := range map[string]string{"#qh0_from": "22:00", "#qh0_to": "07:00", "#digest_at": "08:00"} {
		if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel))); err != nil || v != want {
			t.Errorf("the page shows %s = %q (%v), want %q", sel, v, err, want)
		}
	}
	if checked := eval[bool](t, ctx, `document.getElementById("digest-daily").checked`); !checked {
		t.Errorf("the page does not show the daily summary chosen")
	}
	version := sub["version"].(float64)

	// The next message follows them: held for the summary at 08:00 in
	// wilma's zone (after quiet hours, if they hold it first), no email.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	next8 := func() time.Time {
		now := time.Now().In(paris)
		at := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, paris)
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at
	}
	before := next8()
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
		"payload": alarmICS("retro-1", "Retro")}); code != http.StatusAccepted {
		t.Fatalf("publish after the change: %d %v", code, body)
	}
	held := heldFor(t, w.nd, "ens", wilmaPrincipal, 1)[0]
	if r := held["held_reason"]; (r != "digest" && r != "quiet-hours") ||
		!(sameInstant(held["release_at"], before) || sameInstant(held["release_at"], next8())) {
		t.Errorf("the message after the change: %v; want held for the daily summary at %v", held, before)
	}
	if n := len(w.sink.Messages(t)); n != 1 {
		t.Errorf("%d emails after the change, want none more than the first", n)
	}

	// A tampered link.
	bad := []byte(link)
	i := len(bad) - 5
	if bad[i] == 'A' {
		bad[i] = 'B'
	} else {
		bad[i] = 'A'
	}
	if status := open(t, ctx, string(bad)); status != http.StatusForbidden || text(t, ctx, "h1") != "This link is not valid" {
		t.Errorf("tampered link: %d %q", status, text(t, ctx, "h1"))
	}

	// An expired link, signed with notifyd's own key as it would have
	// been 31 days ago.
	var keyHex string
	if err := w.nd.db().QueryRow(`SELECT value FROM settings WHERE name = 'preference_link_key'`).Scan(&keyHex); err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(keyHex)
	old := subscriptions.NewPreferenceLinker(key, 0, func() time.Time { return time.Now().Add(-31 * 24 * time.Hour) })
	oldToken, _ := old.Token(subID)
	base := link[:strings.LastIndex(link, "/")+1]
	if status := open(t, ctx, base+oldToken+"?lang=fr"); status != http.StatusGone || text(t, ctx, "h1") != "Ce lien a expiré" {
		t.Errorf("expired link: %d %q", status, text(t, ctx, "h1"))
	}
	screenshot(t, ctx, "prefpage-expired-fr.png")

	// Revoked while the page is open: the form posted after it changes
	// nothing.
	open(t, ctx, link)
	if code, body := w.nd.api(t, http.MethodPost, "/v1/subscriptions/"+subID+"/preference-links/revoke", nil); code != http.StatusOK {
		t.Fatalf("revoke: %d %v", code, body)
	}
	res, err := chromedp.RunResponse(ctx,
		chromedp.SetValue(chromedp.CSS("#qh0_from"), "23:00"),
		chromedp.Click(chromedp.CSS(`button[value="save"]`)),
	)
	if err != nil || res.Status != http.StatusGone || text(t, ctx, "h1") != "This link no longer works" {
		t.Errorf("posting a revoked link's form: %v %v %q", res, err, text(t, ctx, "h1"))
	}
	if status := open(t, ctx, link); status != http.StatusGone {
		t.Errorf("revoked link: %d", status)
	}
	if code, sub := w.nd.api(t, http.MethodGet, "/v1/subscriptions/"+subID, nil); code != http.StatusOK || sub["version"].(float64) != version {
		t.Errorf("bad links changed the subscription: version %v, want %v", sub["version"], version)
	}
}
