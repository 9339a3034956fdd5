package caldavclient

import (
	"context"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Bounds on a principal's calendar user addresses: a person has a few (an
// email address or two, a urn:uuid:, the principal's URL). More, or
// longer ones, come from a broken or hostile server.
const (
	maxAddresses    = 50
	maxAddressBytes = 1 << 10
	// addressMaxAge is how long a principal's addresses are kept before
	// the next CalendarUserAddresses asks the server again (less a random
	// quarter, so that principals found together are not all asked again
	// in the same poll).
	addressMaxAge = time.Hour
)

// addressSet is a principal's calendar user addresses as cached.
type addressSet struct {
	addrs []string
	// sent is when the PROPFIND that found them was sent; expires when
	// they are to be asked for again.
	sent, expires time.Time
}

// CalendarUserAddresses returns principal's calendar user addresses: its
// CALDAV:calendar-user-address-set (RFC 6638 §2.4.1), the URIs that name
// it as an ORGANIZER or ATTENDEE ("mailto:fred@example.org",
// "urn:uuid:…"). The property is asked for by the PROPFIND of the
// principal that finds its notification collection and calendar homes
// (see NotificationURL), and the answer is cached with them; after about
// an hour (45 to 60 minutes) the next call asks the server again, so a
// change of the set is seen within the hour.
//
// The addresses are in the server's order, white space trimmed, each
// once; a mailto: address is in lower case ("mailto:" and the address:
// compare them case-insensitively, as the calendar/alarm package does),
// others are as the server sent them. At most 50 are kept, each of at
// most 1 KiB: the others are left out, with a warning in the log. An
// empty list means the server named none (or does not support the
// property). It fails with ErrNotFound when the principal is 404 or 410,
// and as NotificationURL does when the PROPFIND fails; it does not fail
// when the principal merely has no notification collection.
//
// On Cyrus 3.6 the service account reads any user's set (by default
// "mailto:USER@internal" until the user sets one with PROPPATCH) once it
// has lr on user/OWNER/#calendars, which the discovery needs anyway.
func (c *Client) CalendarUserAddresses(ctx context.Context, principal string) ([]string, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return nil, err
	}
	key := pu.String()
	if v, ok := c.addrs.Load(key); ok && c.now().Before(v.(*addressSet).expires) {
		return slices.Clone(v.(*addressSet).addrs), nil
	}
	asked := c.now()
	_, err = c.discover(ctx, pu)
	if v, ok := c.addrs.Load(key); ok && !v.(*addressSet).sent.Before(asked) {
		// The server answered, with or without a notification
		// collection.
		return slices.Clone(v.(*addressSet).addrs), nil
	}
	return nil, err
}

// addressSet builds the cache entry of principal pu's addresses from the
// calendar-user-address-set values of its PROPFIND, sent at sent.
func (c *Client) addressSet(pu *url.URL, sets []*hrefValue, sent time.Time) *addressSet {
	var (
		out     []string
		dropped int
	)
	seen := map[string]bool{}
	for _, set := range sets {
		dropped += set.Dropped
		for _, h := range set.Hrefs {
			a := normalizeAddress(h)
			switch {
			case a == "" || seen[a]:
			case len(out) == maxAddresses || len(a) > maxAddressBytes:
				dropped++
			default:
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if dropped > 0 {
		c.log.Warn("the CalDAV server named more calendar user addresses of the principal than kept, or longer ones; they are left out",
			"principal", redact(pu), "kept", len(out), "left_out", dropped, "max", maxAddresses, "max_bytes", maxAddressBytes)
	}
	jitter := rand.N(addressMaxAge / 4) //nolint:gosec // spreads refreshes, nothing secret
	return &addressSet{addrs: out, sent: sent, expires: sent.Add(addressMaxAge - jitter)}
}

// normalizeAddress trims a calendar user address and puts a mailto:
// address in lower case.
func normalizeAddress(a string) string {
	a = strings.TrimSpace(a)
	const mailto = "mailto:"
	if len(a) >= len(mailto) && strings.EqualFold(a[:len(mailto)], mailto) {
		return mailto + strings.ToLower(strings.TrimSpace(a[len(mailto):]))
	}
	return a
}
