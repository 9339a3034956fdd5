package message

import (
	"net/url"
	"strings"
)

// MaxLinkBytes caps a link a text message shows (the preference page's
// is about 60 bytes).
const MaxLinkBytes = 512

// LinkURL returns u if a text message (SMS, IM) may show it as a link:
// an absolute http or https URL of at most MaxLinkBytes, written only
// with the characters RFC 3986 allows unencoded (no spaces, quotes,
// angle brackets or line breaks: nothing that could end it early or
// change the text around it). Otherwise it returns "": no link rather
// than a broken one.
func LinkURL(u string) string {
	if u == "" || len(u) > MaxLinkBytes {
		return ""
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0) {
			return ""
		}
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return u
}
