package message

import (
	"net/url"
	"strings"

	"github.com/notifyd/notifyd"
)

// Person names a person: their common name (and their mailto address, if
// any), else the mailto address, else the last path segment of their href.
func (c Cleaner) Person(p notifyd.Person) (name, email string) {
	addr := ""
	if len(p.Href) > 7 && strings.EqualFold(p.Href[:7], "mailto:") {
		a := p.Href[7:]
		if u, err := url.PathUnescape(a); err == nil {
			a = u
		}
		addr = c.Line(a)
	}
	if cn := c.Line(p.CommonName); cn != "" {
		return cn, addr
	}
	if addr != "" {
		return addr, ""
	}
	return c.LastSegment(p.Href), ""
}

// Calendar names a calendar: fetched (the display name the engine read
// from the server, "" if none), else the collection's display name, else
// the last path segment of its href.
func (c Cleaner) Calendar(fetched string, col notifyd.Collection) string {
	if name := c.Line(fetched); name != "" {
		return name
	}
	if name := c.Line(col.DisplayName); name != "" {
		return name
	}
	return c.LastSegment(col.Href)
}

// LastSegment returns the last non-empty path segment of an href or URL,
// percent-decoded.
func (c Cleaner) LastSegment(href string) string {
	if href == "" {
		return ""
	}
	p := href
	if u, err := url.Parse(href); err == nil && u.Path != "" {
		p = u.EscapedPath()
	}
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return c.Line(p)
}
