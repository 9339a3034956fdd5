package caldavclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// scheduleInbox is the resource type of a scheduling inbox (RFC 6638
// §2.2).
var scheduleInbox = xml.Name{Space: nsCalDAV, Local: "schedule-inbox"}

// Inbox is a principal's scheduling inbox (RFC 6638 §2.2): the
// collection where the server delivers the iTIP messages other calendar
// users send the principal (invitations, replies, cancellations…).
type Inbox struct {
	// Href is its path (percent-encoded as the server sent it), to pass
	// to InboxChanges and MultiGet.
	Href string
	// SyncToken and CTag are what its home's listing showed of it (see
	// Calendar): the same again means nothing changed.
	SyncToken, CTag string
}

// ScheduleInboxListedSince returns principal's scheduling inbox, found in
// the listing of its calendar home that CalendarsListedSince makes (and
// shares: a call with the same since right after one costs no request):
// the collection of the home whose DAV:resourcetype holds
// CALDAV:schedule-inbox and whose DAV:owner is principal (one that
// reports no owner is taken as the principal's, as Calendars does).
//
// When the home holds no such inbox, the principal's
// CALDAV:schedule-inbox-URL (asked for with the notification collection
// and cached with it) is taken, once a PROPFIND of it (one request per
// call) shows a scheduling inbox that is the principal's by the same
// rule: Xandikos keeps the inbox beside the home (/USER/inbox/). The
// owner check matters: Cyrus 3.6 answers schedule-inbox-URL, as it
// answers calendar-home-set, with the reader's own inbox whichever
// principal is asked. On Cyrus the service account needs lr on
// user/OWNER/#calendars/Inbox and to subscribe to it, as for a calendar
// (docs/scheduling.md); the inbox then appears in its home as
// OWNER.Inbox, owned by OWNER.
//
// It fails with ErrNotFound when the principal has no inbox that is its
// own and readable (a server without scheduling, or an inbox the service
// account may not read), and as CalendarsListedSince does otherwise.
func (c *Client) ScheduleInboxListedSince(ctx context.Context, principal string, since time.Time) (Inbox, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return Inbox{}, err
	}
	homes, err := c.calendarHomes(ctx, pu)
	if err != nil {
		return Inbox{}, err
	}
	for _, home := range homes {
		listed, err := c.homeListing(ctx, home, since)
		if err != nil {
			return Inbox{}, err
		}
		for _, l := range listed {
			if l.inbox && !l.badOwner && (l.owner == nil || samePath(l.owner, pu)) {
				return Inbox{Href: l.Href, SyncToken: l.SyncToken, CTag: l.CTag}, nil
			}
		}
	}
	return c.inboxAtURL(ctx, pu)
}

// inboxURLOf is the path of the schedule-inbox-URL among a principal's
// properties, "" when it has none (or one that cannot be resolved).
func (c *Client) inboxURLOf(pu *url.URL, props []msProp) string {
	for _, p := range props {
		if h := p.ScheduleInboxURL.href(); h != "" {
			if u, err := c.resolve(pu, h); err == nil {
				return u.EscapedPath()
			}
		}
	}
	return ""
}

// inboxPropfind asks an inbox for what tells it is one, whose, and
// whether it changed.
const inboxPropfind = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
	`<D:resourcetype/><D:owner/><D:sync-token/><CS:getctag/></D:prop></D:propfind>`

// inboxAtURL is the principal's inbox at its schedule-inbox-URL, checked
// with a PROPFIND to be a scheduling inbox of the principal's.
func (c *Client) inboxAtURL(ctx context.Context, pu *url.URL) (Inbox, error) {
	v, ok := c.inboxURLs.Load(pu.String())
	if !ok {
		if _, err := c.discover(ctx, pu); err != nil && !errors.Is(err, ErrNotFound) {
			return Inbox{}, err
		}
		v, _ = c.inboxURLs.Load(pu.String())
	}
	href, _ := v.(string)
	if href == "" {
		return Inbox{}, fmt.Errorf("%w: no scheduling inbox of %s in its calendar home, and no schedule-inbox-URL", ErrNotFound, redact(pu))
	}
	iu, err := c.resolve(nil, href)
	if err != nil {
		return Inbox{}, err
	}
	props, err := c.propfind(ctx, iu, inboxPropfind)
	if err != nil {
		return Inbox{}, err
	}
	p := mergeProps(props)
	// What is not the principal's inbox is not asked about again until
	// the principal's properties are (see CalendarUserAddresses).
	if !slices.Contains(p.ResourceType, scheduleInbox) {
		c.inboxURLs.CompareAndSwap(pu.String(), href, "")
		return Inbox{}, fmt.Errorf("%w: %s's schedule-inbox-URL %s is not a scheduling inbox", ErrNotFound, redact(pu), redact(iu))
	}
	if owner := p.Owner.href(); owner != "" {
		if ou, err := c.resolveOrigin(iu, owner); err != nil || !samePath(ou, pu) {
			c.inboxURLs.CompareAndSwap(pu.String(), href, "")
			return Inbox{}, fmt.Errorf("%w: %s's schedule-inbox-URL %s is another principal's (%s): give the service account "+
				"access to the principal's inbox (docs/scheduling.md)", ErrNotFound, redact(pu), redact(iu), owner)
		}
	}
	return Inbox{Href: iu.EscapedPath(), SyncToken: strings.TrimSpace(deref(p.SyncToken)), CTag: strings.TrimSpace(deref(p.GetCTag))}, nil
}

// InboxChanges reports what changed in inbox since token, as Sync does.
// A server that refuses sync-collection on its inbox (403, 405, 501 or
// 400 without DAV:valid-sync-token: RFC 6638 does not require it) is
// answered with a listing instead, one PROPFIND Depth 1 of the members'
// DAV:getetag: the result then lists every member (full is true: a
// member not listed is gone) and its Token is "". The client remembers
// such an inbox and lists it from then on without trying the REPORT.
func (c *Client) InboxChanges(ctx context.Context, inbox, token string) (res *SyncResult, full bool, err error) {
	cu, err := c.resolve(nil, inbox)
	if err != nil {
		return nil, false, err
	}
	key := cu.String()
	if _, ok := c.noSyncInboxes.Load(key); !ok {
		res, err := c.Sync(ctx, inbox, token)
		var he *HTTPError
		if err == nil || !errors.As(err, &he) || errors.Is(err, ErrInvalidSyncToken) || errors.Is(err, ErrNotFound) {
			return res, token == "", err
		}
		switch he.Status {
		case http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusBadRequest:
		default:
			return nil, false, err
		}
		res, lerr := c.listMembers(ctx, cu)
		if lerr != nil {
			return nil, false, err
		}
		c.log.Info("the CalDAV server refuses sync-collection on the scheduling inbox; listing it with PROPFIND instead",
			"inbox", redact(cu), "status", he.Status)
		c.noSyncInboxes.Store(key, true)
		return res, true, nil
	}
	res, err = c.listMembers(ctx, cu)
	return res, true, err
}

// membersPropfind asks a collection's members for their ETags.
const membersPropfind = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`

// listMembers lists the members of collection cu with their ETags (one
// PROPFIND Depth 1), leaving out the collection itself and anything not
// its member, as Sync does.
func (c *Client) listMembers(ctx context.Context, cu *url.URL) (*SyncResult, error) {
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	h.Set("Depth", "1")
	res := &SyncResult{}
	seen := map[string]bool{}
	nOutside := 0
	r, _, err := c.multistatus(ctx, "PROPFIND", cu, membersPropfind, h, c.maxBytes, func(final *url.URL, m *msResponse) error {
		if err := movedError(cu, final); err != nil {
			return err
		}
		if code := statusCode(m.Status); code != 0 && (code < 200 || code > 299) {
			return nil
		}
		for _, href := range m.Hrefs {
			mu, err := c.resolveOrigin(cu, href)
			if err != nil {
				return fmt.Errorf("members of %s: %q: %w", redact(cu), href, err)
			}
			if samePath(mu, cu) {
				continue
			}
			if !isMember(mu, cu) {
				nOutside++
				continue
			}
			if p := mu.EscapedPath(); !seen[p] {
				seen[p] = true
				res.Changed = append(res.Changed, Resource{Href: p, ETag: strings.TrimSpace(deref(mergeProps(m.okProps()).GetETag))})
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
	if err := movedError(cu, r.url); err != nil {
		return nil, err
	}
	if nOutside > 0 {
		c.log.Warn("the CalDAV server listed members outside the collection; they are ignored (never fetched)",
			"collection", redact(cu), "members_outside", nOutside)
	}
	return res, nil
}
