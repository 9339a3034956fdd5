package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks reference libraries
// (standard-webhooks/standard-webhooks, libraries/go/webhook_symmetric_test.go,
// TestSymmetricWebhookSign; the same in the other languages).
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	got, err := Sign(specSecret, specMsgID, time.Unix(specTimestamp, 0), []byte(specPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != specSignature {
		t.Fatalf("Sign = %s, want the spec's %s", got, specSignature)
	}
	// The independent verifier agrees on the vector too.
	h := http.Header{}
	h.Set("webhook-id", specMsgID)
	h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
	h.Set("webhook-signature", specSignature)
	if err := verifyStandardWebhook(specSecret, h, []byte(specPayload), time.Unix(specTimestamp, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestSignMatchesIndependentHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	for _, body := range []string{"", "{}", `{"type":"notification.share-invite","data":{"x":"é\n"}}`, strings.Repeat("z", 100000)} {
		ts := time.Unix(1700000000, 999_000_000) // the fraction is dropped
		got, err := Sign(secret, "abc123", ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.%s", "abc123", 1700000000, body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if got != want {
			t.Errorf("body of %d bytes: %s, want %s", len(body), got, want)
		}
	}
}

func TestDecodeSecret(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_not base64!", "whsec_%%%%"} {
		if _, err := DecodeSecret(s); err == nil {
			t.Errorf("DecodeSecret(%q) accepted", s)
		}
	}
	key, err := DecodeSecret("whsec_AAECAw==")
	if err != nil || string(key) != "\x00\x01\x02\x03" {
		t.Errorf("DecodeSecret = %v, %v", key, err)
	}
}

func TestValidMessageID(t *testing.T) {
	for id, ok := range map[string]bool{
		"5f0c1a2b3c4d5e6f": true, "msg_p5jXN8AQM9LWM0D4loKWxJek": true,
		"": false, "a.b": false, "a b": false, "a\nb": false, "é": false,
	} {
		if validMessageID(id) != ok {
			t.Errorf("validMessageID(%q) = %v", id, !ok)
		}
	}
}

// verifyStandardWebhook is a receiver's verification written from the
// Standard Webhooks specification alone (no code shared with the
// package): it checks the three headers, the timestamp against now (five
// minutes of tolerance) and that one of the space-separated "v1,"
// signatures is the HMAC-SHA256 of "{id}.{timestamp}.{body}" under the
// base64-decoded secret, compared in constant time.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", tsText)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d too far from now", ts)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return errors.New("secret without whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + tsText + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, expected) {
			return nil
		}
	}
	return errors.New("no matching signature")
}
