package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// These tests run against a real Cyrus IMAP 3.6 (scripts/peers/cyrus.sh);
// they are skipped (failed under CI) when it is not installed.

func cyrusClient(t *testing.T, cy *peertest.Cyrus, user string) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: cy.BaseURL + "/dav/", Username: user, Password: cy.Password(user), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestCyrusNotificationLifecycle(t *testing.T) {
	cy := peertest.StartCyrus(t)
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	ctx := context.Background()
	var dials atomic.Int64
	dial := c.transport.DialContext
	c.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	defer func() {
		// Keep-alive works despite Cyrus's "Connection: Upgrade" (h2c) offer.
		if n := dials.Load(); n != 1 {
			t.Errorf("%d connections for %d sequential requests", n, c.Stats().Total())
		}
	}()

	me, err := c.CurrentUserPrincipal(ctx)
	if err != nil || me != cy.PrincipalHref(peertest.CyrusNotifier) {
		t.Fatalf("CurrentUserPrincipal = %q, %v", me, err)
	}
	// Cyrus quirk: another user's principal yields the caller's home.
	if home, err := c.CalendarHomeSet(ctx, cy.PrincipalHref("wilma")); err != nil || home != cy.CalendarHome(peertest.CyrusNotifier) {
		t.Errorf("CalendarHomeSet(wilma) = %q, %v", home, err)
	}

	coll, err := c.NotificationURL(ctx, cy.PrincipalHref("wilma"))
	if err != nil || coll != cy.NotificationCollection("wilma") {
		t.Fatalf("NotificationURL(wilma) = %q, %v", coll, err)
	}
	if _, err := c.NotificationURL(ctx, cy.PrincipalHref("nobody")); !errors.Is(err, ErrNotFound) {
		t.Errorf("NotificationURL(nobody): %v", err)
	}
	if name, err := c.DisplayName(ctx, cy.PrincipalHref("wilma")); err != nil || name != "wilma" {
		t.Errorf("DisplayName(wilma's principal) = %q, %v", name, err)
	}
	if name, err := c.DisplayName(ctx, coll); err != nil || name != "" {
		t.Errorf("DisplayName(collection) = %q, %v", name, err)
	}
	// An invite to wilma names fred's calendar, not one of wilma's home
	// (Cyrus names the notifier's home as every principal's): its name is
	// not read. A calendar of the home named is.
	before := c.Stats().PropFind
	if _, err := c.CalendarName(ctx, cy.PrincipalHref("wilma"), cy.CalendarHome("fred")+"Default/"); !errors.Is(err, ErrNotCalendar) {
		t.Errorf("CalendarName(fred's calendar) for wilma: %v", err)
	}
	if n := c.Stats().PropFind - before; n != 0 {
		t.Errorf("%d PROPFINDs for a calendar outside the home (discovered with the notification-URL)", n)
	}
	if name, err := c.CalendarName(ctx, me, cy.CalendarHome(peertest.CyrusNotifier)+"Default/"); err != nil || name == "" {
		t.Errorf("CalendarName(the notifier's Default calendar) = %q, %v", name, err)
	}

	initial, err := c.Sync(ctx, coll, "")
	if err != nil {
		t.Fatal(err)
	}
	if initial.Token == "" || len(initial.Changed) != 0 || len(initial.Deleted) != 0 {
		t.Fatalf("initial sync of an empty collection: %+v", initial)
	}

	cy.Share(t, "fred", "wilma", true)
	res, err := c.Sync(ctx, coll, initial.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 1 || len(res.Deleted) != 0 || res.Token == initial.Token {
		t.Fatalf("sync after the share: %+v", res)
	}
	invite := res.Changed[0]
	if got := cy.ListNotifications(t, "wilma"); len(got) != 1 || got[0] != invite.Href {
		t.Errorf("ListNotifications = %v, sync saw %s", got, invite.Href)
	}
	body, etag, err := c.Get(ctx, invite.Href)
	if err != nil {
		t.Fatal(err)
	}
	if etag == "" || etag != invite.ETag {
		t.Errorf("GET ETag %q, sync ETag %q", etag, invite.ETag)
	}
	for _, s := range []string{"invite-notification", "/dav/calendars/user/fred/Default/", "<CS:read-write/>"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("invite lacks %s:\n%s", s, body)
		}
	}

	again, err := c.Sync(ctx, coll, res.Token)
	if err != nil || len(again.Changed) != 0 || len(again.Deleted) != 0 || again.Token == "" {
		t.Errorf("incremental sync with nothing new: %+v, %v", again, err)
	}

	for _, bogus := range []string{"data:,123-4", "garbage"} {
		_, err = c.Sync(ctx, coll, bogus)
		if !errors.Is(err, ErrInvalidSyncToken) || IsTemporary(err) {
			t.Errorf("bogus token %q: %v", bogus, err)
		}
	}

	if err := c.Put(ctx, invite.Href, invite.ETag, body, "application/xml"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("PUT: %v", err)
	}
	if err := c.Delete(ctx, invite.Href, `"0000"`); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("DELETE with a stale ETag: %v", err)
	}
	if err := c.Delete(ctx, invite.Href, invite.ETag); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	gone, err := c.Sync(ctx, coll, again.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone.Changed) != 0 || fmt.Sprint(gone.Deleted) != fmt.Sprint([]string{invite.Href}) {
		t.Errorf("sync after DELETE: %+v", gone)
	}
	if _, _, err := c.Get(ctx, invite.Href); !errors.Is(err, ErrNotFound) {
		t.Errorf("GET after DELETE: %v", err)
	}
	if err := c.Delete(ctx, invite.Href, invite.ETag); err != nil {
		t.Errorf("DELETE again: %v", err)
	}
	s := c.Stats()
	if s.Report < 6 || s.Get != 2 || s.Delete != 3 || s.Put != 1 || s.PropFind < 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestCyrusInviteReply(t *testing.T) {
	cy := peertest.StartCyrus(t)
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	ctx := context.Background()
	fredColl, err := c.NotificationURL(ctx, cy.PrincipalHref("fred"))
	if err != nil {
		t.Fatal(err)
	}
	start, err := c.Sync(ctx, fredColl, "")
	if err != nil {
		t.Fatal(err)
	}
	cy.Share(t, "fred", "carol", false)
	invites := cy.ListNotifications(t, "carol")
	if len(invites) != 1 {
		t.Fatalf("carol's notifications: %v", invites)
	}
	cy.AcceptInvite(t, "carol", invites[0])
	res, err := c.Sync(ctx, fredColl, start.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 1 {
		t.Fatalf("fred's sync after carol accepted: %+v", res)
	}
	body, _, err := c.Get(ctx, res.Changed[0].Href)
	if err != nil || !strings.Contains(string(body), "invite-reply") || !strings.Contains(string(body), "invite-accepted") {
		t.Errorf("reply %s, %v", body, err)
	}
}

func TestCyrusTruncatedSync(t *testing.T) {
	cy := peertest.StartCyrus(t)
	ctx := context.Background()
	// Five invites for wilma: fred shares five calendars.
	for i := 0; i < 5; i++ {
		path := fmt.Sprintf("%sc%d/", cy.CalendarHome("fred"), i)
		if status, _, body := cy.Request(t, "fred", "MKCALENDAR", path, "", ""); status != http.StatusCreated {
			t.Fatalf("MKCALENDAR %s: %d %s", path, status, body)
		}
		body := `<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:"><D:sharee><D:href>mailto:wilma@localhost</D:href>` +
			`<D:share-access><D:read/></D:share-access></D:sharee></D:share-resource>`
		if status, _, resp := cy.Request(t, "fred", http.MethodPost, path, "application/davsharing+xml", body); status/100 != 2 {
			t.Fatalf("share %s: %d %s", path, status, resp)
		}
	}
	full := cyrusClient(t, cy, peertest.CyrusNotifier)
	want, err := full.Sync(ctx, cy.NotificationCollection("wilma"), "")
	if err != nil || len(want.Changed) != 5 {
		t.Fatalf("full sync: %+v %v", want, err)
	}
	limited := cyrusClient(t, cy, peertest.CyrusNotifier)
	limited.syncLimit = 2 // Cyrus then answers 507 for the collection
	got, err := limited.Sync(ctx, cy.NotificationCollection("wilma"), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := limited.Stats().Report; n != 3 {
		t.Errorf("%d REPORTs for 5 changes 2 at a time, want 3", n)
	}
	hrefs := func(r *SyncResult) string {
		var s []string
		for _, c := range r.Changed {
			s = append(s, c.Href+" "+c.ETag)
		}
		sort.Strings(s)
		return strings.Join(s, "\n")
	}
	if hrefs(got) != hrefs(want) || got.Token != want.Token {
		t.Errorf("truncated sync merged:\n%s\n%s\nwant:\n%s\n%s", hrefs(got), got.Token, hrefs(want), want.Token)
	}
}

func TestCyrusAuthAndOutage(t *testing.T) {
	cy := peertest.StartCyrus(t, "wilma")
	ctx := context.Background()

	bad, err := New(Config{BaseURL: cy.BaseURL + "/", Username: peertest.CyrusNotifier, Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.NotificationURL(ctx, cy.PrincipalHref("wilma"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || IsTemporary(err) {
		t.Fatalf("bad password: %v", err)
	}
	if _, err := bad.Sync(ctx, cy.NotificationCollection("wilma"), ""); !errors.As(err, &he) || he.Status != 401 || IsTemporary(err) {
		t.Errorf("bad password, sync: %v", err)
	}

	// The admin account is refused other users' notifications.
	admin := cyrusClient(t, cy, peertest.CyrusAdmin)
	if _, err := admin.Sync(ctx, cy.NotificationCollection("wilma"), ""); !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Errorf("admin sync: %v", err)
	}

	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	first, err := c.Sync(ctx, cy.NotificationCollection("wilma"), "")
	if err != nil {
		t.Fatal(err)
	}
	cy.Stop(t)
	_, err = c.Sync(ctx, cy.NotificationCollection("wilma"), first.Token)
	if err == nil || !IsTemporary(err) {
		t.Errorf("sync while Cyrus is down: %v (temporary %v)", err, IsTemporary(err))
	}
	cy.Start(t)
	again, err := c.Sync(ctx, cy.NotificationCollection("wilma"), first.Token)
	if err != nil || len(again.Changed) != 0 {
		t.Errorf("sync after the restart from the old token: %+v %v", again, err)
	}
}
