package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Errors of [VERP.Decode] and [Parse].
var (
	// ErrNotVERP means an address is not one of notifyd's bounce
	// addresses (wrong local part or domain, or no token).
	ErrNotVERP = errors.New("bounce: not a bounce address of this notifyd")
	// ErrForged means a bounce address's token does not verify: it was
	// not made by this notifyd (or with another key), or was altered.
	ErrForged = errors.New("bounce: the bounce address's token does not verify (forged or altered)")
)

// macLen is the length in bytes of the token's MAC (16 hex digits).
const macLen = 8

// MaxDeliveryIDLen bounds a delivery ID a VERP address can carry: the
// address's local part must stay within 64 characters (RFC 5321).
const MaxDeliveryIDLen = 36

// VERP makes and checks per-delivery envelope senders of the form
// LOCAL+ID-MAC@DOMAIN ("bounces+0123…ef-89ab…@bounces.example.org"):
// ID is the delivery's ID and MAC a truncated HMAC-SHA256 of it under a
// key notifyd keeps, so that a report sent to such an address names its
// delivery and nobody else can make one for another delivery. Tokens are
// lower case, since some mail systems lower-case local parts. A VERP is
// safe for concurrent use.
type VERP struct {
	local, domain string
	key           []byte
}

// NewVERP returns a VERP for addresses local+TOKEN@domain ("bounces" when
// local is empty), signing with key (at least 16 bytes).
func NewVERP(local, domain string, key []byte) (*VERP, error) {
	if local == "" {
		local = "bounces"
	}
	if !validLocal(local) {
		return nil, fmt.Errorf("bounce: local part %q: want letters, digits, . - _", local)
	}
	if err := checkDomain(domain); err != nil {
		return nil, err
	}
	if len(key) < 16 {
		return nil, errors.New("bounce: VERP key shorter than 16 bytes")
	}
	return &VERP{local: strings.ToLower(local), domain: strings.ToLower(domain), key: append([]byte(nil), key...)}, nil
}

// Domain is the domain of the bounce addresses.
func (v *VERP) Domain() string { return v.domain }

// Address returns the envelope sender for the delivery deliveryID: 1 to
// MaxDeliveryIDLen lower-case letters and digits (notifyd's delivery IDs
// are 32 hex digits).
func (v *VERP) Address(deliveryID string) (string, error) {
	if !validID(deliveryID) {
		return "", fmt.Errorf("bounce: delivery ID %q cannot go in a bounce address: want 1 to %d lower-case letters and digits", deliveryID, MaxDeliveryIDLen)
	}
	return v.local + "+" + deliveryID + "-" + v.mac(deliveryID) + "@" + v.domain, nil
}

// Decode returns the delivery ID of a bounce address Address made
// (angle brackets and case do not matter): ErrNotVERP for an address
// that is not one, ErrForged for one whose MAC does not verify.
func (v *VERP) Decode(addr string) (string, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || addr[at+1:] != v.domain {
		return "", ErrNotVERP
	}
	local, ok := strings.CutPrefix(addr[:at], v.local+"+")
	if !ok {
		return "", ErrNotVERP
	}
	dash := strings.LastIndexByte(local, '-')
	if dash < 0 {
		return "", ErrNotVERP
	}
	id, mac := local[:dash], local[dash+1:]
	if !validID(id) || len(mac) != 2*macLen {
		return "", ErrForged
	}
	got, err := hex.DecodeString(mac)
	if err != nil || !hmac.Equal(got, v.rawMAC(id)) {
		return "", ErrForged
	}
	return id, nil
}

// Is reports whether addr is in the bounce addresses' form
// (local+…@domain), without checking its token.
func (v *VERP) Is(addr string) bool {
	_, err := v.Decode(addr)
	return !errors.Is(err, ErrNotVERP)
}

func (v *VERP) rawMAC(id string) []byte {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte("notifyd-bounce-v1\x00"))
	m.Write([]byte(id))
	return m.Sum(nil)[:macLen]
}

func (v *VERP) mac(id string) string { return hex.EncodeToString(v.rawMAC(id)) }

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxDeliveryIDLen {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

func validLocal(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return s[0] != '.' && s[len(s)-1] != '.'
}

// checkDomain accepts a DNS name: dot-separated labels of letters,
// digits and hyphens.
func checkDomain(d string) error {
	if d == "" || len(d) > 253 {
		return fmt.Errorf("bounce: domain %q: want a DNS name", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("bounce: domain %q: want a DNS name", d)
		}
		for _, c := range label {
			if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' {
				return fmt.Errorf("bounce: domain %q: want a DNS name", d)
			}
		}
	}
	return nil
}
