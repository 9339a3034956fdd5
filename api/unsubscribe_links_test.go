package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// testClock is the clock of a harness's Unsubscriber: the time the harness
// started, plus what a test added.
type testClock struct {
	base   time.Time
	offset atomic.Int64
}

func newTestClock() *testClock { return &testClock{base: time.Now()} }

func (c *testClock) now() time.Time { return c.base.Add(time.Duration(c.offset.Load())) }

// advance moves the clock forward by d.
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// token is the token notifyd puts in a message it sends now to methodID of
// subID, as stored now (a method that does not exist: one with that ID).
func (h *harness) token(t *testing.T, subID, methodID string) string {
	t.Helper()
	m := notifyd.DeliveryMethod{ID: methodID}
	if sub, err := h.db.Subscription(context.Background(), subID); err == nil {
		for _, sm := range sub.Methods {
			if sm.ID == methodID {
				m = sm
			}
		}
	}
	return h.unsub.Token(subID, m)
}

// v1Token is a token as notifyd made them before they expired and named
// the method's enabled period (version 1).
func (h *harness) v1Token(subID, methodID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(subID + "/" + methodID))
	m := hmac.New(sha256.New, h.unsubKey)
	m.Write([]byte("notifyd unsubscribe v1\x00" + payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// setMethods PATCHes the enabled flags of s's two methods (email, SMS).
func (h *harness) setMethods(t *testing.T, s subscription, email, sms bool) subscription {
	t.Helper()
	res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, map[string]any{"methods": []map[string]any{
		{"channel": "email", "address": "fred@example.org", "enabled": email},
		{"channel": "sms", "address": "+14155550100", "enabled": sms},
	}}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	var out subscription
	res.decode(t, &out)
	if out.Methods[0].Enabled != email || out.Methods[1].Enabled != sms {
		t.Fatalf("patched methods %+v", out.Methods)
	}
	return out
}

// wantGone fails t unless res is the page of a genuine link that is no
// longer valid: 410, saying so and what to do, with no form.
func wantGone(t *testing.T, res response) {
	t.Helper()
	body := wantHTML(t, res, http.StatusGone)
	if !strings.Contains(body, "no longer valid") || !strings.Contains(body, "most recent") {
		t.Errorf("the page does not say the link is no longer valid and what to do: %s", body)
	}
	if strings.Contains(body, "<form") {
		t.Errorf("a page of a link no longer valid offers a form: %s", body)
	}
}

// A person unsubscribes, is subscribed again, and the old message's link
// must not switch the method off again; a newer message's link does.
func TestUnsubscribeLinkAfterReenabling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	old := h.token(t, s.ID, s.Methods[0].ID)
	wantHTML(t, h.unsubPost(t, old), http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled {
		t.Fatalf("not unsubscribed: %+v", got.Methods)
	}
	again := h.setMethods(t, s, true, true)

	wantGone(t, h.unsubPost(t, old))
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, again) {
		t.Fatalf("the old link changed the re-enabled subscription: %+v, want %+v", got, again)
	}
	wantGone(t, h.unsubPage(t, old))

	// A message sent after the re-enabling carries a link that works.
	fresh := h.token(t, s.ID, s.Methods[0].ID)
	body := wantHTML(t, h.unsubPage(t, fresh), http.StatusOK)
	if !strings.Contains(body, "<form") {
		t.Errorf("the new link's page has no form: %s", body)
	}
	wantHTML(t, h.unsubPost(t, fresh), http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled || !got.Methods[1].Enabled {
		t.Errorf("the new link did not unsubscribe: %+v", got.Methods)
	}
	// The old one still does nothing.
	wantGone(t, h.unsubPost(t, old))
}

// Switched off by the operator and on again, or removed and added back:
// the links of messages sent before are no longer valid either.
func TestUnsubscribeLinkAfterOperatorChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")

	off := h.token(t, s.ID, s.Methods[0].ID)
	h.setMethods(t, s, false, true)
	h.setMethods(t, s, true, true)
	wantGone(t, h.unsubPage(t, off))

	removed := h.token(t, s.ID, s.Methods[0].ID)
	res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, map[string]any{"methods": []map[string]any{
		{"channel": "sms", "address": "+14155550100"}}}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	back := h.setMethods(t, s, true, true)
	if back.Methods[0].ID != s.Methods[0].ID {
		t.Fatalf("the method added back has ID %s, was %s", back.Methods[0].ID, s.Methods[0].ID)
	}
	wantGone(t, h.unsubPage(t, removed))
	wantGone(t, h.unsubPost(t, removed))
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, back) {
		t.Fatalf("the old link changed the subscription: %+v, want %+v", got, back)
	}
}

// Changes that do not switch the method on again keep its links working:
// the subscription's other fields, the other method, the whole
// subscription switched off and on.
func TestUnsubscribeLinkSurvivesOtherChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	token := h.token(t, s.ID, s.Methods[0].ID)
	for _, patch := range []map[string]any{
		{"locale": "fr", "time_zone": "Europe/Paris", "types": []string{"share-invite"}},
		{"enabled": false},
		{"enabled": true},
	} {
		if res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, patch, nil); res.status != http.StatusOK {
			t.Fatalf("patch %v: %d %s", patch, res.status, res.body)
		}
	}
	h.setMethods(t, s, true, false)
	h.setMethods(t, s, true, true)
	wantHTML(t, h.unsubPage(t, token), http.StatusOK)
	wantHTML(t, h.unsubPost(t, token), http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled || !got.Methods[1].Enabled {
		t.Errorf("methods %+v", got.Methods)
	}
}

// A link works for LinkLifetime (at least the 30 days of CAN-SPAM), then
// shows the page saying it is no longer valid and changes nothing.
func TestUnsubscribeLinkExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	token := h.token(t, s.ID, s.Methods[0].ID)
	if subscriptions.LinkLifetime < 30*24*time.Hour {
		t.Fatalf("LinkLifetime %s, want at least 30 days", subscriptions.LinkLifetime)
	}
	h.clock.advance(subscriptions.LinkLifetime - time.Second)
	body := wantHTML(t, h.unsubPage(t, token), http.StatusOK)
	if !strings.Contains(body, "<form") {
		t.Errorf("the page of a link a second before it expires has no form: %s", body)
	}

	h.clock.advance(time.Second)
	wantGone(t, h.unsubPage(t, token))
	wantGone(t, h.unsubPost(t, token))
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, s) {
		t.Fatalf("an expired link changed the subscription: %+v, want %+v", got, s)
	}
	// The link of a message sent now works.
	wantHTML(t, h.unsubPost(t, h.token(t, s.ID, s.Methods[0].ID)), http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled {
		t.Errorf("a fresh link did not unsubscribe: %+v", got.Methods)
	}
}

// Links made before tokens expired (version 1) work for one lifetime
// after the upgrade, for methods not enabled again since.
func TestUnsubscribeV1Links(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	s := h.twoMethodSub(t, "/p/fred")
	// Method 0 as an older notifyd stored it: no epoch.
	stored, err := h.db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Methods[0].Epoch == "" || stored.Methods[1].Epoch == "" {
		t.Fatalf("methods created without an epoch: %+v", stored.Methods)
	}
	stored.Methods[0].Epoch = ""
	if err := h.db.UpdateSubscription(ctx, stored, 0); err != nil {
		t.Fatal(err)
	}
	legacy := h.v1Token(s.ID, s.Methods[0].ID)
	// Method 1 was created (enabled) since: no version 1 link of it is
	// from before.
	wantGone(t, h.unsubPage(t, h.v1Token(s.ID, s.Methods[1].ID)))

	h.clock.advance(subscriptions.LinkLifetime - time.Second)
	wantHTML(t, h.unsubPage(t, legacy), http.StatusOK)
	wantHTML(t, h.unsubPost(t, legacy), http.StatusOK)
	if got := h.get(t, s.ID); got.Methods[0].Enabled || !got.Methods[1].Enabled {
		t.Fatalf("methods %+v", got.Methods)
	}
	// Re-enabled: the old link is stale.
	again := h.setMethods(t, s, true, true)
	wantGone(t, h.unsubPost(t, legacy))
	if got := h.get(t, s.ID); !reflect.DeepEqual(got, again) {
		t.Fatalf("a stale version 1 link changed the subscription: %+v, want %+v", got, again)
	}

	// After the transition, version 1 links are expired.
	other := h.twoMethodSub(t, "/p/wilma")
	stored, err = h.db.Subscription(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored.Methods[0].Epoch = ""
	if err := h.db.UpdateSubscription(ctx, stored, 0); err != nil {
		t.Fatal(err)
	}
	h.clock.advance(time.Second)
	wantGone(t, h.unsubPage(t, h.v1Token(other.ID, other.Methods[0].ID)))
	wantGone(t, h.unsubPost(t, h.v1Token(other.ID, other.Methods[0].ID)))
	if got := h.get(t, other.ID); !got.Methods[0].Enabled {
		t.Errorf("an expired version 1 link unsubscribed: %+v", got.Methods)
	}
}
