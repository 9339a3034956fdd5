package caldavclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sharedHome is a Cyrus-like server: every principal's calendar home is
// notifierHome, which lists the Default calendar of each of n users,
// u0…u(n-1), owned by them, with sync-token tag. It counts the listings.
type sharedHome struct {
	*fake
	n        int
	listings atomic.Int64
	mu       sync.Mutex
	tag      string
	fail     bool          // answer the home's PROPFIND with 503
	gate     chan struct{} // if not nil, the home's PROPFIND waits for it
}

func userPrincipal(i int) string { return fmt.Sprintf("/dav/principals/user/u%d/", i) }

func newSharedHome(t *testing.T, n int) *sharedHome {
	s := &sharedHome{n: n, tag: "data:,1-1"}
	s.fake = newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "PROPFIND" && strings.HasPrefix(r.URL.Path, "/dav/principals/"):
			xmlReply(w, http.StatusMultiStatus, principalAnswer(r.URL.Path, notifierHome))
		case r.Method == "PROPFIND" && r.URL.Path == notifierHome:
			s.listings.Add(1)
			s.mu.Lock()
			tag, fail, gate := s.tag, s.fail, s.gate
			s.mu.Unlock()
			if gate != nil {
				<-gate
			}
			if fail {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			var b strings.Builder
			b.WriteString(homeHead + member(notifierHome, `<D:resourcetype><D:collection/></D:resourcetype>`))
			for i := range s.n {
				b.WriteString(member(fmt.Sprintf("%su%d.Default/", notifierHome, i), calType+
					`<D:owner><D:href>`+userPrincipal(i)+`</D:href></D:owner><D:sync-token>`+tag+`</D:sync-token>`))
			}
			xmlReply(w, http.StatusMultiStatus, b.String()+homeTail)
		default:
			http.NotFound(w, r)
		}
	})
	return s
}

func (s *sharedHome) set(f func(s *sharedHome)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// clock is a settable clock for a Client's caches.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func withClock(c *Client) *clock {
	clk := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	c.now = clk.Now
	return clk
}

// A round of polls lists a shared home once for all its principals, each
// getting its own calendars; a later round lists it again; Calendars
// (a ping's sync) always lists it.
func TestCalendarsListedSinceSharesAHome(t *testing.T) {
	const n = 20
	s := newSharedHome(t, n)
	c := newTestClient(t, s.URL)
	clk := withClock(c)
	ctx := context.Background()
	round := func(since time.Time) {
		t.Helper()
		for i := range n {
			cals, err := c.CalendarsListedSince(ctx, userPrincipal(i), since)
			if err != nil || len(cals) != 1 || cals[0].Owner != userPrincipal(i) || cals[0].SyncToken == "" {
				t.Fatalf("u%d: %+v, %v", i, cals, err)
			}
		}
	}
	round(clk.Now())
	if got := s.listings.Load(); got != 1 {
		t.Errorf("first round: %d listings of the home, want 1", got)
	}
	clk.advance(10 * time.Second)
	round(clk.Now())
	if got := s.listings.Load(); got != 2 {
		t.Errorf("second round: %d listings, want 2", got)
	}
	before := c.Stats()
	clk.advance(time.Second)
	round(clk.Now())
	if d := c.Stats().PropFind - before.PropFind; d != 1 {
		t.Errorf("a round of %d principals (discovered) sent %d PROPFINDs, want 1", n, d)
	}
	if c.Stats().Bytes <= before.Bytes {
		t.Error("Stats.Bytes did not count the listing")
	}

	// A change after the round's listing: a later round sees it, and so
	// does Calendars at once.
	s.set(func(s *sharedHome) { s.tag = "data:,1-2" })
	if cals, _ := c.CalendarsListedSince(ctx, userPrincipal(0), clk.Now().Add(-time.Second)); cals[0].SyncToken != "data:,1-1" {
		t.Errorf("a listing sent after since was not used: %+v", cals)
	}
	if cals, _ := c.Calendars(ctx, userPrincipal(0)); cals[0].SyncToken != "data:,1-2" {
		t.Errorf("Calendars answered from an earlier listing: %+v", cals)
	}
	if cals, _ := c.Calendars(ctx, userPrincipal(0)); cals[0].SyncToken != "data:,1-2" || s.listings.Load() != 5 {
		t.Errorf("Calendars: %+v after %d listings, want a listing each time (5)", cals, s.listings.Load())
	}
	// A fresh listing serves the round that starts before it.
	if cals, _ := c.CalendarsListedSince(ctx, userPrincipal(1), clk.Now()); cals[0].SyncToken != "data:,1-2" || s.listings.Load() != 5 {
		t.Errorf("after Calendars: %+v, %d listings; want Calendars' listing used", cals, s.listings.Load())
	}
	// No older than a minute, whatever since says.
	clk.advance(maxListingAge)
	if _, err := c.CalendarsListedSince(ctx, userPrincipal(2), time.Time{}.Add(time.Second)); err != nil || s.listings.Load() != 6 {
		t.Errorf("a listing a minute old was used (%d listings, %v)", s.listings.Load(), err)
	}
}

// Principals synced at once wait for the one listing being made; if it
// fails, each lists the home itself, and the failure is not kept.
func TestCalendarsListedSinceConcurrent(t *testing.T) {
	const n = 16
	s := newSharedHome(t, n)
	c := newTestClient(t, s.URL)
	clk := withClock(c)
	ctx := context.Background()
	for i := range n { // discovery, out of the way
		pu, _ := c.resolve(nil, userPrincipal(i))
		if _, err := c.calendarHomes(ctx, pu); err != nil {
			t.Fatal(err)
		}
	}
	run := func(since time.Time) (errs int) {
		var wg sync.WaitGroup
		var failed atomic.Int64
		for i := range n {
			wg.Go(func() {
				if cals, err := c.CalendarsListedSince(ctx, userPrincipal(i), since); err != nil || len(cals) != 1 {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		return int(failed.Load())
	}
	gate := make(chan struct{})
	s.set(func(s *sharedHome) { s.gate = gate })
	done := make(chan int)
	go func() { done <- run(clk.Now()) }()
	for s.listings.Load() == 0 {
		// Polls the server's own counter until the first listing is on
		// its way (held by the gate): no deadline and nothing asserted
		// about time, so a slow machine only polls longer; the sleep
		// cannot flake.
		time.Sleep(time.Millisecond)
	}
	close(gate)
	if failed := <-done; failed != 0 || s.listings.Load() != 1 {
		t.Errorf("%d failed, %d listings for %d principals at once; want 0 and 1", failed, s.listings.Load(), n)
	}

	clk.advance(time.Second)
	s.set(func(s *sharedHome) { s.gate, s.fail = nil, true })
	before := s.listings.Load()
	if failed := run(clk.Now()); failed != n {
		t.Errorf("%d of %d failed with the home down", failed, n)
	}
	if got := s.listings.Load() - before; got < 2 {
		t.Errorf("%d listings with the home down: a failed listing was shared", got)
	}
	s.set(func(s *sharedHome) { s.fail = false })
	if failed := run(clk.Now()); failed != 0 {
		t.Errorf("%d failed once the home is back: a failure was kept", failed)
	}
}

// The cache keeps at most maxListings homes: those past their age go
// first, then the oldest.
func TestListingCacheBounded(t *testing.T) {
	var lc listingCache
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range maxListings + 10 {
		lc.put(fmt.Sprintf("/h%d/", i), &homeListing{sent: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if len(lc.m) != maxListings || lc.m["/h0/"] != nil || lc.m[fmt.Sprintf("/h%d/", maxListings+9)] == nil {
		t.Errorf("%d listings kept (h0 kept: %v), want %d, the newest", len(lc.m), lc.m["/h0/"] != nil, maxListings)
	}
	lc.put("/late/", &homeListing{sent: t0.Add(time.Hour)})
	if len(lc.m) != 1 {
		t.Errorf("%d listings kept after an hour, want only the new one", len(lc.m))
	}
}
