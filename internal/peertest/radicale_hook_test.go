package peertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestRadicaleStorageHookPings proves the recipe docs/peers.md gives for
// Radicale to ping notifyd on every change: its storage hook POSTs a ping
// naming the principal of the user who made the change.
func TestRadicaleStorageHookPings(t *testing.T) {
	t.Parallel()
	peertest.Need(t, "curl")
	pings := make(chan string, 100)
	notifyd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		pings <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization") + " " + string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer notifyd.Close()
	hook := `curl -sS -m 5 -o /dev/null -H 'Authorization: Bearer pingtoken' -H 'Content-Type: application/json' ` +
		`-d '{"system":"radicale","hrefs":["/'%(user)s'/"]}' ` + notifyd.URL + `/v1/notifications || true`
	r := peertest.StartRadicaleWith(t, peertest.RadicaleConfig{Users: []string{"fred"}, Hook: hook})

	cal := peertest.MakeCalendar(t, r, "fred", "work")
	want := `POST /v1/notifications Bearer pingtoken {"system":"radicale","hrefs":["/fred/"]}`
	waitPing := func(what string) {
		t.Helper()
		select {
		case p := <-pings:
			if p != want {
				t.Fatalf("after %s, the hook sent %q; want %q", what, p, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no ping 30 s after %s (see radicale.log)", what)
		}
	}
	waitPing("MKCALENDAR")
	peertest.PutCalendarObject(t, r, "fred", cal+"standup.ics", event("standup", "Standup", "20300107T090000Z"))
	waitPing("a PUT")
	peertest.DeleteCalendarObject(t, r, "fred", cal+"standup.ics")
	waitPing("a DELETE")
}
