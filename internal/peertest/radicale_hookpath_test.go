package peertest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestRadicaleHookKnowsOnlyTheUser pins what the installed Radicale
// (Debian's 3.1.8) gives its storage hook: the user who wrote
// (%(user)s), and nothing about what was written. Radicale 3.5.1 added
// %(path)s (the item written; 3.5.5 for every method): here a hook that
// names it makes every write fail, so the recipe in docs/peers.md pings
// the writer's principal, not the calendar that changed. If this test
// fails, the Radicale installed fills %(path)s: the recipe can name the
// calendar (docs/peers.md says how).
func TestRadicaleHookKnowsOnlyTheUser(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "hook.out")
	r := peertest.StartRadicaleWith(t, peertest.RadicaleConfig{Users: []string{"fred"},
		Hook: `echo %(user)s %(path)s >> ` + out})
	status, _, body := r.Request(t, "fred", "MKCALENDAR", "/fred/work/", "application/xml; charset=utf-8",
		`<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"/>`)
	ran, _ := os.ReadFile(out)
	t.Logf("MKCALENDAR with a hook naming %%(path)s: %d", status)
	if status < http.StatusInternalServerError || len(ran) > 0 {
		t.Fatalf("MKCALENDAR with a hook naming %%(path)s: %d %s; the hook wrote %q. "+
			"This Radicale fills %%(path)s: make the recipe in docs/peers.md ping the calendar's path", status, body, strings.TrimSpace(string(ran)))
	}
	// The change was stored all the same: only its answer failed.
	if status, _, _ := r.Request(t, "fred", "PROPFIND", "/fred/work/", "application/xml", ""); status != http.StatusMultiStatus {
		t.Errorf("PROPFIND of the calendar made: %d, want 207 (stored)", status)
	}
	// The same hook with %(user)s alone runs.
	r2 := peertest.StartRadicaleWith(t, peertest.RadicaleConfig{Users: []string{"fred"}, Hook: `echo %(user)s >> ` + out})
	peertest.MakeCalendar(t, r2, "fred", "work")
	if ran, _ := os.ReadFile(out); strings.TrimSpace(string(ran)) != "fred" {
		t.Fatalf("the hook with %%(user)s wrote %q, want fred", ran)
	}
}
