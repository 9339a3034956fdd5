package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// resourceChange is a CalendarServer resource change of one event by
// each of bys (changed-by hrefs).
func resourceChange(bys ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><CS:notification xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">` +
		`<CS:dtstamp>20261121T165114Z</CS:dtstamp><CS:resource-change>`)
	for _, by := range bys {
		fmt.Fprintf(&b, `<CS:updated><D:href>/dav/calendars/user/wilma/Default/standup.ics</D:href>`+
			`<CS:changed-by><CS:common-name>Someone</CS:common-name><D:href>%s</D:href></CS:changed-by><CS:content/></CS:updated>`, by)
	}
	b.WriteString(`</CS:resource-change></CS:notification>`)
	return []byte(b.String())
}

// A resource change the principal made (its changed-by names the
// principal or one of its calendar user addresses) is not sent to it: the
// delivery log says suppressed, and why. A subscription with
// notify_own_changes gets it; changes by others, or coalesced with
// another's, are sent; the after-delivery policy leaves a change nobody
// was told of on the server.
func TestResourceChangeByThePrincipalSuppressed(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete)
	ctx := context.Background()
	r.subscribe(t, principal, "wilma@example.org")
	if err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return store.SetCalendarUserAddresses(ctx, tx, store.PrincipalKey{System: "cal", Principal: principal},
			[]string{"mailto:wilma@example.org", "urn:uuid:w-1"})
	}); err != nil {
		t.Fatal(err)
	}
	r.dav.add("own-href.xml", resourceChange("/dav/principals/user/wilma"))
	r.dav.add("own-addr.xml", resourceChange("MAILTO:Wilma@Example.org", "urn:uuid:w-1"))
	r.dav.add("fred.xml", resourceChange("/dav/principals/user/fred/"))
	r.dav.add("mixed.xml", resourceChange("mailto:wilma@example.org", "mailto:fred@example.org"))
	r.ping(t, principal)
	log := r.settle(t)
	status := map[string]store.DeliveryListItem{}
	for _, d := range log {
		status[strings.TrimPrefix(d.NotificationHref, "/dav/notifications/user/wilma/")] = d
	}
	for name, want := range map[string]string{"own-href.xml": store.DeliverySuppressed, "own-addr.xml": store.DeliverySuppressed,
		"fred.xml": store.DeliverySent, "mixed.xml": store.DeliverySent} {
		d := status[name]
		if d.Status != want {
			t.Errorf("%s: delivery %+v, want %s", name, d, want)
		}
		if want == store.DeliverySuppressed && (!strings.Contains(d.LastError, "made this change (changed-by ") ||
			!strings.Contains(d.LastError, "notify_own_changes")) {
			t.Errorf("%s: reason %q", name, d.LastError)
		}
	}
	if len(log) != 4 || len(sentRequests(r.email)) != 2 {
		t.Fatalf("log %+v, %d sent; want 4 deliveries, 2 sent", log, len(sentRequests(r.email)))
	}
	// Deleted from the collection: the two wilma was told of.
	if d := r.dav.count("DELETE"); d != 2 {
		t.Errorf("%d DELETE, want 2", d)
	}

	// Asking for one's own changes.
	own := true
	if _, err := r.subs.Create(ctx, subscriptions.Input{System: "cal", Principal: principal, NotifyOwnChanges: &own,
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "wilma-all@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	r.dav.add("own-again.xml", resourceChange("/dav/principals/user/wilma/"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 3 || got[0] != "wilma-all@example.org" {
		t.Errorf("sent to %v, want the own change to wilma-all only", got)
	}
}
