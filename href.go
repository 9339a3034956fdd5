package notifyd

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxHrefLength is the longest principal href accepted, in bytes.
const MaxHrefLength = 1024

// CleanHref checks that href is a safe absolute path on a CalDAV server and
// returns it with its percent-encoding normalised (hex digits upper case,
// unreserved characters decoded), so that two spellings of one path compare
// equal. It refuses what could make a request leave the intended path or
// server: a scheme or host, a query or fragment, "." and ".." segments
// (also percent-encoded, double-encoded, spelt with Unicode look-alikes,
// or followed by a ";" path parameter, as in "..;x": see [checkSegment]),
// backslashes, control and invisible formatting characters, raw non-ASCII
// (it must be percent-encoded UTF-8) and invalid UTF-8.
func CleanHref(href string) (string, error) {
	if href == "" {
		return "", errors.New("must not be empty")
	}
	if len(href) > MaxHrefLength {
		return "", errors.New("is longer than 1024 bytes")
	}
	if href[0] != '/' {
		return "", errors.New("must be an absolute path starting with \"/\" (no scheme or host)")
	}
	if strings.HasPrefix(href, "//") {
		return "", errors.New("must not start with \"//\" (a network-path reference names a host)")
	}
	var out strings.Builder
	out.Grow(len(href))
	for i := 0; i < len(href); i++ {
		c := href[i]
		switch {
		case c == '%':
			if i+2 >= len(href) || !isHex(href[i+1]) || !isHex(href[i+2]) {
				return "", errors.New("has a malformed percent-encoding")
			}
			b := unhex(href[i+1])<<4 | unhex(href[i+2])
			if isUnreserved(b) {
				out.WriteByte(b)
			} else {
				out.WriteByte('%')
				out.WriteByte(upperHex[b>>4])
				out.WriteByte(upperHex[b&15])
			}
			i += 2
		case c == '?':
			return "", errors.New("must not have a query (\"?\")")
		case c == '#':
			return "", errors.New("must not have a fragment (\"#\")")
		case c == '\\':
			return "", errors.New("must not contain a backslash")
		case c < 0x20 || c == 0x7f:
			return "", errors.New("must not contain control characters")
		case c >= 0x80:
			return "", errors.New("must percent-encode non-ASCII characters")
		case isUnreserved(c) || isPathSymbol(c):
			out.WriteByte(c)
		default:
			return "", errors.New("contains a character that must be percent-encoded: " + string(rune(c)))
		}
	}
	clean := out.String()
	for _, seg := range strings.Split(clean[1:], "/") {
		if err := checkSegment(seg); err != nil {
			return "", err
		}
	}
	return clean, nil
}

// checkSegment checks one path segment once percent-decoded.
//
// A segment is judged by what precedes its first ";" (raw or encoded as
// %3B, or a look-alike of it): servers that take ";" as the start of path
// parameters (Tomcat and other servlet containers) strip them before
// resolving dot segments, so "..;x", ".;" and "%2e%2e;" are ".." or "."
// there and would lead out of the intended path.
func checkSegment(seg string) error {
	dec, err := percentDecode(seg)
	if err != nil {
		return err
	}
	if !utf8.ValidString(dec) {
		return errors.New("percent-encodes invalid UTF-8")
	}
	dots, others, params := 0, 0, false
	for _, r := range dec {
		switch {
		case r == '/' || r == '\\':
			return errors.New("must not percent-encode a slash or backslash")
		case r == '%':
			return errors.New("must not be percent-encoded twice")
		case r == 0 || unicode.IsControl(r):
			return errors.New("must not contain control characters, encoded or not")
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			return errors.New("must not contain invisible formatting characters")
		case isSlashLookalike(r):
			return errors.New("must not contain characters that look like a slash")
		case params:
			// A path parameter: not part of the segment's name.
		case r == ';' || isSemicolonLookalike(r):
			params = true
		case r == '.' || isDotLookalike(r):
			dots++
		case r == '\u2025' || r == '\uFE30': // (vertical) two dot leader, ".." under NFKC
			dots += 2
		case invisible(r):
			// Servers that strip these would see only the dots: they do
			// not count as content.
		default:
			others++
		}
	}
	// An empty segment (a trailing slash, as in "/principals/users/fred/")
	// has no dots and is fine.
	if dots > 0 && others == 0 && dots <= 2 {
		switch name, _, _ := strings.Cut(dec, ";"); {
		case params:
			return errors.New("must not contain \".\" or \"..\" segments, even followed by \";\" parameters (\"..;x\")")
		case name == "." || name == "..":
			return errors.New("must not contain \".\" or \"..\" segments")
		}
		return errors.New("must not contain \".\" or \"..\" segments, nor look-alikes of them")
	}
	return nil
}

func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), nil
}

// isDotLookalike reports runes that some servers or file systems fold to
// a full stop: one-dot leader, small and fullwidth full stops, halfwidth
// ideographic full stop.
func isDotLookalike(r rune) bool {
	switch r {
	case '\u2024', '\uFE52', '\uFF0E', '\uFF61', '\u3002', '\u0701', '\u0702', '\uA60E', '\u10FB':
		return true
	}
	return false
}

// invisible reports runes that show nothing on their own: combining and
// enclosing marks, variation selectors, the combining grapheme joiner,
// Hangul fillers and spaces.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Zs, unicode.Variation_Selector) ||
		r == '\u3164' || r == '\uFFA0' || r == '\u115F' || r == '\u1160'
}

// isSemicolonLookalike reports runes that Unicode compatibility
// normalisation (NFKC) turns into ";": the Greek question mark, the
// vertical presentation form, the small and the fullwidth semicolon.
func isSemicolonLookalike(r rune) bool {
	return r == '\u037E' || r == '\uFE14' || r == '\uFE54' || r == '\uFF1B'
}

// isSlashLookalike reports runes that some servers fold to a slash or a
// backslash.
func isSlashLookalike(r rune) bool {
	switch r {
	case '\u2215', '\u2044', '\uFF0F', '\u29F8', '\u2571', '\u29F5', '\u29F9', '\uFE68', '\uFF3C', '\u2216',
		'\u2100', '\u2101', '\u2105', '\u2106': // account of, addressed to, care of, cada una: "a/c" etc. under NFKC
		return true
	}
	return false
}

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isUnreserved reports RFC 3986's unreserved characters.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathSymbol reports the other characters RFC 3986 allows raw in a path
// (sub-delims, ":", "@" and "/").
func isPathSymbol(c byte) bool {
	return strings.IndexByte("!$&'()*+,;=:@/", c) >= 0
}
