package engine

import (
	"net/url"
	"strings"

	"github.com/notifyd/notifyd"
)

// ownChange reports whether by, who made a change (ENS's
// X-NSCP-TRIGGERED-BY: a principal href or URL, or a calendar user
// address), names principal: the same path once normalised as
// notifyd.CleanHref does (a trailing slash aside), or one of addrs, the
// principal's calendar user addresses (a mailto: address compared
// case-insensitively). A bare user id ("fred", as Sun's server writes
// it) names nobody: it cannot be told apart from another system's.
func ownChange(by, principal string, addrs []string) bool {
	b := comparableAddress(by)
	if b == "" {
		return false
	}
	if b == comparableAddress(principal) {
		return true
	}
	for _, a := range addrs {
		if comparableAddress(a) == b {
			return true
		}
	}
	return false
}

// comparableAddress writes a principal href or calendar user address for
// comparison: "mailto:" and the address in lower case; the path of an
// http(s) URL or an href, normalised and without a trailing slash; other
// URIs (urn:uuid:…) as they are. A bare word is "": it names nobody.
func comparableAddress(a string) string {
	a = strings.TrimSpace(a)
	scheme, rest, isURI := strings.Cut(a, ":")
	switch {
	case a == "":
		return ""
	case strings.HasPrefix(a, "/"):
	case !isURI:
		return ""
	case strings.EqualFold(scheme, "mailto"):
		return "mailto:" + strings.ToLower(strings.TrimSpace(rest))
	case strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"):
		u, err := url.Parse(a)
		if err != nil || u.EscapedPath() == "" {
			return a
		}
		a = u.EscapedPath()
	default:
		return a
	}
	if clean, err := notifyd.CleanHref(a); err == nil {
		a = clean
	}
	if len(a) > 1 {
		a = strings.TrimSuffix(a, "/")
	}
	return a
}
