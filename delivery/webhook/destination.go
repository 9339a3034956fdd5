package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrForbiddenDestination is wrapped by every DestinationError.
var ErrForbiddenDestination = errors.New("webhook destination not allowed")

// DestinationError is the refusal to connect to an address that is not
// public (loopback, private, link-local…) while
// channels.webhook.allow_private is false. It is a permanent failure.
type DestinationError struct {
	// Addr is the address the connection would have been opened to.
	Addr netip.Addr
	// Reason says what kind of address it is, e.g. "loopback".
	Reason string
}

// Error names the address, what kind it is, and the setting that allows it.
func (e *DestinationError) Error() string {
	return fmt.Sprintf("refusing to connect to %s (%s address); only public addresses are allowed unless channels.webhook.allow_private is true", e.Addr, e.Reason)
}

// Unwrap returns ErrForbiddenDestination.
func (e *DestinationError) Unwrap() error { return ErrForbiddenDestination }

// reserved lists the special-purpose ranges (IANA registries) refused
// besides what netip classifies (loopback, private, link-local, multicast,
// unspecified).
var reserved = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and 255.255.255.255
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// forbidden says why a is not a public unicast address, or "" when it is.
// IPv4-mapped and NAT64 (64:ff9b::/96) addresses are judged by the IPv4
// address they carry.
func forbidden(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if nat64.Contains(a) {
		b := a.As16()
		if r := forbidden(netip.AddrFrom4([4]byte(b[12:]))); r != "" {
			return "NAT64 " + r
		}
		return ""
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	}
	for _, r := range reserved {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	if !a.IsGlobalUnicast() {
		return "non-unicast"
	}
	return ""
}

// checkDial is the dialer's Control function: it runs once the address to
// connect to is known (after name resolution), before the connection is
// opened, and refuses addresses that are not public.
func checkDial(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("webhook: refusing a %s connection", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing to connect to %q: %w", address, err)
	}
	if r := forbidden(ap.Addr()); r != "" {
		return &DestinationError{Addr: ap.Addr().WithZone(""), Reason: r}
	}
	return nil
}

// checkURL parses a method's address and checks that it may be posted to:
// https, or http to a loopback IP address when private destinations are
// allowed; a host; no credentials.
func checkURL(address string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(address)
	if err != nil {
		return nil, errors.New("webhook: the method's address is not a URL")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("webhook: the address %q names no host", display(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook: the address %s carries credentials; webhooks are signed instead", display(u))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		ip, err := netip.ParseAddr(u.Hostname())
		if !allowPrivate || err != nil || !ip.Unmap().IsLoopback() {
			return nil, fmt.Errorf("webhook: the address %s is not https (plain http is allowed only to loopback IP addresses, with channels.webhook.allow_private)", display(u))
		}
	default:
		return nil, fmt.Errorf("webhook: the address %s is not an https URL", display(u))
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// display is a URL as error messages show it: without the query, which
// may carry a token.
func display(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := v.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}
