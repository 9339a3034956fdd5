package subscriptions

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

func whsec(key []byte) string { return "whsec_" + base64.StdEncoding.EncodeToString(key) }

// randomKey is n bytes from a seeded generator: random-looking, and the
// same on every run.
func randomKey(seed uint64, n int) []byte {
	key := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(key)
	return key
}

func TestCheckSecretRefusesGuessableSecrets(t *testing.T) {
	counting := make([]byte, 32)
	for i := range counting {
		counting[i] = byte(3 * i)
	}
	for _, tc := range []struct{ name, secret, detail string }{
		{"no prefix", base64.StdEncoding.EncodeToString(randomKey(1, 32)), "must be whsec_"},
		{"not base64", "whsec_not base64!", "must be whsec_"},
		{"16 bytes", whsec(randomKey(2, 16)), "decodes to 16 bytes"},
		{"65 bytes", whsec(randomKey(3, 65)), "decodes to 65 bytes"},
		{"one byte repeated", whsec(make([]byte, 32)), "only 1 distinct byte values"},
		{"two values", whsec([]byte(strings.Repeat("\x01\xfe\xfe\x01", 8))), "only 2 distinct byte values"},
		{"a 12-byte key twice", whsec(append(randomKey(4, 12), randomKey(4, 12)...)), "a sequence of 12 bytes repeated"},
		{"counting", whsec(counting), "equal steps"},
		{"a password", whsec([]byte("correct horse battery staple")), "printable text"},
		{"hex text", whsec([]byte("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c")), "printable text"},
	} {
		detail := checkSecret(tc.secret)
		if !strings.Contains(detail, tc.detail) {
			t.Errorf("%s: %q, want a refusal saying %q", tc.name, detail, tc.detail)
		}
		if strings.Contains(detail, strings.TrimPrefix(tc.secret, "whsec_")) {
			t.Errorf("%s: the refusal quotes the secret: %q", tc.name, detail)
		}
	}
}

func TestCheckSecretAcceptsRandomSecrets(t *testing.T) {
	// The Standard Webhooks specification's example secret (24 bytes).
	if d := checkSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); d != "" {
		t.Errorf("the specification's example secret: %s", d)
	}
	for seed := range uint64(2000) {
		n := minSecretBytes + int(seed)%(maxSecretBytes-minSecretBytes+1)
		if s := whsec(randomKey(seed, n)); checkSecret(s) != "" {
			t.Fatalf("%d random bytes %s: %s", n, s, checkSecret(s))
		}
	}
	for range 100 {
		if s := NewWebhookSecret(); checkSecret(s) != "" {
			t.Fatalf("NewWebhookSecret %s: %s", s, checkSecret(s))
		}
	}
}

// TestWebhookSecretLifecycle follows one webhook method's secret through
// the writes that keep it, rotate it and set it, and through the end of
// the grace period of the previous one.
func TestWebhookSecretLifecycle(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	at := t0.Truncate(time.Microsecond)
	svc.now = func() time.Time { return at }
	hook := MethodInput{Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/n"}
	in := Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{
		{Channel: notifyd.ChannelEmail, Address: "fred@example.org"}, hook}}

	// check tests the webhook method as w returned it and as stored.
	check := func(step string, w *Written, err error, secret string, shown bool, previous string, expires time.Time) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		stored := st.stored(t, w.ID)
		for _, m := range []notifyd.DeliveryMethod{w.Methods[1], stored.Methods[1]} {
			if m.Secret != secret || m.PreviousSecret != previous || !m.PreviousSecretExpires.Equal(expires) {
				t.Errorf("%s: secret %q previous %q until %v; want %q, %q until %v",
					step, m.Secret, m.PreviousSecret, m.PreviousSecretExpires, secret, previous, expires)
			}
		}
		want := map[string]bool{}
		if shown {
			want[w.Methods[1].ID] = true
		}
		if len(w.NewSecrets) != len(want) || shown && !w.NewSecrets[w.Methods[1].ID] {
			t.Errorf("%s: NewSecrets %v, want %v", step, w.NewSecrets, want)
		}
	}

	w, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	s1 := w.Methods[1].Secret
	check("create", w, err, s1, true, "", time.Time{})
	id := w.ID

	at = at.Add(time.Minute)
	w, err = svc.Replace(ctx, id, in, 0)
	check("replace without a secret", w, err, s1, false, "", time.Time{})
	w, err = svc.Patch(ctx, id, Patch{Locale: ptr("fr")}, 0)
	check("patch without methods", w, err, s1, false, "", time.Time{})
	w, err = svc.Patch(ctx, id, Patch{Methods: &in.Methods}, 0)
	check("patch of methods without a secret", w, err, s1, false, "", time.Time{})

	rotate := hook
	rotate.RotateSecret = true
	rotatedAt := at
	w, err = svc.Patch(ctx, id, Patch{Methods: &[]MethodInput{rotate}}, 0)
	s2 := w.Methods[0].Secret
	if s2 == s1 || checkSecret(s2) != "" {
		t.Fatalf("rotated secret %q, want a new one", s2)
	}
	w, err = svc.Replace(ctx, id, in, 0) // back to two methods, the webhook second
	check("replace after the rotation", w, err, s2, false, s1, rotatedAt.Add(SecretRotationGrace))

	same := hook
	same.Secret = s2
	w, err = svc.Replace(ctx, id, Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{in.Methods[0], same}}, 0)
	check("replace giving the current secret", w, err, s2, false, s1, rotatedAt.Add(SecretRotationGrace))

	at = at.Add(time.Hour)
	chosen := hook
	chosen.Secret = whsec(randomKey(7, 40))
	w, err = svc.Replace(ctx, id, Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{in.Methods[0], chosen}}, 0)
	check("replace giving a new secret", w, err, chosen.Secret, true, s2, at.Add(SecretRotationGrace))

	// Past the grace period the previous secret is dropped at the next write.
	at = at.Add(SecretRotationGrace)
	w, err = svc.Replace(ctx, id, in, 0)
	check("replace after the grace period", w, err, chosen.Secret, false, "", time.Time{})

	// Refused: both a secret and rotate_secret, options of other channels.
	both := chosen
	both.RotateSecret = true
	for _, tc := range []struct {
		m     MethodInput
		field string
	}{
		{both, "/methods/0/rotate_secret"},
		{MethodInput{Channel: notifyd.ChannelEmail, Address: "a@example.org", RotateSecret: true}, "/methods/0/rotate_secret"},
		{MethodInput{Channel: notifyd.ChannelWebhook, Address: "https://h.example.org/", Secret: whsec(make([]byte, 32))}, "/methods/0/secret"},
	} {
		_, err := svc.Replace(ctx, id, Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{tc.m}}, 0)
		if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field {
			t.Errorf("%+v: fields %v, want %s", tc.m, got, tc.field)
		}
	}
	if got := st.stored(t, id).Methods[1].Secret; got != chosen.Secret {
		t.Errorf("refused writes changed the secret to %q", got)
	}
}
