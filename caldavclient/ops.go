package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

const xmlContentType = `application/xml; charset="utf-8"`

// Resource is a member of a collection reported by a sync.
type Resource struct {
	// Href is the member's path on the server (percent-encoded as the
	// server sent it), to pass to Get, Delete or Put.
	Href string
	// ETag is the member's entity tag as the server sent it (quoted), ""
	// when the server did not report one.
	ETag string
}

// SyncResult is what changed in a collection since a sync token.
type SyncResult struct {
	// Token is the new sync token to store and pass to the next Sync.
	Token string
	// Changed lists new or changed members (href path, etag), in the
	// server's order.
	Changed []Resource
	// Deleted lists the hrefs of members reported removed (404).
	Deleted []string
}

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

// NotificationURL returns the path of principal's notification collection:
// the {DAV:}notification-URL or {http://calendarserver.org/ns/}notification-URL
// property (PROPFIND, Depth 0). The answer is cached per principal until
// ForgetNotificationURL. It fails with ErrNotFound when the principal is
// 404 or 410 or has neither property, and with ErrOffOrigin when principal
// or the property's href is outside the base URL's origin.
func (c *Client) NotificationURL(ctx context.Context, principal string) (string, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return "", err
	}
	key := pu.String()
	if v, ok := c.notifURLs.Load(key); ok {
		return v.(string), nil
	}
	const body = `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
		`<D:notification-URL/><CS:notification-URL/>` +
		`</D:prop></D:propfind>`
	r, err := c.propfind(ctx, pu, body)
	if err != nil {
		return "", err
	}
	for _, p := range r {
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

// ForgetNotificationURL drops principal's cached notification-URL, so the
// next NotificationURL asks the server again (call it when the collection
// answers 404 or 410).
func (c *Client) ForgetNotificationURL(principal string) {
	if pu, err := c.resolve(nil, principal); err == nil {
		c.notifURLs.Delete(pu.String())
	}
}

// DisplayName returns href's {DAV:}displayname (PROPFIND, Depth 0), "" when
// the resource has none; ErrNotFound when it is 404 or 410.
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

// propfind sends a Depth 0 PROPFIND to u and returns the 2xx properties of
// the response for u (or of the only response).
func (c *Client) propfind(ctx context.Context, u *url.URL, body string) ([]msProp, error) {
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	h.Set("Depth", "0")
	r, err := c.do(ctx, "PROPFIND", u, []byte(body), h)
	if err != nil {
		return nil, err
	}
	switch {
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil, r.wrap(ErrNotFound)
	case r.status != http.StatusMultiStatus:
		return nil, r.httpError()
	}
	ms, err := parseMultistatus(r.body)
	if err != nil {
		return nil, fmt.Errorf("PROPFIND %s: %w", redact(u), err)
	}
	var resp *msResponse
	for i := range ms.Responses {
		for _, h := range ms.Responses[i].Hrefs {
			if hu, err := c.resolve(r.url, h); err == nil && samePath(hu, r.url) {
				resp = &ms.Responses[i]
			}
		}
	}
	if resp == nil && len(ms.Responses) == 1 {
		resp = &ms.Responses[0]
	}
	if resp == nil {
		return nil, protoErrorf("PROPFIND %s: no response for the resource", redact(u))
	}
	if code := statusCode(resp.Status); code == http.StatusNotFound || code == http.StatusGone {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, redact(u))
	}
	return resp.okProps(), nil
}

// samePath reports whether a and b name the same path, ignoring a final
// slash and percent-encoding differences.
func samePath(a, b *url.URL) bool {
	return strings.TrimSuffix(a.Path, "/") == strings.TrimSuffix(b.Path, "/")
}

// Sync reports what changed in collection since token with a
// sync-collection REPORT (RFC 6578, DAV:sync-level 1, property
// DAV:getetag only: the notification's type comes with its body, and
// asking for CS:notificationtype makes the server read every resource);
// an empty token is an initial sync.
// When the server truncates the answer (a 507 for the collection itself)
// Sync repeats the REPORT from the returned token and merges the answers.
// Hrefs are paths; the collection itself is not reported, nor anything
// outside it. It fails with ErrInvalidSyncToken when the server refuses
// the token (DAV:valid-sync-token with 403, 409 or another 4xx: sync again
// from ""), ErrNotFound when the collection is 404 or 410, and ErrOffOrigin
// when the server names a member on another origin.
func (c *Client) Sync(ctx context.Context, collection, token string) (*SyncResult, error) {
	cu, err := c.resolve(nil, collection)
	if err != nil {
		return nil, err
	}
	type entry struct {
		etag    string
		deleted bool
	}
	var order []string
	seen := map[string]*entry{}
	put := func(href string, e entry) {
		if old, ok := seen[href]; ok {
			*old = e
			return
		}
		order = append(order, href)
		seen[href] = &e
	}

	for round := 0; round < maxSyncRounds; round++ {
		ms, err := c.syncOnce(ctx, cu, token)
		if err != nil {
			return nil, err
		}
		truncated := false
		for i := range ms.Responses {
			resp := &ms.Responses[i]
			if len(resp.Hrefs) == 0 {
				continue
			}
			status := statusCode(resp.Status)
			for _, h := range resp.Hrefs {
				hu, err := c.resolve(cu, h)
				if err != nil {
					return nil, fmt.Errorf("sync %s: member %q: %w", redact(cu), h, err)
				}
				if samePath(hu, cu) {
					if status == http.StatusInsufficientStorage {
						truncated = true
					}
					continue
				}
				if !isMember(hu, cu) {
					continue
				}
				href := hu.EscapedPath()
				switch {
				case status == http.StatusNotFound || status == http.StatusGone:
					put(href, entry{deleted: true})
				case status != 0 && (status < 200 || status > 299):
					// Some other per-member status: nothing to report.
				default:
					var etag string
					for _, p := range resp.okProps() {
						if p.GetETag != nil && etag == "" {
							etag = strings.TrimSpace(*p.GetETag)
						}
					}
					put(href, entry{etag: etag})
				}
			}
		}
		newToken := strings.TrimSpace(ms.SyncToken)
		if newToken == "" {
			return nil, protoErrorf("sync %s: the multistatus has no DAV:sync-token", redact(cu))
		}
		if !truncated {
			res := &SyncResult{Token: newToken}
			for _, href := range order {
				if e := seen[href]; e.deleted {
					res.Deleted = append(res.Deleted, href)
				} else {
					res.Changed = append(res.Changed, Resource{Href: href, ETag: e.etag})
				}
			}
			return res, nil
		}
		if newToken == token && len(ms.Responses) <= 1 {
			return nil, protoErrorf("sync %s: truncated answer without progress (token %q)", redact(cu), newToken)
		}
		token = newToken
	}
	return nil, protoErrorf("sync %s: still truncated after %d rounds", redact(cu), maxSyncRounds)
}

// isMember reports whether m lies inside collection c.
func isMember(m, c *url.URL) bool {
	return strings.HasPrefix(m.Path, strings.TrimSuffix(c.Path, "/")+"/")
}

// syncOnce sends one sync-collection REPORT.
func (c *Client) syncOnce(ctx context.Context, cu *url.URL, token string) (*multistatus, error) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<D:sync-collection xmlns:D="DAV:">`)
	if token == "" {
		b.WriteString(`<D:sync-token/>`)
	} else {
		b.WriteString(`<D:sync-token>` + escapeText(token) + `</D:sync-token>`)
	}
	b.WriteString(`<D:sync-level>1</D:sync-level>`)
	if c.syncLimit > 0 {
		b.WriteString(`<D:limit><D:nresults>` + strconv.Itoa(c.syncLimit) + `</D:nresults></D:limit>`)
	}
	b.WriteString(`<D:prop><D:getetag/></D:prop></D:sync-collection>`)
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	// No Depth header: RFC 6578 §3.2 defines the report for Depth 0 only
	// (the default); DAV:sync-level says how deep to go.
	r, err := c.do(ctx, "REPORT", cu, []byte(b.String()), h)
	if err != nil {
		return nil, err
	}
	switch {
	case r.status == http.StatusMultiStatus:
	case r.status >= 400 && r.status <= 499 && hasValidSyncTokenError(r.body):
		return nil, r.wrap(ErrInvalidSyncToken)
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil, r.wrap(ErrNotFound)
	default:
		return nil, r.httpError()
	}
	ms, err := parseMultistatus(r.body)
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", redact(cu), err)
	}
	return ms, nil
}

// Get fetches href and returns its body and ETag ("" when the server sent
// none), asking for an uncompressed body so that the ETag is the strong one
// a sync reports. It fails with ErrNotFound on 404 or 410 and ErrTooLarge when the
// body is longer than MaxResponseBytes.
func (c *Client) Get(ctx context.Context, href string) ([]byte, string, error) {
	u, err := c.resolve(nil, href)
	if err != nil {
		return nil, "", err
	}
	h := http.Header{}
	h.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
	// Uncompressed: Cyrus turns the ETag of a compressed answer weak
	// (W/"…"), unlike the one the sync reports, and If-Match compares
	// strongly.
	h.Set("Accept-Encoding", "identity")
	r, err := c.do(ctx, http.MethodGet, u, nil, h)
	if err != nil {
		return nil, "", err
	}
	switch {
	case r.status == http.StatusOK:
		return r.body, r.header.Get("ETag"), nil
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil, "", r.wrap(ErrNotFound)
	}
	return nil, "", r.httpError()
}

// Delete deletes href, only if its ETag is still etag when etag is not ""
// (If-Match). A resource already gone (404, 410) is not an error; a changed
// one is ErrPreconditionFailed (412).
func (c *Client) Delete(ctx context.Context, href, etag string) error {
	u, err := c.resolve(nil, href)
	if err != nil {
		return err
	}
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", quoteETag(etag))
	}
	r, err := c.do(ctx, http.MethodDelete, u, nil, h)
	if err != nil {
		return err
	}
	switch {
	case r.status >= 200 && r.status <= 299:
		return nil
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil
	case r.status == http.StatusPreconditionFailed:
		return r.wrap(ErrPreconditionFailed)
	}
	return r.httpError()
}

// Put replaces href's body, only if its ETag is still etag when etag is not
// "" (If-Match). It fails with ErrNotSupported when the server does not
// allow it (405, 403, 501: Cyrus refuses PUT on notifications),
// ErrPreconditionFailed on 412 and ErrNotFound on 404 or 410.
func (c *Client) Put(ctx context.Context, href, etag string, body []byte, contentType string) error {
	u, err := c.resolve(nil, href)
	if err != nil {
		return err
	}
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", quoteETag(etag))
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	if body == nil {
		body = []byte{}
	}
	r, err := c.do(ctx, http.MethodPut, u, body, h)
	if err != nil {
		return err
	}
	switch {
	case r.status >= 200 && r.status <= 299:
		return nil
	case r.status == http.StatusMethodNotAllowed || r.status == http.StatusForbidden || r.status == http.StatusNotImplemented:
		return r.wrap(ErrNotSupported)
	case r.status == http.StatusPreconditionFailed:
		return r.wrap(ErrPreconditionFailed)
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return r.wrap(ErrNotFound)
	}
	return r.httpError()
}

// quoteETag returns etag as an HTTP entity-tag, quoting a bare value.
func quoteETag(etag string) string {
	etag = strings.TrimSpace(etag)
	if strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}
