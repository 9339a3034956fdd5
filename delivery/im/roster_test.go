package im

import (
	"log/slog"
	"slices"
	"testing"
	"time"
)

// The roster is plain data: these tests drive it with explicit times,
// without goroutines or connections.

const (
	testSettle       = 3 * time.Second
	testApprovalWait = 5 * time.Second
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newTestRoster() *roster {
	return newRoster("notifyd@example.org", testSettle, slog.New(slog.DiscardHandler))
}

// reachIs checks what r.reach says of addr at now.
func reachIs(t *testing.T, r *roster, addr string, now time.Time, want reachability, wantUntil time.Time, wantOut ...string) {
	t.Helper()
	got, detail, until, out := r.reach(bareKey(addr), addr, testApprovalWait, now)
	if got != want || !until.Equal(wantUntil) || !slices.Equal(out, wantOut) {
		t.Errorf("reach(%s) at +%s = %s (%s) until +%s, writes %q; want %s until +%s, writes %q",
			addr, now.Sub(t0), got, detail, until.Sub(t0), out, want, wantUntil.Sub(t0), wantOut)
	}
}

func subscribe(to string) string  { return presenceStanza(to, "subscribe") }
func subscribed(to string) string { return presenceStanza(to, "subscribed") }

func TestRosterLogin(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	// Before the roster: nothing is decided; the answers to the server's
	// probes come first.
	reachIs(t, r, wilmaJID, t0, invisible, t0.Add(testSettle))
	r.presence("fred@example.org/phone", "", t0)
	r.presence("barney@example.org", "unavailable", t0)
	out := r.loggedIn([]rosterItem{
		{JID: "fred@example.org", Subscription: "both"},
		{JID: "barney@example.org", Subscription: "to"},
		{JID: wilmaJID, Subscription: "both"},
		{JID: "betty@example.org", Subscription: "none", Ask: true},
	}, true, t0.Add(time.Second))
	if len(out) != 0 {
		t.Errorf("login wrote %q with nothing watched", out)
	}
	now := t0.Add(time.Second)
	reachIs(t, r, "fred@example.org", now, online, time.Time{})
	reachIs(t, r, "barney@example.org", now, offline, time.Time{})    // heard before the roster
	reachIs(t, r, wilmaJID, now, offline, t0.Add(testSettle))         // not heard yet
	reachIs(t, r, "betty@example.org", now, invisible, time.Time{})   // asked by an earlier process
	reachIs(t, r, wilmaJID, t0.Add(testSettle), offline, time.Time{}) // settled

	// The session ends: presence is unknown; the next one waits again.
	r.end()
	r.begin(t0.Add(time.Hour))
	out = r.loggedIn([]rosterItem{{JID: "fred@example.org", Subscription: "both"}}, true, t0.Add(time.Hour))
	reachIs(t, r, "fred@example.org", t0.Add(time.Hour), offline, t0.Add(time.Hour+testSettle))
	// The others are gone from the roster: being watched (sent to),
	// they are asked again.
	slices.Sort(out)
	want := []string{subscribe("barney@example.org"), subscribe("betty@example.org"), subscribe(wilmaJID),
		subscribed("barney@example.org"), subscribed("betty@example.org"), subscribed(wilmaJID)}
	slices.Sort(want)
	if !slices.Equal(out, want) {
		t.Errorf("second login wrote %q, want %q", out, want)
	}
}

// A roster the server refuses or garbles still ends the wait for it,
// and keeps what was known.
func TestRosterUnusableAtLogin(t *testing.T) {
	r := newTestRoster()
	r.contact(bareKey(wilmaJID), wilmaJID).sub = subBoth
	r.begin(t0)
	r.loggedIn(nil, false, t0)
	if !r.loaded || r.contacts[wilmaJID].sub != subBoth {
		t.Errorf("loaded %v, wilma %s", r.loaded, r.contacts[wilmaJID].sub)
	}
}

func TestRosterAskOnDemand(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn(nil, true, t0)
	// Unknown: asked (and pre-approved) once, waited for approvalWait.
	reachIs(t, r, wilmaJID, t0, invisible, t0.Add(testApprovalWait), subscribe(wilmaJID), subscribed(wilmaJID))
	reachIs(t, r, wilmaJID, t0.Add(time.Second), invisible, t0.Add(testApprovalWait))
	reachIs(t, r, wilmaJID, t0.Add(testApprovalWait), invisible, time.Time{})
	// She approves: visible, her presence waited for.
	approvedAt := t0.Add(time.Minute)
	if out, ok := r.presence(wilmaJID, "subscribed", approvedAt); !ok || len(out) != 0 {
		t.Errorf("approval: %q %v", out, ok)
	}
	reachIs(t, r, wilmaJID, approvedAt, offline, approvedAt.Add(testSettle))
	r.presence(wilmaJID+"/phone", "available", approvedAt)
	reachIs(t, r, wilmaJID, approvedAt, online, time.Time{})
	r.presence(wilmaJID+"/laptop", "", approvedAt)
	r.presence(wilmaJID+"/phone", "unavailable", approvedAt)
	reachIs(t, r, wilmaJID, approvedAt, online, time.Time{})
	r.presence(wilmaJID, "unavailable", approvedAt) // every resource
	reachIs(t, r, wilmaJID, approvedAt, offline, time.Time{})
	if !r.isWatchedForTest(wilmaJID) {
		t.Error("an address sent to is not watched")
	}
}

func (r *roster) isWatchedForTest(addr string) bool {
	_, ok := r.watched[bareKey(addr)]
	return ok
}

// Prosody acknowledges a subscription request with an unavailable
// presence from the contact: it tells nothing of their presence.
func TestRosterInvisiblePresenceIsNotHeard(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn(nil, true, t0)
	reachIs(t, r, wilmaJID, t0, invisible, t0.Add(testApprovalWait), subscribe(wilmaJID), subscribed(wilmaJID))
	r.presence(wilmaJID, "unavailable", t0)
	r.pushed([]rosterItem{{JID: wilmaJID, Subscription: "to"}}, t0.Add(time.Second))
	reachIs(t, r, wilmaJID, t0.Add(time.Second), offline, t0.Add(time.Second+testSettle))
}

func TestRosterRefusal(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn(nil, true, t0)
	r.watch(map[string]string{wilmaJID: wilmaJID})
	if out := r.reconcile(t0); !slices.Equal(out, []string{subscribe(wilmaJID), subscribed(wilmaJID)}) {
		t.Fatalf("reconcile wrote %q", out)
	}
	r.presence(wilmaJID, "unsubscribed", t0.Add(time.Second))
	now := t0.Add(time.Hour)
	got, detail, until, out := r.reach(wilmaJID, wilmaJID, testApprovalWait, now)
	if got != invisible || detail != wilmaJID+" refused notifyd's presence subscription request" || !until.IsZero() || len(out) != 0 {
		t.Errorf("after a refusal: %s %q %v %q", got, detail, until, out)
	}
	if out := r.reconcile(now); len(out) != 0 {
		t.Errorf("asked again %s after a refusal: %q", now.Sub(t0), out)
	}
	// A day later: asked again.
	later := t0.Add(time.Second + reaskAfter)
	if out := r.reconcile(later); !slices.Equal(out, []string{subscribe(wilmaJID), subscribed(wilmaJID)}) {
		t.Errorf("a day after the refusal: %q", out)
	}
}

// A request whose pending state the server forgot (the roster says none)
// is made again by a watch round, ten minutes after the last.
func TestRosterReaskPending(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn(nil, true, t0)
	r.watch(map[string]string{wilmaJID: wilmaJID})
	r.reconcile(t0)
	r.pushed([]rosterItem{{JID: wilmaJID, Subscription: "none"}}, t0)
	if out := r.reconcile(t0.Add(reaskPending - time.Second)); len(out) != 0 {
		t.Errorf("asked again within %s: %q", reaskPending, out)
	}
	if out := r.reconcile(t0.Add(reaskPending)); len(out) != 2 {
		t.Errorf("not asked again after %s: %q", reaskPending, out)
	}
}

// A contact that asks for notifyd's presence is approved; a watched one
// is asked in return, unless asked already or visible.
func TestRosterSubscribeRequests(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn([]rosterItem{{JID: "fred@example.org", Subscription: "to"}}, true, t0)
	r.watch(map[string]string{wilmaJID: wilmaJID, "fred@example.org": "fred@example.org"})
	for _, tc := range []struct {
		from string
		want []string
	}{
		{"barney@example.org/x", []string{subscribed("barney@example.org")}},
		{"fred@example.org/x", []string{subscribed("fred@example.org")}},
		{wilmaJID + "/x", []string{subscribed(wilmaJID), subscribe(wilmaJID)}},
		{wilmaJID + "/x", []string{subscribed(wilmaJID)}},
	} {
		if out, ok := r.presence(tc.from, "subscribe", t0); !ok || !slices.Equal(out, tc.want) {
			t.Errorf("%s asks: %q, want %q", tc.from, out, tc.want)
		}
	}
}

func TestRosterIgnoresSelfAndServers(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	for _, from := range []string{"notifyd@example.org/other", "Notifyd@Example.org", "example.org", ""} {
		if _, ok := r.presence(from, "", t0); ok || len(r.contacts) != 0 {
			t.Errorf("presence from %q taken as a contact's", from)
		}
	}
	if _, ok := r.presence(wilmaJID, "probe", t0); ok {
		t.Error("a probe told something")
	}
}

// A watch round forgets strangers: not watched, not on the roster, not
// online, not asked.
func TestRosterWatchForgetsStrangers(t *testing.T) {
	r := newTestRoster()
	r.begin(t0)
	r.loggedIn([]rosterItem{{JID: "fred@example.org", Subscription: "from"}, {JID: "betty@example.org", Subscription: "none", Ask: true}}, true, t0)
	r.presence("stranger@example.org", "unavailable", t0)
	r.presence("online@example.org/x", "", t0)
	r.contact(wilmaJID, wilmaJID)
	r.watch(map[string]string{wilmaJID: wilmaJID})
	var kept []string
	for key := range r.contacts {
		kept = append(kept, key)
	}
	slices.Sort(kept)
	if want := []string{"betty@example.org", "fred@example.org", "online@example.org", wilmaJID}; !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
}
