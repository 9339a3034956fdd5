package caldavclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// addressServer is a fake CalDAV server whose principal fred has the
// calendar user addresses that set returns (a DAV:href list, "" for no
// property at all), and a notification collection unless noNotif.
type addressServer struct {
	*fake
	mu      sync.Mutex
	set     string
	noNotif bool
	down    bool // answer 503
}

func newAddressServer(t *testing.T, set string) *addressServer {
	s := &addressServer{set: set}
	s.fake = newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if r.Method != "PROPFIND" || r.URL.Path != fredPrincipal {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		props := `<C:calendar-home-set><D:href>/dav/calendars/user/fred/</D:href></C:calendar-home-set>`
		if !s.noNotif {
			props += `<D:notification-URL><D:href>/dav/notifications/user/fred/</D:href></D:notification-URL>`
		}
		missing := ""
		if s.set != "" {
			props += `<C:calendar-user-address-set>` + s.set + `</C:calendar-user-address-set>`
		} else {
			missing = `<D:propstat><D:prop><C:calendar-user-address-set/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>`
		}
		xmlReply(w, http.StatusMultiStatus, `<?xml version="1.0" encoding="utf-8"?>`+
			`<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>`+fredPrincipal+`</D:href>`+
			`<D:propstat><D:prop>`+props+`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`+missing+
			`</D:response></D:multistatus>`)
	})
	return s
}

func (s *addressServer) setAddresses(set string) {
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
}

func hrefs(addrs ...string) string {
	var b strings.Builder
	for _, a := range addrs {
		b.WriteString("<D:href>" + a + "</D:href>")
	}
	return b.String()
}

// The addresses come from the PROPFIND that finds the notification
// collection and the calendar homes (one request for all three), trimmed,
// mailto: ones in lower case, each once, in the server's order.
func TestCalendarUserAddresses(t *testing.T) {
	s := newAddressServer(t, hrefs(" mailto:Fred@Example.ORG ", "MAILTO:fred@example.org", "urn:uuid:1F6A-AB",
		"/dav/principals/user/fred/", "mailto:fred.flintstone@example.org", ""))
	c := newTestClient(t, s.URL)
	ctx := context.Background()
	if _, err := c.NotificationURL(ctx, fredPrincipal); err != nil {
		t.Fatal(err)
	}
	got, err := c.CalendarUserAddresses(ctx, fredPrincipal)
	want := []string{"mailto:fred@example.org", "urn:uuid:1F6A-AB", "/dav/principals/user/fred/", "mailto:fred.flintstone@example.org"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("CalendarUserAddresses = %q, %v; want %q", got, err, want)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want the one PROPFIND of the principal", n)
	}
	if body := s.requests()[0].Body; !strings.Contains(body, "<C:calendar-user-address-set/>") || !strings.Contains(body, "<C:calendar-home-set/>") {
		t.Errorf("the principal's PROPFIND does not ask for the addresses with the homes:\n%s", body)
	}
	// The caller's copy is its own.
	got[0] = "mailto:someone@else"
	if again, _ := c.CalendarUserAddresses(ctx, fredPrincipal); again[0] != "mailto:fred@example.org" {
		t.Errorf("the cache was changed through a returned slice: %q", again)
	}
}

// A principal with no notification collection, or whose server does not
// report the property, still answers (no addresses for the latter); a
// missing principal is ErrNotFound.
func TestCalendarUserAddressesNone(t *testing.T) {
	s := newAddressServer(t, "")
	s.mu.Lock()
	s.noNotif = true
	s.mu.Unlock()
	c := newTestClient(t, s.URL)
	ctx := context.Background()
	got, err := c.CalendarUserAddresses(ctx, fredPrincipal)
	if err != nil || len(got) != 0 {
		t.Errorf("no property: %q, %v; want none, no error", got, err)
	}
	pu, _ := c.resolve(nil, fredPrincipal)
	if homes, err := c.calendarHomes(ctx, pu); err != nil || len(homes) != 1 {
		t.Errorf("homes %q, %v: the same PROPFIND found them", homes, err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if _, err := c.CalendarUserAddresses(ctx, "/dav/principals/user/nobody/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing principal: %v, want ErrNotFound", err)
	}
}

// At most 50 addresses of at most 1 KiB each are kept; the others are
// left out with a warning.
func TestCalendarUserAddressesBounded(t *testing.T) {
	var many []string
	for i := range 80 {
		many = append(many, fmt.Sprintf("mailto:fred%d@example.org", i))
	}
	long := "mailto:" + strings.Repeat("f", 1100) + "@example.org"
	s := newAddressServer(t, hrefs(append([]string{long}, many...)...))
	var logs bytes.Buffer
	c := newTestClient(t, s.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	got, err := c.CalendarUserAddresses(context.Background(), fredPrincipal)
	if err != nil || len(got) != maxAddresses || got[0] != "mailto:fred0@example.org" || got[49] != "mailto:fred49@example.org" {
		t.Fatalf("got %d addresses (%.60q…), %v; want the first 50 short ones", len(got), got, err)
	}
	if !strings.Contains(logs.String(), "left_out=31") {
		t.Errorf("no warning of the 31 addresses left out:\n%s", logs.String())
	}
}

// The addresses are asked for again after about an hour (one PROPFIND,
// which refreshes the homes and notification collection too), not
// before; ForgetNotificationURL forgets them.
func TestCalendarUserAddressesRefresh(t *testing.T) {
	s := newAddressServer(t, hrefs("mailto:fred@example.org"))
	c := newTestClient(t, s.URL)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	ask := func(want ...string) {
		t.Helper()
		got, err := c.CalendarUserAddresses(ctx, fredPrincipal)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("CalendarUserAddresses = %q, %v; want %q", got, err, want)
		}
	}
	ask("mailto:fred@example.org")
	s.setAddresses(hrefs("mailto:fred@example.org", "mailto:flintstone@example.org"))
	advance(addressMaxAge * 3 / 4)
	ask("mailto:fred@example.org")
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests within 45 minutes, want 1", n)
	}
	advance(addressMaxAge / 4)
	ask("mailto:fred@example.org", "mailto:flintstone@example.org")
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests after an hour, want 2", n)
	}
	c.ForgetNotificationURL(fredPrincipal)
	s.setAddresses(hrefs("mailto:wilma@example.org"))
	ask("mailto:wilma@example.org")

	// A refresh that fails is an error, not the stale set.
	advance(addressMaxAge)
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	if got, err := c.CalendarUserAddresses(ctx, fredPrincipal); err == nil || !IsTemporary(err) {
		t.Errorf("server down: %q, %v; want a temporary error", got, err)
	}
}
