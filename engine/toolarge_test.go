package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// tooLargeDAV is fakeDAV serving one resource as too large to read, as
// caldavclient does with a body over its limit.
type tooLargeDAV struct {
	*fakeDAV
	huge string // href
}

func (d tooLargeDAV) Get(ctx context.Context, href string) ([]byte, string, error) {
	if href == d.huge {
		d.hit("GET")
		return nil, "", fmt.Errorf("%w: GET %s: Content-Length 52428800 > 10485760 bytes", caldavclient.ErrTooLarge, href)
	}
	return d.fakeDAV.Get(ctx, href)
}

// A notification too large to read is set aside with the reason, like one
// that cannot be parsed: the principal's other notifications are
// delivered, and later syncs do not fetch it again.
func TestOversizedNotificationDoesNotBlockTheOthers(t *testing.T) {
	huge := "/dav/notifications/user/wilma/huge.xml"
	r := newRigOpts(t, engine.PolicyDelete, func(o *engine.Options) {
		o.Systems[0].CalDAV = tooLargeDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV), huge: huge}
	})
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("huge.xml", inviteXML("huge"))
	r.dav.add("good.xml", inviteXML("good"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v, want the good notification delivered", got)
	}
	var status, reason string
	testdb.QueryRow(r.db, `SELECT status, error FROM notifications WHERE href = $1`, huge).Scan(&status, &reason)
	if status != store.NotificationDead || !strings.Contains(reason, "too large") {
		t.Fatalf("oversized notification: status %q reason %q, want dead, saying it is too large", status, reason)
	}
	gets := r.dav.count("GET")
	r.dav.add("next.xml", inviteXML("next"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 2 {
		t.Fatalf("after another ping sent %v, want the next notification delivered too", got)
	}
	if n := r.dav.count("GET") - gets; n != 1 {
		t.Fatalf("the next sync made %d GETs, want 1 (the oversized notification is not fetched again)", n)
	}
}
