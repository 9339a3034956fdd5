package bounce

import (
	"errors"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func testVERP(t testing.TB) *VERP {
	t.Helper()
	v, err := NewVERP("", "bounces.example.org", testKey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVERPRoundTrip(t *testing.T) {
	v := testVERP(t)
	for _, id := range []string{"0123456789abcdef0123456789abcdef", "d1", strings.Repeat("z", MaxDeliveryIDLen)} {
		addr, err := v.Address(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if local, _, _ := strings.Cut(addr, "@"); len(local) > 64 {
			t.Errorf("%s: local part of %d characters, over SMTP's 64", addr, len(local))
		}
		for _, form := range []string{addr, "<" + addr + ">", strings.ToUpper(addr)} {
			got, err := v.Decode(form)
			if err != nil || got != id {
				t.Errorf("Decode(%q) = %q, %v; want %q", form, got, err, id)
			}
		}
	}
	for _, bad := range []string{"", "ABC", "a-b", "a+b", strings.Repeat("a", MaxDeliveryIDLen+1)} {
		if _, err := v.Address(bad); err == nil {
			t.Errorf("Address(%q) made an address", bad)
		}
	}
}

func TestVERPTamperedTokenFails(t *testing.T) {
	v := testVERP(t)
	addr, _ := v.Address("0123456789abcdef0123456789abcdef")
	other, _ := NewVERP("", "bounces.example.org", []byte("another key, also 32 bytes long!"))
	otherAddr, _ := other.Address("0123456789abcdef0123456789abcdef")
	swapped := strings.Replace(addr, "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdee", 1)
	at := strings.IndexByte(addr, '@')
	last := byte('0')
	if addr[at-1] == '0' {
		last = '1'
	}
	flipped := addr[:at-1] + string(last) + addr[at:] // the MAC's last digit changed
	for _, forged := range []string{swapped, flipped, otherAddr, strings.Replace(addr, "-", "-0", 1),
		"bounces+0123456789abcdef0123456789abcdef-@bounces.example.org"} {
		if _, err := v.Decode(forged); !errors.Is(err, ErrForged) {
			t.Errorf("Decode(%q) = %v, want ErrForged", forged, err)
		}
	}
	for _, notOurs := range []string{"someone@example.org", "bounces@bounces.example.org",
		strings.Replace(addr, "bounces.example.org", "example.org", 1), "bounce+x-0000000000000000@bounces.example.org"} {
		if _, err := v.Decode(notOurs); !errors.Is(err, ErrNotVERP) {
			t.Errorf("Decode(%q) = %v, want ErrNotVERP", notOurs, err)
		}
	}
}

func TestNewVERPRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		local, domain string
		key           []byte
	}{
		{"", "", testKey}, {"", "bad domain", testKey}, {"", "example.org", []byte("short")}, {"a+b", "example.org", testKey},
	} {
		if _, err := NewVERP(c.local, c.domain, c.key); err == nil {
			t.Errorf("NewVERP(%q, %q, %d-byte key) accepted", c.local, c.domain, len(c.key))
		}
	}
}
