package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// suppress puts channel's address on the suppression list for a hard
// bounce.
func (r *rig) suppress(tb testing.TB, ch notifyd.Channel, address string) {
	tb.Helper()
	if _, _, err := r.db.AddSuppression(context.Background(), store.Suppression{Channel: ch, Address: address,
		Reason: store.SuppressHardBounce, Detail: "550 5.1.1 user unknown"}); err != nil {
		tb.Fatal(err)
	}
}

// A delivery to a suppressed address is not sent: it is recorded as
// suppressed, with why in the delivery log and its events; the other
// addresses of the notification are sent to.
func TestSuppressedAddressNotSent(t *testing.T) {
	t.Parallel()
	r := newRig(t, "keep")
	r.suppress(t, notifyd.ChannelEmail, "Wilma@Example.org")
	r.subscribeWith(t, nil, emailTo("wilma@example.org"), emailTo("wilma@work.example"))
	r.invites(t, "n1")
	log := r.waitLog(t, 2, store.DeliverySent, store.DeliverySuppressed)
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "wilma@work.example" {
		t.Fatalf("sent to %v, want the unsuppressed address only", got)
	}
	for _, d := range log {
		if d.Address != "wilma@example.org" {
			continue
		}
		if d.Status != store.DeliverySuppressed || !strings.HasPrefix(d.LastError, "address suppressed: hard bounce on ") ||
			!strings.Contains(d.LastError, "550 5.1.1 user unknown") {
			t.Errorf("suppressed delivery %s: %q", d.Status, d.LastError)
		}
		events, err := r.db.DeliveryEvents(context.Background(), d.ID)
		if err != nil || len(events) != 1 || events[0].Status != store.DeliverySuppressed || events[0].Detail != d.LastError {
			t.Errorf("events %+v, %v; want one, suppressed, with why", events, err)
		}
	}
}

// With a channel order email → sms and the email address suppressed, the
// SMS is sent and the email delivery is suppressed, naming the fallback.
func TestSuppressedFallsBack(t *testing.T) {
	t.Parallel()
	sms := &fakeChannel{seen: map[string]int{}}
	r := newRig(t, "keep", func(o *engine.Options) { o.Channels[notifyd.ChannelSMS] = sms })
	r.suppress(t, notifyd.ChannelEmail, "wilma@example.com")
	r.subscribeWith(t, &notifyd.Preferences{ChannelOrder: []notifyd.Channel{notifyd.ChannelEmail, notifyd.ChannelSMS}},
		subscriptions.MethodInput{Channel: notifyd.ChannelSMS, Address: "+33612345678"}, emailTo("wilma@example.com"))
	r.invites(t, "n1")
	log := r.waitLog(t, 2, store.DeliverySent, store.DeliverySuppressed)
	if len(r.email.sentTo()) != 0 || strings.Join(sms.sentTo(), ",") != "+33612345678" {
		t.Fatalf("email %v, sms %v; want the SMS only", r.email.sentTo(), sms.sentTo())
	}
	for _, d := range log {
		want := store.DeliverySent
		if d.Channel == "email" {
			want = store.DeliverySuppressed
			if !strings.Contains(d.LastError, "address suppressed") || !strings.Contains(d.LastError, "instead") {
				t.Errorf("email delivery's reason %q", d.LastError)
			}
		}
		if d.Status != want {
			t.Errorf("%s delivery %s, want %s", d.Channel, d.Status, want)
		}
	}

	// Both suppressed: nothing is sent, and both say why.
	r.suppress(t, notifyd.ChannelSMS, "+33612345678")
	r.invites(t, "n2")
	r.waitLog(t, 4, store.DeliverySent, store.DeliverySuppressed)
	if len(r.email.sentTo()) != 0 || len(sms.sentTo()) != 1 {
		t.Fatalf("email %v, sms %v; want nothing more", r.email.sentTo(), sms.sentTo())
	}
}

// goneError is what the SMS channel returns for Twilio's error 21610: the
// recipient replied STOP.
type goneError struct{}

func (goneError) Error() string {
	return "Twilio error 21610: Attempt to send to unsubscribed recipient"
}
func (goneError) Unwrap() error { return delivery.ErrRecipientGone }

// An SMS refused because its recipient replied STOP suppresses the phone
// number, reason stop, besides disabling the method: no subscription
// sends to it any more.
func TestSMSStopSuppresses(t *testing.T) {
	t.Parallel()
	sms := &fakeChannel{seen: map[string]int{}, fail: func(context.Context, *delivery.Request, int) error { return goneError{} }}
	r := newRig(t, "keep", func(o *engine.Options) { o.Channels[notifyd.ChannelSMS] = sms })
	r.subscribeWith(t, nil, subscriptions.MethodInput{Channel: notifyd.ChannelSMS, Address: "+33612345678"})
	r.invites(t, "n1")
	r.waitLog(t, 1, store.DeliveryFailed)
	s, err := r.db.Suppressed(context.Background(), "sms", "+33612345678")
	if err != nil || s == nil || s.Reason != store.SuppressStop || !strings.Contains(s.Detail, "21610") || s.Actor != store.ActorNotifyd {
		t.Fatalf("suppression %+v, %v; want stop, by notifyd, with Twilio's error", s, err)
	}
}
