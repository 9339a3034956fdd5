package caldavclient

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Bounds on the listings of calendar homes kept for CalendarsListedSince.
const (
	// maxListingAge is how long a listing may be used after its PROPFIND
	// was sent.
	maxListingAge = time.Minute
	// maxListings is how many homes' listings are kept: on Cyrus every
	// principal shares one home; elsewhere each has its own, and keeping
	// them all would hold every principal's listing for nothing.
	maxListings = 256
)

// listingCache keeps the latest listing of each calendar home, made or
// being made.
type listingCache struct {
	mu sync.Mutex
	m  map[string]*homeListing // home (decoded path) → its latest listing
}

// homeListing is one PROPFIND Depth 1 of a calendar home: done is closed
// once cals or err is set.
type homeListing struct {
	sent time.Time
	done chan struct{}
	cals []listedCalendar
	err  error
}

// homeListing returns the calendars in home: from a listing sent at or
// after since, less than maxListingAge ago, made or being made (its
// maker's error makes this call list the home itself); else, or when
// since is zero, from a listing of its own, kept for later calls.
func (c *Client) homeListing(ctx context.Context, home string, since time.Time) ([]listedCalendar, error) {
	lc := &c.listings
	lc.mu.Lock()
	if l := lc.m[home]; l != nil && !since.IsZero() && !l.sent.Before(since) && c.now().Sub(l.sent) < maxListingAge {
		lc.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("caldav: waiting for the listing of %s: %w", home, ctx.Err())
		}
		if l.err == nil {
			return l.cals, nil
		}
		lc.mu.Lock()
	}
	l := &homeListing{sent: c.now(), done: make(chan struct{})}
	lc.put(home, l)
	lc.mu.Unlock()

	l.cals, l.err = c.listHome(ctx, home)
	close(l.done)
	if l.err != nil {
		lc.mu.Lock()
		if lc.m[home] == l {
			delete(lc.m, home)
		}
		lc.mu.Unlock()
	}
	return l.cals, l.err
}

// put keeps l as home's latest listing, making room for it: listings past
// their age go first, then the oldest. The caller holds lc.mu.
func (lc *listingCache) put(home string, l *homeListing) {
	if lc.m == nil {
		lc.m = make(map[string]*homeListing)
	}
	if _, ok := lc.m[home]; !ok && len(lc.m) >= maxListings {
		var oldest string
		for h, o := range lc.m {
			if l.sent.Sub(o.sent) >= maxListingAge {
				delete(lc.m, h)
			} else if oldest == "" || o.sent.Before(lc.m[oldest].sent) {
				oldest = h
			}
		}
		if len(lc.m) >= maxListings {
			delete(lc.m, oldest)
		}
	}
	lc.m[home] = l
}
