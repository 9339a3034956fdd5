package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Object is a calendar object resource fetched by MultiGet.
type Object struct {
	// Href is the object's path (percent-encoded), as the caller named
	// it once resolved.
	Href string
	// ETag is its entity tag as the server sent it (quoted), "" when the
	// server sent none or the object is Missing.
	ETag string
	// Data is its CALDAV:calendar-data (an iCalendar object); nil unless
	// the server sent it and it is within the size limit. Its lines end
	// in LF rather than CRLF when the server sent CRs as such: an XML
	// parser turns CRLF into LF.
	Data []byte
	// Missing is true when the server answered 404 or 410 for the href:
	// the object was deleted since it was listed.
	Missing bool
	// TooLarge is true when its calendar data is over the per-object
	// limit (1 MiB, or Config.MaxResponseBytes when lower): Data is nil;
	// the data was not kept.
	TooLarge bool
	// Err is set when the server answered for the href with another
	// status (an *HTTPError: IsTemporary tells whether to try again),
	// did not answer for it, or answered without calendar data.
	Err error
}

// multigetChunkSize is how many hrefs one calendar-multiget REPORT asks
// for. A calendar's first sync lists every member, thousands for a busy
// calendar; one REPORT for all of them would be an answer of many
// megabytes, beyond Config.MaxResponseBytes (10 MiB by default), held up
// by the slowest object, and lost whole when the connection breaks. At
// 100 hrefs an answer of typical objects (a few kilobytes each) is well
// under a megabyte, the request stays small, and a calendar of 10000
// objects takes 100 REPORTs rather than 10000 GETs. Servers have limits
// of their own on hrefs per REPORT, and 100 is under the ones we know
// of.
const multigetChunkSize = 100

// MultiGet fetches the calendar objects hrefs of calendar (members
// reported by Sync) with calendar-multiget REPORTs (RFC 4791 §7.9),
// asking for DAV:getetag and CALDAV:calendar-data, at most 100 hrefs per
// REPORT. It returns one Object per distinct href, in the order given:
// Missing for an href answered 404 or 410 (a deleted object), TooLarge
// for one whose data is over the per-object limit, Err for one answered
// otherwise or not at all. When an answer is over
// Config.MaxResponseBytes, MultiGet asks for its hrefs again in halves;
// an object that alone makes an answer too large is TooLarge.
//
// Every href must be a member of calendar (below its path, with no dot
// segment or encoded slash a server could resolve elsewhere; a relative
// href is resolved against calendar): otherwise MultiGet sends nothing
// and fails with ErrNotMember (or ErrOffOrigin). Responses for hrefs not
// asked for are ignored. It fails with ErrNotFound when the calendar is
// 404 or 410, and with ErrMoved when the server redirects it to another
// path (use that path, and the hrefs Sync reports there).
func (c *Client) MultiGet(ctx context.Context, calendar string, hrefs []string) ([]Object, error) {
	cu, err := c.resolve(nil, calendar)
	if err != nil {
		return nil, err
	}
	objs := make([]Object, 0, len(hrefs))
	var paths []string // objs' decoded paths
	seen := map[string]bool{}
	for _, h := range hrefs {
		hu, err := c.resolveOrigin(cu, h)
		if err != nil {
			return nil, err
		}
		if !isMember(hu, cu) {
			return nil, fmt.Errorf("%w: %q is not a member of %s", ErrNotMember, h, redact(cu))
		}
		if seen[hu.Path] {
			continue
		}
		seen[hu.Path] = true
		objs = append(objs, Object{Href: hu.EscapedPath()})
		paths = append(paths, hu.Path)
	}
	chunk := max(c.multigetChunk, 1)
	for i := 0; i < len(objs); i += chunk {
		j := min(i+chunk, len(objs))
		if err := c.multiget(ctx, cu, objs[i:j], paths[i:j]); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

// multiget fills objs (members of cu, each once, whose decoded paths are
// paths) with one calendar-multiget REPORT, or, when the answer is too
// large, with one per half.
func (c *Client) multiget(ctx context.Context, cu *url.URL, objs []Object, paths []string) error {
	err := c.multigetOnce(ctx, cu, objs, paths)
	if !errors.Is(err, ErrTooLarge) {
		return err
	}
	if len(objs) == 1 {
		objs[0] = Object{Href: objs[0].Href, TooLarge: true}
		return nil
	}
	half := len(objs) / 2
	if err := c.multiget(ctx, cu, objs[:half], paths[:half]); err != nil {
		return err
	}
	return c.multiget(ctx, cu, objs[half:], paths[half:])
}

// errNoAnswer is Object.Err for an href the server's answer left out.
var errNoAnswer = protoErrorf("the calendar-multiget answer has no response for the href")

// multigetOnce fills objs with one calendar-multiget REPORT.
func (c *Client) multigetOnce(ctx context.Context, cu *url.URL, objs []Object, paths []string) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`)
	b.WriteString(`<D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	index := make(map[string]int, len(objs))
	for i, o := range objs {
		b.WriteString(`<D:href>` + escapeText(o.Href) + `</D:href>`)
		index[paths[i]] = i
	}
	b.WriteString(`</C:calendar-multiget>`)
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	// No Depth header: RFC 4791 §7.9 says the server ignores it and the
	// client should not send it.
	got := make([]Object, len(objs))
	answered := make([]bool, len(objs))
	var (
		ignored  []string // hrefs answered but not asked for (the first few)
		nIgnored int
	)
	r, _, err := c.multistatus(ctx, "REPORT", cu, b.String(), h, c.maxBytes, func(final *url.URL, m *msResponse) error {
		if err := movedError(cu, final); err != nil {
			return err
		}
		status := statusCode(m.Status)
		for _, href := range m.Hrefs {
			hu, err := c.resolveOrigin(cu, href)
			if err != nil {
				return fmt.Errorf("calendar-multiget %s: %q: %w", redact(cu), href, err)
			}
			i, ok := index[hu.Path]
			if !ok || !isMember(hu, cu) {
				if nIgnored++; len(ignored) < maxReportedOutside {
					ignored = append(ignored, href)
				}
				continue
			}
			if answered[i] {
				continue
			}
			answered[i] = true
			o := Object{Href: objs[i].Href}
			p := mergeProps(m.okProps())
			switch {
			case status == http.StatusNotFound || status == http.StatusGone:
				o.Missing = true
			case status != 0 && (status < 200 || status > 299):
				o.Err = &HTTPError{Method: "REPORT", URL: redact(hu), Status: status}
			case len(p.TooLarge) > 0 && p.CalendarData == nil:
				o.TooLarge = true
				o.ETag = strings.TrimSpace(deref(p.GetETag))
			case p.CalendarData == nil || strings.TrimSpace(*p.CalendarData) == "":
				o.Err = noDataErr(m, hu)
			default:
				o.ETag = strings.TrimSpace(deref(p.GetETag))
				o.Data = []byte(*p.CalendarData)
			}
			got[i] = o
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return r.wrap(ErrNotFound)
	case r.status != http.StatusMultiStatus:
		return r.httpError()
	}
	if err := movedError(cu, r.url); err != nil {
		return err
	}
	if nIgnored > 0 {
		c.log.Warn("the CalDAV server answered a calendar-multiget for hrefs not asked for; they are ignored",
			"calendar", redact(cu), "hrefs", nIgnored, "first_hrefs", ignored)
	}
	for i := range objs {
		if answered[i] {
			objs[i] = got[i]
		} else {
			objs[i] = Object{Href: objs[i].Href, Err: errNoAnswer}
		}
	}
	return nil
}

// noDataErr describes a 2xx response without calendar data: the status
// of the propstat that refused CALDAV:calendar-data when there is one (a
// 404 there means the resource is not a calendar object).
func noDataErr(m *msResponse, hu *url.URL) error {
	for _, ps := range m.Propstats {
		if code := statusCode(ps.Status); (code < 200 || code > 299) && ps.Prop.CalendarData != nil {
			return &HTTPError{Method: "REPORT", URL: redact(hu), Status: code, Body: "no calendar-data"}
		}
	}
	return protoErrorf("calendar-multiget %s: no calendar-data", redact(hu))
}
