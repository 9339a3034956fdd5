package subscriptions

import (
	"context"
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
)

func TestMethodOptions(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := context.Background()
	sub, err := svc.Create(ctx, Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{
		{Channel: notifyd.ChannelIM, Address: "fred@example.org"},
		{Channel: notifyd.ChannelIM, Address: "fred@work.example", Presence: notifyd.PresenceFallback},
		{Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/n"},
		{Channel: notifyd.ChannelEmail, Address: "fred@example.org"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := sub.Methods
	if m[0].Presence != notifyd.PresenceOnlineOnly || m[1].Presence != notifyd.PresenceFallback || m[3].Presence != "" {
		t.Errorf("presence %q %q %q: want online_only by default for im, as given, none for email", m[0].Presence, m[1].Presence, m[3].Presence)
	}
	if !strings.HasPrefix(m[2].Secret, "whsec_") || m[3].Secret != "" {
		t.Errorf("secrets %q %q: want one generated for the webhook only", m[2].Secret, m[3].Secret)
	}

	// Replacing keeps the webhook method's secret.
	again, err := svc.Replace(ctx, sub.ID, Input{System: "bedework", Principal: "/p/fred", Methods: []MethodInput{
		{Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/n"},
	}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Methods[0].Secret != m[2].Secret {
		t.Errorf("replace changed the webhook secret: %q -> %q", m[2].Secret, again.Methods[0].Secret)
	}

	for _, bad := range []struct {
		in    MethodInput
		field string
	}{
		{MethodInput{Channel: notifyd.ChannelEmail, Address: "a@example.org", Presence: "store"}, "/methods/0/presence"},
		{MethodInput{Channel: notifyd.ChannelIM, Address: "a@example.org", Presence: "sometimes"}, "/methods/0/presence"},
		{MethodInput{Channel: notifyd.ChannelSMS, Address: "+14155550100", Secret: "whsec_x"}, "/methods/0/secret"},
		{MethodInput{Channel: notifyd.ChannelWebhook, Address: "https://h.example.org/", Secret: "hunter2"}, "/methods/0/secret"},
	} {
		_, err := svc.Create(ctx, Input{System: "bedework", Principal: "/p/x", Methods: []MethodInput{bad.in}})
		var verr notifyd.ValidationError
		if !asValidation(err, &verr) || len(verr) != 1 || verr[0].Field != bad.field {
			t.Errorf("%+v: %v, want one error at %s", bad.in, err, bad.field)
		}
	}
}

func asValidation(err error, v *notifyd.ValidationError) bool {
	ve, ok := err.(notifyd.ValidationError)
	*v = ve
	return ok
}
