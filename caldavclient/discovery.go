package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// CurrentUserPrincipal returns the path of the authenticated user's
// principal: DAV:current-user-principal (RFC 5397) of the base URL.
func (c *Client) CurrentUserPrincipal(ctx context.Context) (string, error) {
	// Not go-webdav's FindCurrentUserPrincipal: it drops the base URL's
	// final slash, and Cyrus answers 405 to a PROPFIND on "/dav".
	const body = `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>`
	props, err := c.propfind(ctx, c.base, body)
	if err != nil {
		return "", err
	}
	for _, p := range props {
		if href := p.CurrentUserPrincipal.href(); href != "" {
			u, err := c.resolve(c.base, href)
			if err != nil {
				return "", fmt.Errorf("current-user-principal: %w", err)
			}
			return u.EscapedPath(), nil
		}
	}
	return "", fmt.Errorf("%w: no current-user-principal at %s (unauthenticated?)", ErrNotFound, redact(c.base))
}

// CalendarHomeSet returns the path of principal's calendar home
// (CALDAV:calendar-home-set), using go-webdav's discovery. Cyrus answers
// with the authenticated user's home whichever principal is asked.
func (c *Client) CalendarHomeSet(ctx context.Context, principal string) (string, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return "", err
	}
	rec := &recordingClient{c: c.http}
	cc, err := caldav.NewClient(rec, c.base.String())
	if err != nil {
		return "", err
	}
	home, err := cc.FindCalendarHomeSet(ctx, pu.EscapedPath())
	if err != nil {
		return "", rec.wrap(err)
	}
	if home == "" {
		return "", fmt.Errorf("%w: %s has no calendar-home-set", ErrNotFound, redact(pu))
	}
	u, err := c.resolve(pu, home)
	if err != nil {
		return "", err
	}
	return u.EscapedPath(), nil
}

// recordingClient remembers the last response's status, so that the errors
// of go-webdav (whose error type is internal) can be mapped to HTTPError.
type recordingClient struct {
	c webdav.HTTPClient

	mu   sync.Mutex
	last *HTTPError
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	if err == nil {
		r.mu.Lock()
		r.last = &HTTPError{Method: req.Method, URL: redact(req.URL), Status: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5 {
			r.last.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		r.mu.Unlock()
	}
	return resp, err
}

// wrap maps err, returned by go-webdav, to this package's errors.
func (r *recordingClient) wrap(err error) error {
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	if last == nil || last.Status/100 == 2 {
		// A transport error from the guard, or a malformed answer.
		var pe *protocolError
		if last != nil && !errors.As(err, &pe) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrOffOrigin) {
			return protoErrorf("%s %s: %v", last.Method, last.URL, err)
		}
		return err
	}
	msg := err.Error()
	// go-webdav's message starts with the status: keep what follows.
	msg = strings.TrimPrefix(msg, fmt.Sprintf("%d %s", last.Status, http.StatusText(last.Status)))
	msg = strings.TrimPrefix(msg, ": ")
	last.Body = sanitizeBody([]byte(msg))
	if last.Status == http.StatusNotFound || last.Status == http.StatusGone {
		return fmt.Errorf("%w: %w", ErrNotFound, last)
	}
	return last
}

// principalPropfind asks a principal for its notification collection,
// its calendar homes and its calendar user addresses in one request.
const principalPropfind = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` +
	`<D:notification-URL/><CS:notification-URL/><C:calendar-home-set/><C:calendar-user-address-set/><C:schedule-inbox-URL/>` +
	`</D:prop></D:propfind>`

// NotificationURL returns the path of principal's notification collection:
// the {DAV:}notification-URL or {http://calendarserver.org/ns/}notification-URL
// property (PROPFIND, Depth 0). The same PROPFIND asks for the principal's
// CALDAV:calendar-home-set, for CalendarName and Calendars, and its
// CALDAV:calendar-user-address-set, for CalendarUserAddresses. The answer
// is cached per principal until ForgetNotificationURL. It fails with ErrNotFound when the
// principal is 404 or 410 or has neither property, and with ErrOffOrigin
// when principal or the property's href is outside the base URL's origin.
func (c *Client) NotificationURL(ctx context.Context, principal string) (string, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return "", err
	}
	if v, ok := c.notifURLs.Load(pu.String()); ok {
		return v.(string), nil
	}
	return c.discover(ctx, pu)
}

// discover PROPFINDs principal pu for its notification collection,
// calendar homes and calendar user addresses, caches them, and returns
// the collection's path. The homes and addresses are cached once the
// server answered (empty lists when it named none, leaving out any home
// on another origin), even when the principal has no notification
// collection.
func (c *Client) discover(ctx context.Context, pu *url.URL) (string, error) {
	sent := c.now()
	props, err := c.propfind(ctx, pu, principalPropfind)
	if err != nil {
		return "", err
	}
	key := pu.String()
	homes := []string{}
	var addrs []*hrefValue
	for _, p := range props {
		if p.CalendarUserAddressSet != nil {
			addrs = append(addrs, p.CalendarUserAddressSet)
		}
		if p.CalendarHomeSet == nil {
			continue
		}
		for _, h := range p.CalendarHomeSet.Hrefs {
			if hu, err := c.resolve(pu, h); err == nil {
				homes = append(homes, hu.Path)
			}
		}
	}
	c.homes.Store(key, homes)
	c.addrs.Store(key, c.addressSet(pu, addrs, sent))
	c.inboxURLs.Store(key, c.inboxURLOf(pu, props))
	for _, p := range props {
		href := p.NotificationURL.href()
		if href == "" {
			href = p.CSNotificationURL.href()
		}
		if href == "" {
			continue
		}
		u, err := c.resolve(pu, href)
		if err != nil {
			return "", fmt.Errorf("notification-URL of %s: %w", redact(pu), err)
		}
		path := u.EscapedPath()
		c.notifURLs.Store(key, path)
		return path, nil
	}
	return "", fmt.Errorf("%w: %s has no notification-URL", ErrNotFound, redact(pu))
}

// ForgetNotificationURL drops principal's cached notification-URL,
// calendar homes and calendar user addresses, so the next NotificationURL asks the server again (call
// it when the collection answers 404 or 410).
func (c *Client) ForgetNotificationURL(principal string) {
	if pu, err := c.resolve(nil, principal); err == nil {
		c.notifURLs.Delete(pu.String())
		c.homes.Delete(pu.String())
		c.inboxURLs.Delete(pu.String())
		c.addrs.Delete(pu.String())
	}
}

// DisplayName returns href's {DAV:}displayname (PROPFIND, Depth 0), "" when
// the resource has none; ErrNotFound when it is 404 or 410. It reads any
// resource the service account may read: for a name that comes from a
// notification, use CalendarName.
func (c *Client) DisplayName(ctx context.Context, href string) (string, error) {
	u, err := c.resolve(nil, href)
	if err != nil {
		return "", err
	}
	const body = `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`
	props, err := c.propfind(ctx, u, body)
	if err != nil {
		return "", err
	}
	for _, p := range props {
		if p.DisplayName != nil {
			return strings.TrimSpace(*p.DisplayName), nil
		}
	}
	return "", nil
}

// CalendarName returns the {DAV:}displayname of href ("" when it has
// none), a calendar a notification to principal names, only when href is
// a calendar collection directly in one of principal's calendar homes
// (CALDAV:calendar-home-set, found by the PROPFIND that finds the
// notification collection and cached with it). For any other href it
// sends no request for href and fails with ErrNotCalendar, so that a
// notification cannot make the client read, with the service account's
// rights, a resource that is not such a calendar: name the calendar by
// the last segment of its href instead. The homes are asked for (one
// PROPFIND of the principal) when they are not cached yet.
func (c *Client) CalendarName(ctx context.Context, principal, href string) (string, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return "", err
	}
	hu, err := c.resolve(nil, href)
	if err != nil {
		return "", err
	}
	homes, err := c.calendarHomes(ctx, pu)
	if err != nil {
		return "", err
	}
	inside := false
	for _, h := range homes {
		inside = inside || inHome(hu, h)
	}
	if !inside {
		return "", fmt.Errorf("%w: %s is not a collection of %s's calendar home", ErrNotCalendar, redact(hu), redact(pu))
	}
	const body = `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:resourcetype/></D:prop></D:propfind>`
	props, err := c.propfind(ctx, hu, body)
	if err != nil {
		return "", err
	}
	calendar, name := false, ""
	for _, p := range props {
		calendar = calendar || p.isCalendar()
		if p.DisplayName != nil && name == "" {
			name = strings.TrimSpace(*p.DisplayName)
		}
	}
	if !calendar {
		return "", fmt.Errorf("%w: %s is not a calendar", ErrNotCalendar, redact(hu))
	}
	return name, nil
}

// calendarHomes returns the paths (decoded) of pu's calendar homes, from
// the cache or else asked for with the notification collection.
func (c *Client) calendarHomes(ctx context.Context, pu *url.URL) ([]string, error) {
	key := pu.String()
	if v, ok := c.homes.Load(key); ok {
		return v.([]string), nil
	}
	_, err := c.discover(ctx, pu)
	if v, ok := c.homes.Load(key); ok {
		// The server answered, with or without a notification
		// collection.
		return v.([]string), nil
	}
	return nil, err
}

// propfind sends a Depth 0 PROPFIND to u and returns the 2xx properties of
// the response for u (or of the only response).
func (c *Client) propfind(ctx context.Context, u *url.URL, body string) ([]msProp, error) {
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	h.Set("Depth", "0")
	var resp, only *msResponse
	n := 0
	r, _, err := c.multistatus(ctx, "PROPFIND", u, body, h, maxPropfindBytes, func(final *url.URL, m *msResponse) error {
		if n++; n == 1 {
			only = m
		}
		for _, h := range m.Hrefs {
			if hu, err := c.resolve(final, h); err == nil && samePath(hu, final) {
				resp = m
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil, r.wrap(ErrNotFound)
	case r.status != http.StatusMultiStatus:
		return nil, r.httpError()
	}
	if resp == nil && n == 1 {
		resp = only
	}
	if resp == nil {
		return nil, protoErrorf("PROPFIND %s: no response for the resource", redact(u))
	}
	if code := statusCode(resp.Status); code == http.StatusNotFound || code == http.StatusGone {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, redact(u))
	}
	return resp.okProps(), nil
}
