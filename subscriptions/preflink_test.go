package subscriptions_test

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd/subscriptions"
)

func TestPreferenceLinkSignedScopedExpiring(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	l := subscriptions.NewPreferenceLinker(key, 48*time.Hour, clock)
	id := "0190a0b0-1234-7000-8000-0000000000aa"
	token, expires := l.Token(id)
	if len(token) > 64 {
		t.Errorf("token of %d characters; a text message wants it short", len(token))
	}
	if !expires.Equal(now.Add(48 * time.Hour)) {
		t.Errorf("expires %v", expires)
	}
	link, err := l.Check(token)
	if err != nil || link.SubscriptionID != id || !link.Issued.Equal(now) {
		t.Fatalf("Check: %+v, %v", link, err)
	}
	// Another key, a changed byte anywhere, a cut token: not notifyd's.
	other := subscriptions.NewPreferenceLinker([]byte("another key of thirty-two bytes!"), 48*time.Hour, clock)
	if _, err := other.Check(token); !errors.Is(err, subscriptions.ErrPreferenceLinkInvalid) {
		t.Errorf("another key's check: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	for i := range raw {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		if _, err := l.Check(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, subscriptions.ErrPreferenceLinkInvalid) {
			t.Errorf("byte %d changed: %v", i, err)
		}
	}
	if _, err := l.Check(token[:len(token)-1]); !errors.Is(err, subscriptions.ErrPreferenceLinkInvalid) {
		t.Errorf("cut: %v", err)
	}
	// Expired at its end, not before.
	now = expires.Add(-time.Second)
	if _, err := l.Check(token); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	now = expires
	if _, err := l.Check(token); !errors.Is(err, subscriptions.ErrPreferenceLinkExpired) {
		t.Errorf("at expiry: %v", err)
	}
	// Revocation: void when made at or before it.
	if !link.RevokedBy(link.Issued) || link.RevokedBy(link.Issued.Add(-time.Microsecond)) || link.RevokedBy(time.Time{}) {
		t.Errorf("RevokedBy is wrong")
	}
	// Not a UUID: no link.
	if tok, _ := l.Token("not-a-uuid"); tok != "" {
		t.Errorf("token for a non-UUID ID")
	}
	// The form token is bound to the link.
	if !l.CheckFormToken(token, l.FormToken(token)) || l.CheckFormToken(token, l.FormToken(token+"x")) || l.CheckFormToken(token, "") {
		t.Errorf("form tokens are not bound to their link")
	}
}
