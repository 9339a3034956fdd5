package im

import (
	"fmt"
	"slices"
	"testing"
)

// TestSubscriptionTransitions checks every transition of the
// subscription state machine but those of roster items (below).
func TestSubscriptionTransitions(t *testing.T) {
	none, noneA, from, fromA, to, both := subNone, subNoneAsked, subFrom, subFromAsked, subTo, subBoth
	ask, askedUs, askedUsW := event{kind: evAsk}, event{kind: evAskedUs}, event{kind: evAskedUsWatched}
	approved, refused := event{kind: evApproved}, event{kind: evRefused}
	removed, missing := event{kind: evRemoved}, event{kind: evMissing}
	req, appr, await := doRequest, doApprove, doAwaitPresence
	forget, remember := doForgetPresence, doRememberRefusal
	for _, tc := range []struct {
		from subState
		e    event
		to   subState
		acts []action
	}{
		// notifyd asks: request (and pre-approve theirs unless done).
		{none, ask, noneA, []action{req, appr}},
		{noneA, ask, noneA, nil},
		{from, ask, fromA, []action{req}},
		{fromA, ask, fromA, nil},
		{to, ask, to, nil},
		{both, ask, both, nil},
		// Someone asks for notifyd's presence: approved.
		{none, askedUs, none, []action{appr}},
		{noneA, askedUs, noneA, []action{appr}},
		{from, askedUs, from, []action{appr}},
		{fromA, askedUs, fromA, []action{appr}},
		{to, askedUs, to, []action{appr}},
		{both, askedUs, both, []action{appr}},
		// A watched address asks: approved, and asked in return.
		{none, askedUsW, noneA, []action{appr, req}},
		{noneA, askedUsW, noneA, []action{appr}},
		{from, askedUsW, fromA, []action{appr, req}},
		{fromA, askedUsW, fromA, []action{appr}},
		{to, askedUsW, to, []action{appr}},
		{both, askedUsW, both, []action{appr}},
		// The contact approves: their presence becomes visible.
		{none, approved, to, []action{await}},
		{noneA, approved, to, []action{await}},
		{from, approved, both, []action{await}},
		{fromA, approved, both, []action{await}},
		{to, approved, to, nil},
		{both, approved, both, nil},
		// The contact refuses or revokes: their presence is gone.
		{none, refused, none, []action{forget, remember}},
		{noneA, refused, none, []action{forget, remember}},
		{from, refused, from, []action{forget, remember}},
		{fromA, refused, from, []action{forget, remember}},
		{to, refused, none, []action{forget, remember}},
		{both, refused, from, []action{forget, remember}},
		// Removed from the roster by a push.
		{none, removed, none, []action{forget}},
		{noneA, removed, none, []action{forget}},
		{from, removed, none, []action{forget}},
		{fromA, removed, none, []action{forget}},
		{to, removed, none, []action{forget}},
		{both, removed, none, []action{forget}},
		// Not in the roster at login.
		{none, missing, none, nil},
		{noneA, missing, none, nil},
		{from, missing, none, nil},
		{fromA, missing, none, nil},
		{to, missing, none, nil},
		{both, missing, none, nil},
	} {
		got, acts := next(tc.from, tc.e)
		if got != tc.to || !slices.Equal(acts, tc.acts) {
			t.Errorf("%s --%s--> %s %v, want %s %v", tc.from, tc.e.kind, got, acts, tc.to, tc.acts)
		}
	}
}

// TestSubscriptionRosterItems checks the transitions of roster items:
// the roster is the truth, whatever was known before; a push that makes
// the presence visible waits for it, and so does a login roster that
// shows it visible (unless heard of already, which the roster decides).
func TestSubscriptionRosterItems(t *testing.T) {
	for _, before := range subStates {
		for _, item := range subStates {
			t.Run(fmt.Sprintf("%s/%s", before, item), func(t *testing.T) {
				got, acts := next(before, pushed(item))
				var want []action
				if !before.visible() && item.visible() {
					want = []action{doAwaitPresence}
				}
				if got != item || !slices.Equal(acts, want) {
					t.Errorf("push: %s %v, want %s %v", got, acts, item, want)
				}
				got, acts = next(before, listed(item))
				want = nil
				if item.visible() {
					want = []action{doAwaitLogin}
				}
				if got != item || !slices.Equal(acts, want) {
					t.Errorf("login: %s %v, want %s %v", got, acts, item, want)
				}
			})
		}
	}
}

// TestSubscriptionInvariants checks, over every state and event, what
// the channel relies on: it never asks twice while a request is pending
// nor while it sees the presence, and after asking it is pending.
func TestSubscriptionInvariants(t *testing.T) {
	events := []event{{kind: evAsk}, {kind: evAskedUs}, {kind: evAskedUsWatched}, {kind: evApproved},
		{kind: evRefused}, {kind: evRemoved}, {kind: evMissing}}
	for _, st := range subStates {
		events = append(events, pushed(st), listed(st))
	}
	for _, s := range subStates {
		for _, e := range events {
			got, acts := next(s, e)
			if slices.Contains(acts, doRequest) && (s.asked() || s.visible() || !got.asked()) {
				t.Errorf("%s --%s--> %s %v: a request from a state that needs none, or that leaves none pending", s, e.kind, got, acts)
			}
			if slices.Contains(acts, doApprove) && e.kind == evAsk && s.approvedTheirs() {
				t.Errorf("%s --ask--> %v: pre-approves a subscription approved already", s, acts)
			}
			if got.String() == "invalid" {
				t.Errorf("%s --%s--> invalid state %d", s, e.kind, got)
			}
		}
	}
}

func TestParseSub(t *testing.T) {
	for _, tc := range []struct {
		sub  string
		ask  bool
		want subState
	}{
		{"none", false, subNone}, {"none", true, subNoneAsked}, {"", false, subNone}, {"", true, subNoneAsked},
		{"from", false, subFrom}, {"from", true, subFromAsked},
		{"to", false, subTo}, {"to", true, subTo}, {"both", false, subBoth}, {"both", true, subBoth},
		{"bogus", false, subNone},
	} {
		if got := parseSub(tc.sub, tc.ask); got != tc.want {
			t.Errorf("parseSub(%q, %v) = %s, want %s", tc.sub, tc.ask, got, tc.want)
		}
	}
}
