package caldavclient

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// What Cyrus 3.6 answers the service account for a user's
// calendar-user-address-set: "mailto:USER@internal" (USER at Cyrus's
// defaultdomain) until the user sets the property with PROPPATCH, then
// what the user set. The service account needs lr on
// user/OWNER/#calendars (which the discovery of the notification
// collection needs anyway): without it the whole PROPFIND is 403.
func TestCyrusCalendarUserAddresses(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred", "wilma")
	ctx := context.Background()
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	got, err := c.CalendarUserAddresses(ctx, cy.PrincipalHref("fred"))
	if err != nil || !slices.Equal(got, []string{"mailto:fred@internal"}) {
		t.Errorf("fred's default addresses: %q, %v", got, err)
	}

	set := `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<C:calendar-user-address-set><D:href>mailto:Fred@Example.org</D:href><D:href>mailto:fred.flintstone@example.org</D:href></C:calendar-user-address-set>` +
		`</D:prop></D:set></D:propertyupdate>`
	if status, _, body := cy.Request(t, "fred", "PROPPATCH", cy.PrincipalHref("fred"), xmlContentType, set); status != http.StatusMultiStatus ||
		!strings.Contains(string(body), "200 OK") {
		t.Fatalf("fred's PROPPATCH of his addresses: %d %s", status, body)
	}
	// Cached until forgotten (or an hour).
	if got, _ := c.CalendarUserAddresses(ctx, cy.PrincipalHref("fred")); !slices.Equal(got, []string{"mailto:fred@internal"}) {
		t.Errorf("cached addresses: %q", got)
	}
	c.ForgetNotificationURL(cy.PrincipalHref("fred"))
	got, err = c.CalendarUserAddresses(ctx, cy.PrincipalHref("fred"))
	if want := []string{"mailto:fred@example.org", "mailto:fred.flintstone@example.org"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("fred's addresses after his PROPPATCH: %q, %v; want %q", got, err, want)
	}

	cy.IMAP(t, peertest.CyrusAdmin, `DELETEACL "user/wilma/#calendars" `+peertest.CyrusNotifier)
	var he *HTTPError
	if got, err := c.CalendarUserAddresses(ctx, cy.PrincipalHref("wilma")); !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Errorf("wilma's addresses without lr on user/wilma/#calendars: %q, %v; want 403", got, err)
	}
}

// The DAV:sync-token property the home's listing shows for a calendar
// stays the same while nothing in it changes, and changes with any
// change of a member, an edit of an alarm only included: what lets a
// poll skip the calendar's REPORT.
func TestCyrusSyncTokenPropertyTracksChanges(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred")
	ctx := context.Background()
	ev1, _, _ := cyrusCalendar(t, cy, "fred", "work")
	cy.GrantCalendar(t, "fred", "work")
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	token := func() (string, string) {
		t.Helper()
		cals, err := c.Calendars(ctx, cy.PrincipalHref("fred"))
		if err != nil || len(cals) != 1 {
			t.Fatalf("Calendars(fred) = %+v, %v", cals, err)
		}
		return cals[0].SyncToken, cals[0].CTag
	}
	t1, c1 := token()
	if t1 == "" || c1 == "" {
		t.Fatalf("no sync-token (%q) or getctag (%q) property", t1, c1)
	}
	res, err := c.Sync(ctx, cy.SharedCalendarPath(peertest.CyrusNotifier, "fred", "work"), "")
	if err != nil {
		t.Fatal(err)
	}
	if t2, c2 := token(); t2 != t1 || c2 != c1 {
		t.Errorf("the properties changed with nothing changed (a REPORT in between): %q %q, then %q %q", t1, c1, t2, c2)
	}
	t.Logf("sync-token property %q, REPORT token %q, getctag %q", t1, res.Token, c1)

	cyrusPut(t, cy, "fred", ev1, strings.Replace(cyrusEvent("ev1", "with alarm", true), "TRIGGER:-PT15M", "TRIGGER:-PT30M", 1))
	t3, c3 := token()
	if t3 == t1 || c3 == c1 {
		t.Errorf("an alarm's edit left the properties as they were: %q %q", t3, c3)
	}
}
