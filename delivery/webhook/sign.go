package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers notifyd sets on every request.
const (
	// HeaderID carries the message ID (the delivery ID).
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the attempt's time in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries "v1," and the base64 HMAC-SHA256 signature.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// DecodeSecret returns the HMAC key of a Standard Webhooks secret: the
// base64 after "whsec_" decoded (a secret without the prefix is accepted
// too, as the reference libraries do).
func DecodeSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("webhook: the method has no signing secret")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: the method's signing secret is not whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a message: "v1,"
// and the base64 of HMAC-SHA256, keyed by the decoded secret, of
// "{msgID}.{timestamp in Unix seconds}.{body}".
func Sign(secret, msgID string, timestamp time.Time, body []byte) (string, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return "", err
	}
	return sign(key, msgID, timestamp.Unix(), body), nil
}

func sign(key []byte, msgID string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	var buf [24]byte
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(buf[:0], ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, 3+base64.StdEncoding.EncodedLen(sha256.Size))
	copy(out, "v1,")
	base64.StdEncoding.Encode(out[3:], mac.Sum(sum[:0]))
	return string(out)
}

// validMessageID reports an ID that can be signed unambiguously: not
// empty, printable ASCII without spaces or full stops.
func validMessageID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return false
		}
	}
	return true
}
