package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// world is Cyrus, an SMTP sink and a notifyd configured for them: system
// "cyrus" deletes notifications once delivered, system "keep" (the same
// server) keeps them, and system "mark" marks them (which Cyrus refuses).
type world struct {
	cyrus *peertest.Cyrus
	smtp  *peertest.SMTP
	nd    *instance
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cy := peertest.StartCyrus(t, "fred", "wilma", "carol", "dave", "erin")
	sink := peertest.StartSMTP(t)
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	system := func(name, policy string) string {
		return fmt.Sprintf(`  %s:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    principal_prefix: /dav/principals/
    after_delivery: %s
    timeout: 5s
`, name, cy.BaseURL, pingToken, policy)
	}
	nd := newInstanceWith(t, "systems:\n"+system("cyrus", "delete")+system("keep", "keep")+system("mark", "mark")+fmt.Sprintf(`channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, sink.Host, sink.Port, ca))
	nd.start()
	return &world{cyrus: cy, smtp: sink, nd: nd}
}

func sinkCertPEM(t testing.TB, s *peertest.SMTP) []byte {
	t.Helper()
	for _, name := range []string{"cert.pem", "tls.crt", "server.crt"} {
		if b, err := os.ReadFile(filepath.Join(s.Dir, name)); err == nil {
			return b
		}
	}
	t.Fatalf("no certificate found in the SMTP sink's directory %s", s.Dir)
	return nil
}

// api calls notifyd's REST API with the operator key.
func (w *world) api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return w.nd.api(t, method, path, body)
}

func (w *world) subscribe(t *testing.T, system, user string, emails ...string) {
	t.Helper()
	var methods []map[string]any
	for _, e := range emails {
		methods = append(methods, map[string]any{"channel": "email", "address": e})
	}
	code, body := w.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": system, "principal": w.cyrus.PrincipalHref(user), "time_zone": "Europe/Paris", "methods": methods,
	})
	if code != http.StatusCreated {
		t.Fatalf("subscribe %s: %d %v", user, code, body)
	}
}

func (w *world) ping(t *testing.T, system string, users ...string) {
	t.Helper()
	var hrefs []string
	for _, u := range users {
		hrefs = append(hrefs, w.cyrus.PrincipalHref(u))
	}
	body, _ := json.Marshal(map[string]any{"system": system, "token": pingToken, "hrefs": hrefs})
	resp, err := http.Post(w.nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping %v: %d", users, resp.StatusCode)
	}
}

// deliveries returns the delivery log of a principal.
func (w *world) deliveries(t *testing.T, system, user string) []map[string]any {
	t.Helper()
	code, body := w.api(t, http.MethodGet, "/v1/deliveries?system="+system+"&principal="+w.cyrus.PrincipalHref(user), nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %v", code, body)
	}
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// waitDeliveries waits until user has n deliveries, all final.
func (w *world) waitDeliveries(t *testing.T, system, user string, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	return waitFinal(t, timeout, n, func() []map[string]any { return w.deliveries(t, system, user) },
		func() string { return fmt.Sprintf("(%s)\nnotifyd log:\n%s", user, w.nd.log) })
}

func (w *world) mailTo(t *testing.T, addr string) []peertest.ReceivedMessage {
	t.Helper()
	var out []peertest.ReceivedMessage
	for _, m := range w.smtp.Messages(t) {
		for _, r := range m.RcptTo {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitCollection waits until user's notification collection holds n
// notifications.
func (w *world) waitCollection(t *testing.T, user string, n int, timeout time.Duration) {
	t.Helper()
	var got []string
	waitUntil(t, timeout, func() bool { got = w.cyrus.ListNotifications(t, user); return len(got) == n },
		func() string { return fmt.Sprintf("%s's collection has %d notifications, want %d", user, len(got), n) })
}

// TestCalDAVToEmail runs the scenarios in order on one world.
func TestCalDAVToEmail(t *testing.T) {
	w := newWorld(t)

	t.Run("invite becomes one email and is deleted", func(t *testing.T) {
		w.subscribe(t, "cyrus", "wilma", "wilma@example.org")
		w.cyrus.Share(t, "fred", "wilma", true)
		if n := len(w.cyrus.ListNotifications(t, "wilma")); n != 1 {
			t.Fatalf("Cyrus made %d notifications for wilma, want 1", n)
		}
		w.ping(t, "cyrus", "wilma")
		ds := w.waitDeliveries(t, "cyrus", "wilma", 1, time.Minute)
		if ds[0]["status"] != "sent" || ds[0]["address"] != "wilma@example.org" {
			t.Fatalf("delivery %v", ds[0])
		}
		msgs := w.mailTo(t, "wilma@example.org")
		if len(msgs) != 1 {
			t.Fatalf("wilma got %d emails, want 1", len(msgs))
		}
		m := msgs[0]
		subject := m.Header.Get("Subject")
		if !strings.Contains(subject+m.Text, "fred") || !strings.Contains(m.Text, "Default") {
			t.Errorf("the email does not name fred and the calendar:\nSubject: %s\n%s", subject, m.Text)
		}
		if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("Message-Id") == "" ||
			!strings.Contains(m.Header.Get("List-Unsubscribe"), "/v1/unsubscribe/") || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("headers: %v", m.Header)
		}
		if m.HTML == "" {
			t.Error("no HTML alternative")
		}
		w.waitCollection(t, "wilma", 0, time.Minute)
	})

	t.Run("invite reply reaches the sharer", func(t *testing.T) {
		w.subscribe(t, "cyrus", "fred", "fred@example.org")
		w.cyrus.Share(t, "fred", "carol", false)
		invites := w.cyrus.ListNotifications(t, "carol")
		if len(invites) != 1 {
			t.Fatalf("carol has %d notifications, want the invite", len(invites))
		}
		w.cyrus.AcceptInvite(t, "carol", invites[0])
		w.ping(t, "cyrus", "fred")
		w.waitDeliveries(t, "cyrus", "fred", 1, time.Minute)
		msgs := w.mailTo(t, "fred@example.org")
		if len(msgs) != 1 || !strings.Contains(strings.ToLower(msgs[0].Header.Get("Subject")+msgs[0].Text), "accepted") {
			t.Fatalf("fred's emails: %d %v", len(msgs), msgs)
		}
	})

	t.Run("idle ping sends nothing, ten pings send one", func(t *testing.T) {
		w.ping(t, "cyrus", "wilma")
		waitIdle(t, w.nd, time.Minute) // the ping's sync has run and sent whatever it would
		if n := len(w.mailTo(t, "wilma@example.org")); n != 1 {
			t.Fatalf("after an idle ping wilma has %d emails, want still 1", n)
		}
		w.subscribe(t, "cyrus", "dave", "dave@example.org")
		w.cyrus.Share(t, "fred", "dave", true)
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); w.ping(t, "cyrus", "dave") }()
		}
		wg.Wait()
		w.waitDeliveries(t, "cyrus", "dave", 1, time.Minute)
		waitIdle(t, w.nd, time.Minute) // every sync the pings made has run
		if n := len(w.mailTo(t, "dave@example.org")); n != 1 {
			t.Fatalf("10 pings sent dave %d emails, want 1", n)
		}
	})

	t.Run("no subscription: nothing sent, nothing lost", func(t *testing.T) {
		w.cyrus.Share(t, "fred", "erin", true)
		w.ping(t, "cyrus", "erin")
		waitFor(t, time.Minute, "erin's first sync", func() bool { return w.syncToken(t, "cyrus", "erin") != "" })
		if n := len(w.mailTo(t, "erin@example.org")); n != 0 {
			t.Fatalf("erin has no subscription but got %d emails", n)
		}
		if n := len(w.cyrus.ListNotifications(t, "erin")); n != 1 {
			t.Fatalf("erin's invite is gone (%d left): an unsubscribed principal's notifications must stay", n)
		}
	})

	t.Run("corrupted sync token: full resync, no duplicate", func(t *testing.T) {
		w.subscribe(t, "keep", "carol", "carol@example.org")
		w.ping(t, "keep", "carol") // carol's invite from fred is still there
		w.waitDeliveries(t, "keep", "carol", 1, time.Minute)
		w.setSyncToken(t, "keep", "carol", "data:,1-999999")
		w.ping(t, "keep", "carol")
		waitFor(t, time.Minute, "carol's full resync", func() bool { return w.syncToken(t, "keep", "carol") != "data:,1-999999" })
		waitIdle(t, w.nd, time.Minute) // whatever the resync would send is sent
		if n := len(w.mailTo(t, "carol@example.org")); n != 1 {
			t.Fatalf("after the full resync carol has %d emails, want 1", n)
		}
		if !strings.Contains(w.nd.log.String(), "full sync") {
			t.Error("the refused token was not logged")
		}
	})

	t.Run("Cyrus down at the ping: retried, delivered once it is back", func(t *testing.T) {
		w.cyrus.Share(t, "fred", "wilma", false) // a new invite
		failed := metric(t, w.nd, `notifyd_syncs_total{outcome="failed",system="cyrus"}`)
		w.cyrus.Stop(t)
		w.ping(t, "cyrus", "wilma") // the 202 still comes
		// notifyd has tried, and failed, to sync while Cyrus was down.
		waitMetric(t, w.nd, `notifyd_syncs_total{outcome="failed",system="cyrus"}`, failed+1, time.Minute)
		if n := len(w.mailTo(t, "wilma@example.org")); n != 1 {
			t.Fatalf("sent while Cyrus was down: %d", n)
		}
		w.cyrus.Start(t)
		w.waitDeliveries(t, "cyrus", "wilma", 2, time.Minute)
		if n := len(w.mailTo(t, "wilma@example.org")); n != 2 {
			t.Fatalf("after Cyrus came back wilma has %d emails, want 2", n)
		}
	})

	t.Run("SMTP 451 is retried, 550 fails with the reply", func(t *testing.T) {
		w.smtp.SetRules(t, peertest.Rules{TempFail: map[string]int{"flaky@example.org": 2}, PermFail: []string{"nobody@example.org"}})
		w.subscribe(t, "cyrus", "erin", "flaky@example.org", "nobody@example.org")
		w.cyrus.Share(t, "carol", "erin", true)
		w.ping(t, "cyrus", "erin")
		ds := w.waitDeliveries(t, "cyrus", "erin", 2, time.Minute)
		by := map[string]map[string]any{}
		for _, d := range ds {
			by[d["address"].(string)] = d
		}
		if d := by["flaky@example.org"]; d["status"] != "sent" || d["attempts"].(float64) < 3 {
			t.Errorf("flaky: %v, want sent after two 451s", d)
		}
		if d := by["nobody@example.org"]; d["status"] != "failed" || !strings.Contains(d["last_error"].(string), "550") {
			t.Errorf("nobody: %v, want failed with the 550 reply", d)
		}
		if n := len(w.mailTo(t, "flaky@example.org")); n != 1 {
			t.Errorf("flaky got %d emails, want exactly 1", n)
		}
	})

	t.Run("one-click unsubscribe stops the messages", func(t *testing.T) {
		m := w.mailTo(t, "dave@example.org")[0]
		link := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
		resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("unsubscribe: %d", resp.StatusCode)
		}
		before := w.syncToken(t, "cyrus", "dave")
		w.cyrus.Share(t, "carol", "dave", false)
		w.ping(t, "cyrus", "dave")
		waitFor(t, time.Minute, "dave's sync", func() bool { return w.syncToken(t, "cyrus", "dave") != before })
		waitIdle(t, w.nd, time.Minute) // whatever the sync would send is sent
		if ds := w.deliveries(t, "cyrus", "dave"); len(ds) != 1 {
			t.Fatalf("a delivery was made to an unsubscribed method: %v", ds)
		}
		if n := len(w.mailTo(t, "dave@example.org")); n != 1 {
			t.Fatalf("dave got %d emails after unsubscribing, want still 1", n)
		}
	})

	t.Run("a link from before the method was switched on again does nothing", func(t *testing.T) {
		old := strings.Trim(w.mailTo(t, "dave@example.org")[0].Header.Get("List-Unsubscribe"), "<>")
		code, list := w.api(t, http.MethodGet, "/v1/subscriptions?system=cyrus&principal="+w.cyrus.PrincipalHref("dave"), nil)
		if code != http.StatusOK || len(list["items"].([]any)) != 1 {
			t.Fatalf("dave's subscriptions: %d %v", code, list)
		}
		id := list["items"].([]any)[0].(map[string]any)["id"].(string)
		code, body := w.api(t, http.MethodPatch, "/v1/subscriptions/"+id, map[string]any{
			"methods": []map[string]any{{"channel": "email", "address": "dave@example.org", "enabled": true}}})
		if code != http.StatusOK {
			t.Fatalf("re-enable: %d %v", code, body)
		}
		post := func(link string) int {
			resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post(old); code != http.StatusGone {
			t.Fatalf("the old link: %d, want 410", code)
		}
		w.cyrus.Share(t, "wilma", "dave", false)
		w.ping(t, "cyrus", "dave")
		w.waitDeliveries(t, "cyrus", "dave", 2, time.Minute)
		var fresh string
		for _, m := range w.mailTo(t, "dave@example.org") {
			if l := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>"); l != old {
				fresh = l
			}
		}
		if fresh == "" {
			t.Fatal("no message with a new link after re-enabling")
		}
		if code := post(fresh); code != http.StatusOK {
			t.Fatalf("the new link: %d, want 200", code)
		}
	})
}

// The mark policy's counterpart of the first subtest: Cyrus refuses to
// have a notification rewritten (PUT), so an invite is kept as it was,
// recorded as such, sent once, and neither retried nor sent again.
func TestCalDAVToEmailMarkPolicy(t *testing.T) {
	w := newWorld(t)
	w.subscribe(t, "mark", "wilma", "wilma@example.org")
	w.cyrus.Share(t, "fred", "wilma", true)
	w.ping(t, "mark", "wilma")
	if ds := w.waitDeliveries(t, "mark", "wilma", 1, time.Minute); ds[0]["status"] != "sent" {
		t.Fatalf("delivery %v", ds[0])
	}
	waitIdle(t, w.nd, time.Minute) // the policy is applied
	var status, note string
	if err := w.nd.db().QueryRow(`SELECT status, error FROM notifications WHERE system = 'mark'`).Scan(&status, &note); err != nil ||
		status != "done" || note != "kept: the server does not accept changes to notifications" {
		t.Errorf("notification %q %q (%v), want done, kept as Cyrus refuses the PUT", status, note, err)
	}
	if n := len(w.cyrus.ListNotifications(t, "wilma")); n != 1 {
		t.Errorf("wilma's collection has %d notifications, want the invite kept", n)
	}
	w.ping(t, "mark", "wilma")
	waitIdle(t, w.nd, time.Minute)
	if n := len(w.mailTo(t, "wilma@example.org")); n != 1 {
		t.Errorf("wilma got %d emails, want 1", n)
	}
	if n := metric(t, w.nd, `notifyd_caldav_requests_total{method="PUT",system="mark"}`); n != 1 {
		t.Errorf("%v PUTs, want 1: a refusal is not retried", n)
	}
}

func (w *world) syncToken(t *testing.T, system, user string) string {
	t.Helper()
	var tok string
	w.nd.db().QueryRowContext(context.Background(), `SELECT sync_token FROM principal_state WHERE system = $1 AND principal = $2`,
		system, w.cyrus.PrincipalHref(user)).Scan(&tok)
	return tok
}

func (w *world) setSyncToken(t *testing.T, system, user, token string) {
	t.Helper()
	_, err := w.nd.db().ExecContext(context.Background(), `UPDATE principal_state SET sync_token = $3 WHERE system = $1 AND principal = $2`,
		system, w.cyrus.PrincipalHref(user), token)
	if err != nil {
		t.Fatal(err)
	}
}
