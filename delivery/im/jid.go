package im

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// parseJID checks an XMPP address (localpart@domainpart, optionally
// /resource) and returns its bare form (localpart@domainpart) and its
// resource. Addresses without a localpart (a server) are refused: an
// instant message goes to a person.
func parseJID(s string) (bare, resource string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", errors.New("im: no recipient")
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' || r == '\'' || r == '&'
	}) {
		return "", "", fmt.Errorf("im: recipient %q is not a valid JID", s)
	}
	bare, resource, _ = strings.Cut(s, "/")
	local, domain, ok := strings.Cut(bare, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(local) > 1023 || len(domain) > 1023 {
		return "", "", fmt.Errorf("im: recipient %q is not a JID such as name@example.org", s)
	}
	return bare, resource, nil
}

// bareKey is how addresses are compared: the bare JID, lower-cased (JID
// localparts and domainparts are case-insensitive for the addresses people
// use).
func bareKey(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}

// domainOf returns the domainpart of a JID.
func domainOf(jid string) string {
	bare := bareKey(jid)
	if i := strings.IndexByte(bare, '@'); i >= 0 {
		return bare[i+1:]
	}
	return bare
}
