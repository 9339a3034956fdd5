package caldavclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

// Sync reports what changed in collection (a notification collection or
// a calendar) since token with a sync-collection REPORT (RFC 6578,
// DAV:sync-level 1, property DAV:getetag only: a notification's type
// comes with its body, a calendar object's data with MultiGet, and asking
// for more makes the server read every member); an empty token is an
// initial sync, which lists every member. When nothing changed it sends
// exactly one REPORT.
// When the server truncates the answer (a 507 for the collection itself,
// RFC 6578 §3.6) Sync repeats the REPORT from the returned token and
// merges the answers (a member changed then deleted is reported deleted).
// Hrefs are paths; the collection itself is not reported, nor anything
// outside it: a member outside it, or whose path has a dot segment or an
// encoded slash a server could resolve outside it, is skipped with a
// warning (Config.Logger), never to be fetched or deleted. It fails with
// ErrInvalidSyncToken when the server refuses the token
// (DAV:valid-sync-token with 403, 409 or another 4xx: sync again from
// ""), ErrNotFound when the collection is 404 or 410, ErrMoved when the
// server redirects the collection to another path (its members are
// there, not under collection: sync that path), and ErrOffOrigin when the
// server names a member on another origin.
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
		truncated := false
		responses := 0
		var outside []string // hrefs of members outside the collection (the first few)
		nOutside := 0
		newToken, err := c.syncOnce(ctx, cu, token, func(resp *msResponse) error {
			responses++
			if len(resp.Hrefs) == 0 {
				return nil
			}
			status := statusCode(resp.Status)
			for _, h := range resp.Hrefs {
				hu, err := c.resolveOrigin(cu, h)
				if err != nil {
					return fmt.Errorf("sync %s: member %q: %w", redact(cu), h, err)
				}
				if samePath(hu, cu) {
					if status == http.StatusInsufficientStorage {
						truncated = true
					}
					continue
				}
				if !isMember(hu, cu) {
					if nOutside++; len(outside) < maxReportedOutside {
						outside = append(outside, h)
					}
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
			return nil
		})
		if err != nil {
			return nil, err
		}
		if nOutside > 0 {
			c.log.Warn("the CalDAV server sent sync members outside the collection; they are ignored (never fetched or deleted). "+
				"A collection reports only its own members: check the server, it may be compromised or misbehaving",
				"collection", redact(cu), "members_outside", nOutside, "first_hrefs", outside)
		}
		newToken = strings.TrimSpace(newToken)
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
		if newToken == token && responses <= 1 {
			return nil, protoErrorf("sync %s: truncated answer without progress (token %q)", redact(cu), newToken)
		}
		token = newToken
	}
	return nil, protoErrorf("sync %s: still truncated after %d rounds", redact(cu), maxSyncRounds)
}

// movedError is ErrMoved when final, the URL that answered a REPORT to
// collection cu, is another path: the server redirected the collection,
// and its members are under final, not cu (Cyrus 3.6 redirects another
// user's calendar to the reader's own view of it).
func movedError(cu, final *url.URL) error {
	if final == nil || samePath(final, cu) {
		return nil
	}
	return fmt.Errorf("%w: %s answers at %s: use that path", ErrMoved, redact(cu), final.EscapedPath())
}

// maxReportedOutside is how many of the members outside a collection a
// sync's warning quotes.
const maxReportedOutside = 5

// syncOnce sends one sync-collection REPORT, calls each for every
// response of the answer and returns its sync token.
func (c *Client) syncOnce(ctx context.Context, cu *url.URL, token string, each func(*msResponse) error) (string, error) {
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
	r, newToken, err := c.multistatus(ctx, "REPORT", cu, b.String(), h, c.maxBytes, func(final *url.URL, m *msResponse) error {
		if err := movedError(cu, final); err != nil {
			return err
		}
		return each(m)
	})
	if err != nil {
		return "", err
	}
	switch {
	case r.status == http.StatusMultiStatus:
		if err := movedError(cu, r.url); err != nil {
			return "", err
		}
		return newToken, nil
	case r.status >= 400 && r.status <= 499 && hasValidSyncTokenError(r.body):
		return "", r.wrap(ErrInvalidSyncToken)
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return "", r.wrap(ErrNotFound)
	}
	return "", r.httpError()
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
