package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// The mark policy rewrites a delivered notification in place, only if it
// is still the version delivered (If-Match), with notifyd's <processed>
// element added inside its root element: it stays in the collection, and
// the next sync, which finds it changed, neither sends it again nor marks
// it again. A server that refuses the PUT (Cyrus) keeps it as it was.
func TestMarkPolicy(t *testing.T) {
	t.Parallel()
	for _, refused := range []bool{false, true} {
		name, note := "accepted", "marked as processed"
		if refused {
			name, note = "refused", "kept: the server does not accept changes to notifications"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, engine.PolicyMark)
			r.dav.refusePut = refused
			r.invite(t, "wilma@example.org")
			r.settle(t)
			var status, got string
			testdb.QueryRow(r.db, `SELECT status, error FROM notifications`).Scan(&status, &got)
			if status != store.NotificationDone || got != note || len(r.dav.deleted) != 0 || r.dav.count("PUT") != 1 {
				t.Fatalf("notification %s %q, deleted %v, %d PUTs; want it done, %q, not deleted, one PUT",
					status, got, r.dav.deleted, r.dav.count("PUT"), note)
			}
			if !refused {
				p := r.dav.puts[0]
				orig := string(inviteXML("n1"))
				end := strings.LastIndex(orig, "</")
				at, ok := strings.CutPrefix(string(p.body), orig[:end]+`<N:processed xmlns:N="urn:notifyd" at="`)
				at, ok2 := strings.CutSuffix(at, `"/>`+orig[end:])
				if _, err := time.Parse(time.RFC3339, at); !ok || !ok2 || err != nil {
					t.Errorf("PUT body:\n%s\nwant the notification with <N:processed at=\"(RFC 3339)\"/> before its root's end tag", p.body)
				}
				if p.href != "/dav/notifications/user/wilma/n1.xml" || p.ifMatch != `"e1"` || !strings.HasPrefix(p.contentType, "application/xml") {
					t.Errorf("PUT %s If-Match %s Content-Type %s, want the notification's href, its delivered ETag, XML", p.href, p.ifMatch, p.contentType)
				}
			}
			r.ping(t, principal)
			r.settle(t)
			if sent := r.email.sentTo(); len(sent) != 1 || r.dav.count("PUT") != 1 {
				t.Errorf("after the next sync, sent %v and %d PUTs; want the one message and the one PUT", sent, r.dav.count("PUT"))
			}
		})
	}
}
