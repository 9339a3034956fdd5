package subscriptions

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Unsubscriber signs and checks the tokens of one-click unsubscribe links
// (RFC 8058). A token names one delivery method of one subscription and
// carries an HMAC-SHA256, so it cannot be forged or pointed at another
// method.
type Unsubscriber struct{ key []byte }

// NewUnsubscriber returns an Unsubscriber signing with key (at least 32
// random bytes; notifyd generates and keeps one in its database).
func NewUnsubscriber(key []byte) *Unsubscriber { return &Unsubscriber{key: key} }

// Token returns the token that disables methodID of subscriptionID.
func (u *Unsubscriber) Token(subscriptionID, methodID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(subscriptionID + "/" + methodID))
	return payload + "." + base64.RawURLEncoding.EncodeToString(u.sign(payload))
}

// Check returns what a token names, if it is genuine.
func (u *Unsubscriber) Check(token string) (subscriptionID, methodID string, ok bool) {
	payload, sig, found := strings.Cut(token, ".")
	if !found {
		return "", "", false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, u.sign(payload)) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", "", false
	}
	subscriptionID, methodID, found = strings.Cut(string(raw), "/")
	return subscriptionID, methodID, found && subscriptionID != "" && methodID != ""
}

func (u *Unsubscriber) sign(payload string) []byte {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte("notifyd unsubscribe v1\x00" + payload))
	return m.Sum(nil)[:16]
}
