package subscriptions

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// SecretRotationGrace is how long notifyd keeps signing a webhook method's
// requests with its previous secret too, after the secret changed (the
// webhook-signature header then carries both signatures, as Standard
// Webhooks allow): receivers have that long to switch to the new secret.
const SecretRotationGrace = 24 * time.Hour

// Bounds of the decoded key of a webhook secret (Standard Webhooks).
const (
	minSecretBytes = 24
	maxSecretBytes = 64
)

// NewWebhookSecret makes a Standard Webhooks signing secret: "whsec_" and
// 32 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// webhookSecrets writes a webhook method's secrets into dst and reports
// whether this write sets its secret (the only answer that shows it):
//
//   - a new method gets the client's secret, or one notifyd makes;
//   - rotate_secret makes a new one, and a secret given that differs from
//     the current one replaces it; either way the current one becomes the
//     previous secret, still signed with for SecretRotationGrace;
//   - otherwise (the secret left out, or given unchanged) the method keeps
//     its secrets: a replace or patch that does not mention the secret
//     neither changes nor reveals it.
//
// A client's secret must be whsec_ and the base64 of 24 to 64 random
// bytes (checkSecret).
func webhookSecrets(dst *notifyd.DeliveryMethod, m MethodInput, current notifyd.DeliveryMethod, now time.Time) (bool, *fieldProblem) {
	next := ""
	switch {
	case m.RotateSecret && m.Secret != "":
		return false, &fieldProblem{"rotate_secret", "give either a new secret or rotate_secret, not both"}
	case m.Secret != "" && m.Secret == current.Secret:
	case m.Secret != "":
		if detail := checkSecret(m.Secret); detail != "" {
			return false, &fieldProblem{"secret", detail}
		}
		next = m.Secret
	case m.RotateSecret || current.Secret == "":
		next = NewWebhookSecret()
	}
	if next == "" { // kept, with its previous secret while that is still signed with
		dst.Secret = current.Secret
		if current.PreviousSecret != "" && now.Before(current.PreviousSecretExpires) {
			dst.PreviousSecret, dst.PreviousSecretExpires = current.PreviousSecret, current.PreviousSecretExpires
		}
		return false, nil
	}
	dst.Secret = next
	if current.Secret != "" {
		dst.PreviousSecret, dst.PreviousSecretExpires = current.Secret, now.Add(SecretRotationGrace)
	}
	return true, nil
}

// checkSecret says what is wrong with a client's webhook secret, or "" if
// nothing is: it must be "whsec_" and the standard base64 of 24 to 64
// bytes that look random. Refused as guessable: printable text (a
// password, or hex or base64 text, rather than the random bytes
// themselves), few distinct byte values, a shorter sequence repeated, and
// bytes counting up or down in equal steps. Random bytes fail these
// checks with a probability below 10^-10. The details never quote the
// secret.
func checkSecret(secret string) string {
	const want = "whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks); leave it out for notifyd to make one"
	rest, ok := strings.CutPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(rest)
	switch {
	case !ok || err != nil:
		return "must be " + want
	case len(key) < minSecretBytes || len(key) > maxSecretBytes:
		return fmt.Sprintf("decodes to %d bytes: a secret is %s", len(key), want)
	}
	if why := guessable(key); why != "" {
		return "is too easy to guess (" + why + "): a secret is " + want
	}
	return ""
}

// guessable says why key does not look like random bytes, or "".
func guessable(key []byte) string {
	n := len(key)
	var seen [256]bool
	distinct, text := 0, true
	for _, b := range key {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
		text = text && ' ' <= b && b <= '~'
	}
	if text {
		return "printable text, not random bytes"
	}
	// n random bytes have about n distinct values (24 bytes: 23 on
	// average); fewer than half takes a dozen collisions or more.
	if distinct < n/2 {
		return fmt.Sprintf("only %d distinct byte values in %d bytes", distinct, n)
	}
	for p := 1; p <= n/2; p++ {
		if repeats(key, p) {
			return fmt.Sprintf("a sequence of %d bytes repeated", p)
		}
	}
	step, steady := key[1]-key[0], true
	for i := 2; i < n && steady; i++ {
		steady = key[i]-key[i-1] == step
	}
	if steady {
		return "bytes counting in equal steps"
	}
	return ""
}

// repeats reports whether key is its first p bytes over and over.
func repeats(key []byte, p int) bool {
	for i := p; i < len(key); i++ {
		if key[i] != key[i-p] {
			return false
		}
	}
	return true
}
