package im

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// personName names a person: common name (and their mailto address, if
// any), else the mailto address, else the last path segment of the href.
func personName(p notifyd.Person) (name, email string) {
	addr := ""
	if len(p.Href) > 7 && strings.EqualFold(p.Href[:7], "mailto:") {
		a := p.Href[7:]
		if u, err := url.PathUnescape(a); err == nil {
			a = u
		}
		addr = oneLine(a)
	}
	if cn := oneLine(p.CommonName); cn != "" {
		return cn, addr
	}
	if addr != "" {
		return addr, ""
	}
	return lastSegment(p.Href), ""
}

// lastSegment returns the last non-empty path segment of an href or URL,
// percent-decoded.
func lastSegment(href string) string {
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
	return oneLine(p)
}

// oneLine makes s safe to show on one line: control characters (line
// breaks included) become spaces, bidirectional overrides and other format
// characters go, runs of spaces shrink to one, ends are trimmed.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n runes, at a word boundary when one is near,
// ending with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 2 {
		return s
	}
	end, runes := len(s), 0
	for i := range s {
		if runes == n-1 {
			end = i
			break
		}
		runes++
	}
	t := s[:end]
	if sp := strings.LastIndexAny(t, " \n"); sp > len(t)*3/4 {
		t = t[:sp]
	}
	return strings.TrimRight(t, " \n,;:.") + "…"
}

// tidyText trims every line and drops the blank ones, so templates can be
// laid out freely and a pop-up stays compact.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// humanize turns an element name such as "numTickets" or "max-size" into
// "Num tickets", "Max size".
func humanize(name string) string {
	var b strings.Builder
	prevLower := false
	for i, r := range name {
		switch {
		case r == '-' || r == '_':
			b.WriteByte(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			b.WriteByte(' ')
			r = unicode.ToLower(r)
		case i == 0:
			r = unicode.ToUpper(r)
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		b.WriteRune(r)
	}
	return oneLine(b.String())
}
