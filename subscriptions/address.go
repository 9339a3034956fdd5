package subscriptions

import (
	"errors"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/notifyd/notifyd"
)

// NormalizeAddress checks that address suits channel and returns it in the
// canonical form used to compare methods: an RFC 5322 addr-spec with its
// domain in lower case, an E.164 phone number, an XMPP JID with localpart
// and domain in lower case, or an https URL.
func NormalizeAddress(channel notifyd.Channel, address string) (string, error) {
	if strings.TrimSpace(address) != address {
		return "", errors.New("must not have leading or trailing spaces")
	}
	switch channel {
	case notifyd.ChannelEmail:
		return normalizeEmail(address)
	case notifyd.ChannelSMS:
		return normalizePhone(address)
	case notifyd.ChannelIM:
		return normalizeJID(address)
	case notifyd.ChannelWebhook:
		return normalizeWebhookURL(address)
	}
	return "", ErrUnknownChannel
}

// ErrUnknownChannel is NormalizeAddress's error for a channel it has no
// rules for.
var ErrUnknownChannel = errors.New("unknown channel")

func normalizeEmail(address string) (string, error) {
	a, err := mail.ParseAddress(address)
	if err != nil {
		return "", errors.New("is not an RFC 5322 email address")
	}
	if a.Name != "" || a.Address != address {
		return "", errors.New("must be a bare email address such as wilma@example.org, without a display name or angle brackets")
	}
	at := strings.LastIndexByte(a.Address, '@')
	local, domain := a.Address[:at], a.Address[at+1:]
	if !isHostname(domain) && !isAddressLiteral(domain) {
		return "", errors.New("has an invalid domain")
	}
	return local + "@" + strings.ToLower(domain), nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func normalizePhone(address string) (string, error) {
	if !e164.MatchString(address) {
		return "", errors.New("must be an E.164 phone number: \"+\", the country code and the number, digits only, at most 15 (such as +14155550100)")
	}
	return address, nil
}

func normalizeJID(address string) (string, error) {
	bare, resource, hasResource := strings.Cut(address, "/")
	local, domain, ok := strings.Cut(bare, "@")
	if !ok || local == "" {
		return "", errors.New("must be an XMPP address with a local part, such as wilma@example.org")
	}
	if len(local) > 1023 || strings.ContainsAny(local, "\"&'/:<>@") || strings.IndexFunc(local, unwantedInJID) >= 0 {
		return "", errors.New("has an invalid local part (no spaces, controls or any of \"&'/:<>@)")
	}
	if !isHostname(domain) && !isAddressLiteral(domain) {
		return "", errors.New("has an invalid domain")
	}
	if hasResource && (resource == "" || len(resource) > 1023 || strings.IndexFunc(resource, unicode.IsControl) >= 0) {
		return "", errors.New("has an invalid resource")
	}
	out := strings.ToLower(local) + "@" + strings.ToLower(domain)
	if hasResource {
		out += "/" + resource
	}
	return out, nil
}

func unwantedInJID(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func normalizeWebhookURL(address string) (string, error) {
	u, err := url.Parse(address)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	switch {
	case u.Scheme != "https":
		return "", errors.New("must be an https URL")
	case u.Host == "" || u.Hostname() == "":
		return "", errors.New("must name a host")
	case u.User != nil:
		return "", errors.New("must not carry credentials; webhooks are signed instead")
	case u.Fragment != "" || strings.Contains(address, "#"):
		return "", errors.New("must not have a fragment")
	}
	if !isHostname(u.Hostname()) && net.ParseIP(u.Hostname()) == nil {
		return "", errors.New("has an invalid host")
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// isHostname reports a DNS name of letters, digits and hyphens (IDNs in
// their A-label form).
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// isAddressLiteral reports "[192.0.2.1]" or "[IPv6:2001:db8::1]" forms.
func isAddressLiteral(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	inner := strings.TrimPrefix(s[1:len(s)-1], "IPv6:")
	return net.ParseIP(inner) != nil
}
