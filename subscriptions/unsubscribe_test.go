package subscriptions

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

var testKey = bytes.Repeat([]byte{42}, 32)

// fixedClock is a clock tests set.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func TestTokenRoundTrip(t *testing.T) {
	c := &fixedClock{t0}
	u := NewUnsubscriber(testKey, WithClock(c.now))
	m := notifyd.DeliveryMethod{ID: "m_0123456789abcdef", Enabled: true, Epoch: "AAAAAAAAAAA"}
	token := u.Token("sub-1", m)
	if len(token) > 200 || strings.ContainsAny(token, "/?#%+= ") {
		t.Errorf("token %q: too long for a link or not URL-safe", token)
	}
	link, err := u.Check(token)
	if err != nil {
		t.Fatal(err)
	}
	if link.SubscriptionID != "sub-1" || link.MethodID != m.ID {
		t.Errorf("link names %s/%s", link.SubscriptionID, link.MethodID)
	}
	if want := t0.Add(LinkLifetime).Truncate(time.Second); !link.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", link.Expires, want)
	}
	if !link.Current(m) {
		t.Error("not current for the method it was made for")
	}
	disabled := m
	disabled.Enabled = false
	if !link.Current(disabled) {
		t.Error("not current once the method is switched off (the link's own doing)")
	}
	again := m
	again.Epoch = "BBBBBBBBBBB"
	if link.Current(again) {
		t.Error("current for the method in a later enabled period")
	}
	legacy := m
	legacy.Epoch = ""
	if link.Current(legacy) {
		t.Error("current for the method without epoch")
	}
}

func TestTokenExpires(t *testing.T) {
	c := &fixedClock{t0}
	u := NewUnsubscriber(testKey, WithClock(c.now))
	token := u.Token("sub-1", notifyd.DeliveryMethod{ID: "m_1", Epoch: "e"})
	for _, tc := range []struct {
		after time.Duration
		want  error
	}{
		{0, nil},
		{30 * 24 * time.Hour, nil},
		{LinkLifetime - time.Second, nil},
		{LinkLifetime, ErrLinkExpired},
		{10 * LinkLifetime, ErrLinkExpired},
	} {
		c.t = t0.Add(tc.after)
		link, err := u.Check(token)
		if err != tc.want {
			t.Errorf("after %s: %v, want %v", tc.after, err, tc.want)
		}
		if link.SubscriptionID != "sub-1" || link.MethodID != "m_1" {
			t.Errorf("after %s: link %+v", tc.after, link)
		}
	}
}

// Every part of a token is signed: changing any, its expiry above all,
// makes it invalid.
func TestTokenBindsEveryField(t *testing.T) {
	c := &fixedClock{t0}
	u := NewUnsubscriber(testKey, WithClock(c.now))
	token := u.Token("sub-1", notifyd.DeliveryMethod{ID: "m_1", Epoch: "e"})
	payload, sig, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(string(raw), "/")
	if len(f) != 5 {
		t.Fatalf("payload %q", raw)
	}
	later := strconv.FormatInt(t0.Add(100*LinkLifetime).Unix(), 10)
	for i, v := range map[int]string{0: "3", 1: "sub-2", 2: "m_2", 3: "", 4: later} {
		g := append([]string(nil), f...)
		g[i] = v
		forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(g, "/"))) + "." + sig
		if link, err := u.Check(forged); err != ErrLinkInvalid || link != (Link{}) {
			t.Errorf("field %d changed to %q: %+v, %v; want ErrLinkInvalid", i, v, link, err)
		}
	}
	if _, err := NewUnsubscriber(bytes.Repeat([]byte{7}, 32), WithClock(c.now)).Check(token); err != ErrLinkInvalid {
		t.Errorf("checked with another key: %v", err)
	}
}

// v1Token makes a token as notifyd made them before version 2.
func v1Token(u *Unsubscriber, subID, methodID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(subID + "/" + methodID))
	return payload + "." + base64.RawURLEncoding.EncodeToString(u.sign(contextV1, payload))
}

func TestV1Tokens(t *testing.T) {
	c := &fixedClock{t0}
	until := t0.Add(LinkLifetime)
	u := NewUnsubscriber(testKey, WithClock(c.now), AcceptV1LinksUntil(until))
	token := v1Token(u, "sub-1", "m_1")
	link, err := u.Check(token)
	if err != nil {
		t.Fatal(err)
	}
	if link.SubscriptionID != "sub-1" || link.MethodID != "m_1" || !link.Expires.Equal(until) {
		t.Errorf("link %+v", link)
	}
	if !link.Current(notifyd.DeliveryMethod{ID: "m_1", Enabled: true}) {
		t.Error("not current for a method without epoch (stored by the notifyd that made the link)")
	}
	if link.Current(notifyd.DeliveryMethod{ID: "m_1", Enabled: true, Epoch: "e"}) {
		t.Error("current for a method enabled since")
	}
	c.t = until
	if _, err := u.Check(token); err != ErrLinkExpired {
		t.Errorf("at the end of the transition: %v, want ErrLinkExpired", err)
	}
	c.t = t0
	if _, err := NewUnsubscriber(testKey, WithClock(c.now)).Check(token); err != ErrLinkExpired {
		t.Errorf("without AcceptV1LinksUntil: %v, want ErrLinkExpired", err)
	}
}

// epochs returns the epochs of the stored subscription's methods.
func epochs(t *testing.T, st *memStore, id string) []string {
	t.Helper()
	var out []string
	for _, m := range st.stored(t, id).Methods {
		out = append(out, m.Epoch)
	}
	return out
}

// A method gets a new epoch when it becomes enabled, and keeps it
// otherwise.
func TestMethodEpochs(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	email := MethodInput{Channel: notifyd.ChannelEmail, Address: "fred@example.org"}
	sms := MethodInput{Channel: notifyd.ChannelSMS, Address: "+14155550100", Enabled: ptr(false)}
	in := validInput()
	in.Methods = []MethodInput{email, sms}
	sub, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	first := epochs(t, st, sub.ID)
	if first[0] == "" || first[1] != "" {
		t.Fatalf("created: epochs %q, want one for the enabled method only", first)
	}
	patch := func(p Patch) []string {
		t.Helper()
		if _, err := svc.Patch(ctx, sub.ID, p, 0); err != nil {
			t.Fatal(err)
		}
		return epochs(t, st, sub.ID)
	}
	methods := func(ms ...MethodInput) Patch { return Patch{Methods: &ms} }
	on := func(m MethodInput, enabled bool) MethodInput { m.Enabled = ptr(enabled); return m }

	if got := patch(Patch{Locale: ptr("fr"), Enabled: ptr(false)}); got[0] != first[0] || got[1] != "" {
		t.Errorf("after other changes: %q, want %q", got, first)
	}
	if got := patch(methods(on(email, false), sms)); got[0] != first[0] {
		t.Errorf("switched off: %q, want the epoch kept", got)
	}
	second := patch(methods(on(email, true), on(sms, true)))
	if second[0] == "" || second[0] == first[0] || second[1] == "" {
		t.Errorf("switched on again: %q (before %q), want new epochs", second, first)
	}
	if _, err := svc.DisableMethod(ctx, sub.ID, sub.Methods[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := epochs(t, st, sub.ID); got[0] != second[0] {
		t.Errorf("disabled by DisableMethod: %q, want %q kept", got, second)
	}
	patch(methods(on(sms, true)))
	third := patch(methods(on(email, true), on(sms, true)))
	if third[0] == "" || third[0] == second[0] || third[1] != second[1] {
		t.Errorf("removed and added back: %q (before %q), want a new epoch for it only", third, second)
	}
	replaced, err := svc.Replace(ctx, sub.ID, Input{System: "bedework", Principal: "/principals/users/fred",
		Methods: []MethodInput{email, on(sms, true)}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := epochs(t, st, sub.ID); got[0] != third[0] || got[1] != third[1] || replaced.Methods[0].Epoch != third[0] {
		t.Errorf("replaced, still enabled: %q, want %q", got, third)
	}
}

func TestServiceUnsubscribe(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	c := &fixedClock{t0}
	u := NewUnsubscriber(testKey, WithClock(c.now))
	in := validInput()
	in.Methods = append(in.Methods, MethodInput{Channel: notifyd.ChannelSMS, Address: "+14155550100"})
	sub, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	check := func(token string) Link {
		t.Helper()
		l, err := u.Check(token)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	link := check(u.Token(sub.ID, sub.Methods[0]))

	got, err := svc.Unsubscribe(ctx, link)
	if err != nil || got.Methods[0].Enabled || !got.Methods[1].Enabled || got.Version != 2 {
		t.Fatalf("unsubscribe: %v, %+v", err, got)
	}
	// Again: nothing written.
	writes := st.writes
	if _, err := svc.Unsubscribe(ctx, link); err != nil || st.writes != writes {
		t.Errorf("again: %v, %d writes", err, st.writes-writes)
	}
	// Re-enabled: the link is stale, nothing written.
	email := MethodInput{Channel: notifyd.ChannelEmail, Address: "fred@example.org"}
	if _, err := svc.Patch(ctx, sub.ID, Patch{Methods: &[]MethodInput{email, in.Methods[1]}}, 0); err != nil {
		t.Fatal(err)
	}
	before := st.stored(t, sub.ID)
	writes = st.writes
	if _, err := svc.Unsubscribe(ctx, link); !errors.Is(err, ErrLinkStale) {
		t.Errorf("stale link: %v, want ErrLinkStale", err)
	}
	if now := st.stored(t, sub.ID); !now.Methods[0].Enabled || now.Version != before.Version || st.writes != writes {
		t.Errorf("a stale link wrote: %+v", now)
	}
	// Gone.
	for _, l := range []Link{
		check(u.Token(sub.ID, notifyd.DeliveryMethod{ID: "m_0000000000000000"})),
		check(u.Token("0190a3c4-0000-7000-8000-000000000000", sub.Methods[0])),
	} {
		if _, err := svc.Unsubscribe(ctx, l); !errors.Is(err, notifyd.ErrNotFound) {
			t.Errorf("%+v: %v, want ErrNotFound", l, err)
		}
	}
}

// racingStore runs before, once, just before the first update: a write of
// another request between Unsubscribe's read and its write.
type racingStore struct {
	*memStore
	before func()
}

func (r *racingStore) UpdateSubscription(ctx context.Context, s *notifyd.Subscription, ifVersion int64) error {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.memStore.UpdateSubscription(ctx, s, ifVersion)
}

// A re-enabling that lands between Unsubscribe's read and its write wins:
// the link, stale by then, does not switch the method off.
func TestServiceUnsubscribeRacesReenabling(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	rs := &racingStore{memStore: st}
	svc.store = rs
	u := NewUnsubscriber(testKey)
	sub, err := svc.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	link, err := u.Check(u.Token(sub.ID, sub.Methods[0]))
	if err != nil {
		t.Fatal(err)
	}
	email := validInput().Methods
	rs.before = func() {
		email[0].Enabled = ptr(false)
		if _, err := svc.Patch(ctx, sub.ID, Patch{Methods: &email}, 0); err != nil {
			t.Fatal(err)
		}
		email[0].Enabled = ptr(true)
		if _, err := svc.Patch(ctx, sub.ID, Patch{Methods: &email}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Unsubscribe(ctx, link); !errors.Is(err, ErrLinkStale) {
		t.Errorf("%v, want ErrLinkStale", err)
	}
	if got := st.stored(t, sub.ID); !got.Methods[0].Enabled {
		t.Errorf("the stale link switched the re-enabled method off: %+v", got.Methods)
	}
}
