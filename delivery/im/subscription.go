package im

// subState is the presence subscription between notifyd's account and
// one contact, as the account's roster records it (RFC 6121 §3): who sees
// whose presence, and whether a request of notifyd's is pending. A
// contact not on the roster is subNone.
type subState uint8

const (
	// subNone: neither sees the other's presence.
	subNone subState = iota
	// subNoneAsked: none, and notifyd's request is pending ("None +
	// Pending Out").
	subNoneAsked
	// subFrom: the contact sees notifyd's presence; notifyd does not see
	// theirs.
	subFrom
	// subFromAsked: from, and notifyd's request is pending.
	subFromAsked
	// subTo: notifyd sees the contact's presence.
	subTo
	// subBoth: each sees the other's.
	subBoth
)

// subStates lists every state, for tests.
var subStates = []subState{subNone, subNoneAsked, subFrom, subFromAsked, subTo, subBoth}

// String names s as the roster does (with "+asked" for a pending
// request).
func (s subState) String() string {
	switch s {
	case subNone:
		return "none"
	case subNoneAsked:
		return "none+asked"
	case subFrom:
		return "from"
	case subFromAsked:
		return "from+asked"
	case subTo:
		return "to"
	case subBoth:
		return "both"
	}
	return "invalid"
}

// visible reports whether the contact's presence reaches notifyd.
func (s subState) visible() bool { return s == subTo || s == subBoth }

// asked reports whether notifyd's request is pending.
func (s subState) asked() bool { return s == subNoneAsked || s == subFromAsked }

// approvedTheirs reports whether the contact sees notifyd's presence.
func (s subState) approvedTheirs() bool { return s == subFrom || s == subFromAsked || s == subBoth }

// parseSub reads a roster item's subscription and ask attributes. An
// unknown subscription counts as none; ask means nothing once notifyd
// sees the presence.
func parseSub(subscription string, ask bool) subState {
	switch subscription {
	case "to":
		return subTo
	case "both":
		return subBoth
	case "from":
		if ask {
			return subFromAsked
		}
		return subFrom
	default:
		if ask {
			return subNoneAsked
		}
		return subNone
	}
}

// eventKind is what happened to a subscription.
type eventKind uint8

const (
	// evAsk: notifyd wants to see the contact's presence.
	evAsk eventKind = iota
	// evAskedUs: the contact asked for notifyd's presence (presence
	// "subscribe"); evAskedUsWatched: so did a contact notifyd watches.
	evAskedUs
	evAskedUsWatched
	// evApproved: the contact approved notifyd's request (presence
	// "subscribed").
	evApproved
	// evRefused: the contact refused notifyd's request or revoked the
	// subscription (presence "unsubscribed").
	evRefused
	// evPushed: a roster push gives the item's state.
	evPushed
	// evListed: the roster sent at login gives the item's state.
	evListed
	// evRemoved: a roster push removes the contact.
	evRemoved
	// evMissing: the contact is not in the roster sent at login.
	evMissing
)

// String names k for test failures.
func (k eventKind) String() string {
	names := [...]string{evAsk: "ask", evAskedUs: "asked-us", evAskedUsWatched: "asked-us-watched",
		evApproved: "approved", evRefused: "refused", evPushed: "pushed", evListed: "listed",
		evRemoved: "removed", evMissing: "missing"}
	if int(k) < len(names) {
		return names[k]
	}
	return "invalid"
}

// event is one input of the subscription state machine.
type event struct {
	kind eventKind
	item subState // the roster's state, for evPushed and evListed
}

// pushed and listed make the events of a roster item.
func pushed(item subState) event { return event{kind: evPushed, item: item} }
func listed(item subState) event { return event{kind: evListed, item: item} }

// action is something a transition asks the channel to do, in order.
type action uint8

const (
	// doRequest: write presence "subscribe" to the contact and remember
	// when.
	doRequest action = iota + 1
	// doApprove: write presence "subscribed" (an approval, or a
	// pre-approval of the request the contact will make).
	doApprove
	// doAwaitPresence: the presence just became visible: it is unheard
	// of, and worth waiting for a while.
	doAwaitPresence
	// doAwaitLogin: the presence is visible at login: unless heard of
	// already, it is worth waiting for until the session has settled.
	doAwaitLogin
	// doForgetPresence: the presence is no longer known.
	doForgetPresence
	// doRememberRefusal: do not ask again for a while.
	doRememberRefusal
)

// String names a for test failures.
func (a action) String() string {
	switch a {
	case doRequest:
		return "request"
	case doApprove:
		return "approve"
	case doAwaitPresence:
		return "await-presence"
	case doAwaitLogin:
		return "await-login"
	case doForgetPresence:
		return "forget-presence"
	case doRememberRefusal:
		return "remember-refusal"
	}
	return "invalid"
}

// next is the subscription state machine: the state after e, and what
// the channel must do. It is pure; the policy of when to ask (not twice
// in ten minutes, not within a day of a refusal) is the roster's.
func next(s subState, e event) (subState, []action) {
	switch e.kind {
	case evAsk:
		switch s {
		case subNone: // pre-approve theirs, so that it becomes mutual
			return subNoneAsked, []action{doRequest, doApprove}
		case subFrom:
			return subFromAsked, []action{doRequest}
		}
		return s, nil // asked already, or visible
	case evAskedUs:
		return s, []action{doApprove}
	case evAskedUsWatched: // approve, and ask for theirs in return
		switch s {
		case subNone:
			return subNoneAsked, []action{doApprove, doRequest}
		case subFrom:
			return subFromAsked, []action{doApprove, doRequest}
		}
		return s, []action{doApprove}
	case evApproved:
		if s.visible() {
			return s, nil
		}
		if s.approvedTheirs() {
			return subBoth, []action{doAwaitPresence}
		}
		return subTo, []action{doAwaitPresence}
	case evRefused:
		if s.approvedTheirs() {
			return subFrom, []action{doForgetPresence, doRememberRefusal}
		}
		return subNone, []action{doForgetPresence, doRememberRefusal}
	case evPushed:
		if !s.visible() && e.item.visible() {
			return e.item, []action{doAwaitPresence}
		}
		return e.item, nil
	case evListed:
		if e.item.visible() {
			return e.item, []action{doAwaitLogin}
		}
		return e.item, nil
	case evRemoved:
		return subNone, []action{doForgetPresence}
	case evMissing:
		return subNone, nil
	}
	return s, nil
}
