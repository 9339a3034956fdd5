package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

func TestForbidden(t *testing.T) {
	refused := map[string]string{
		"127.0.0.1": "loopback", "127.8.9.10": "loopback", "::1": "loopback",
		"10.0.0.1": "private", "10.255.255.255": "private",
		"172.16.0.1": "private", "172.31.255.254": "private",
		"192.168.1.1":     "private",
		"169.254.169.254": "link-local", "fe80::1": "link-local", "fe80::1%eth0": "link-local",
		"fc00::1": "private", "fd12:3456::1": "private",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": "this-network",
		"100.64.0.1": "shared (CGNAT)", "100.127.255.254": "shared (CGNAT)",
		"224.0.0.1": "multicast", "239.1.2.3": "multicast", "ff02::1": "multicast", "ff0e::1": "multicast",
		"255.255.255.255": "reserved", "240.0.0.1": "reserved",
		"192.0.2.1": "documentation", "2001:db8::1": "documentation",
		"198.18.0.1":      "benchmarking",
		"::ffff:10.0.0.1": "private", "::ffff:127.0.0.1": "loopback", "::ffff:169.254.169.254": "link-local",
		"::ffff:0:10.0.0.1": "IPv4-translated", "::10.0.0.1": "IPv4-compatible",
		"64:ff9b::a00:1": "NAT64 private", "64:ff9b::7f00:1": "NAT64 loopback", "64:ff9b:1::1": "local-use NAT64",
		"2002:a00:1::1": "6to4", "2001:0:4136:e378::1": "Teredo", "fec0::1": "site-local", "100::1": "discard-only",
	}
	for s, want := range refused {
		if got := forbidden(netip.MustParseAddr(s)); got != want {
			t.Errorf("forbidden(%s) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.215.14", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2a00:1450:4007:80e::200e"} {
		if got := forbidden(netip.MustParseAddr(s)); got != "" {
			t.Errorf("forbidden(%s) = %q, want allowed", s, got)
		}
	}
}

// acceptCounter is a TCP listener on every local address that counts the
// connections it accepts and closes them.
func acceptCounter(t *testing.T) (port string, accepts *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepts = new(atomic.Int64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), accepts
}

// ssrfHosts are the destinations refused unless allow_private; each is
// tried on the acceptCounter's port, so a connection that got through
// to a local address would be counted.
var ssrfHosts = []struct {
	name, host string
	local      bool // reachable on this machine: allow_private connects
}{
	{"127.0.0.1", "127.0.0.1", true},
	{"127/8", "127.0.0.2", true},
	{"::1", "[::1]", true},
	{"10/8", "10.11.12.13", false},
	{"172.16/12", "172.20.1.2", false},
	{"192.168/16", "192.168.0.10", false},
	{"169.254/16 (cloud metadata)", "169.254.169.254", false},
	{"fe80::/10", "[fe80::1]", false},
	{"fc00::/7", "[fd00::1]", false},
	{"0.0.0.0", "0.0.0.0", true},
	{"::", "[::]", true},
	{"100.64/10", "100.64.1.1", false},
	{"::ffff:127.0.0.1", "[::ffff:127.0.0.1]", true},
	{"::ffff:10.0.0.1", "[::ffff:10.0.0.1]", false},
	{"multicast", "224.0.0.251", false},
	{"hostname resolving to 127.0.0.1", "localhost", true},
}

func TestSSRFRefusedWithoutConnecting(t *testing.T) {
	port, accepts := acceptCounter(t)
	ch := New(config.Webhook{Timeout: 2 * time.Second})
	defer ch.Close()
	for _, tc := range ssrfHosts {
		t.Run(tc.name, func(t *testing.T) {
			req := testRequest("https://" + tc.host + ":" + port + "/hook")
			start := time.Now()
			_, err := ch.Send(context.Background(), req)
			if !errors.Is(err, ErrForbiddenDestination) {
				t.Fatalf("Send to %s: %v, want a refused destination", tc.host, err)
			}
			var de *DestinationError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Errorf("no DestinationError in %v", err)
			}
			if temp, _ := delivery.IsTemporary(err); temp {
				t.Errorf("a refused destination is temporary: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusal took %s: a connection was attempted?", d)
			}
			t.Log(err)
		})
	}
	time.Sleep(50 * time.Millisecond) // let a stray accept be counted
	if n := accepts.Load(); n != 0 {
		t.Fatalf("%d connections reached the local listener", n)
	}
}

func TestSSRFAllowedWithAllowPrivate(t *testing.T) {
	port, accepts := acceptCounter(t)
	ch := New(config.Webhook{Timeout: 2 * time.Second, AllowPrivate: true})
	defer ch.Close()
	for _, tc := range ssrfHosts {
		if !tc.local {
			continue // not reachable from here; the policy is tested by TestForbidden and has no dial hook
		}
		t.Run(tc.name, func(t *testing.T) {
			before := accepts.Load()
			_, err := ch.Send(context.Background(), testRequest("https://"+tc.host+":"+port+"/hook"))
			// The listener speaks no TLS: the attempt fails after connecting.
			if errors.Is(err, ErrForbiddenDestination) {
				t.Fatalf("refused with allow_private: %v", err)
			}
			if temp, _ := delivery.IsTemporary(err); !temp {
				t.Errorf("a failed handshake is not temporary: %v", err)
			}
			waitUntil(t, func() bool { return accepts.Load() > before })
		})
	}
	if ch.transport.DialContext == nil || ch.transport.Proxy != nil {
		t.Error("the transport must dial itself, without a proxy")
	}
}

func TestCheckDial(t *testing.T) {
	if err := checkDial("tcp4", "10.0.0.1:443", nil); !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("10.0.0.1: %v", err)
	}
	if err := checkDial("tcp6", "[fe80::1%lo]:443", nil); !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("fe80::1%%lo: %v", err)
	}
	if err := checkDial("tcp4", "93.184.215.14:443", nil); err != nil {
		t.Errorf("public address: %v", err)
	}
	if err := checkDial("udp", "93.184.215.14:443", nil); err == nil {
		t.Error("udp accepted")
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.org/notifyd?k=1", false, true},
		{"https://127.0.0.1:8443/", false, true}, // refused at dial time, not here
		{"http://hooks.example.org/", false, false},
		{"http://hooks.example.org/", true, false},
		{"http://127.0.0.1:8080/hook", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"http://[::1]:8080/hook", true, true},
		{"http://localhost:8080/hook", true, false}, // a name may resolve anywhere
		{"http://10.0.0.1/hook", true, false},
		{"ftp://hooks.example.org/", true, false},
		{"https://user:pw@hooks.example.org/", false, false},
		{"https:///path", false, false},
		{"mailto:x@example.org", false, false},
		{"://bad", false, false},
	} {
		_, err := checkURL(tc.url, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("checkURL(%q, allowPrivate=%v) = %v", tc.url, tc.allowPrivate, err)
		}
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
