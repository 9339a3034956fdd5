package im

import (
	"log/slog"
	"strings"
	"time"
)

// reaskPending is how long a request of this process may stay pending
// before a watch round asks again.
const reaskPending = 10 * time.Minute

// roster is what the channel knows of its contacts in the current
// session: their subscription, their presence, and the addresses to
// watch. It is plain data: the caller serialises calls and passes the
// time; the methods return the stanzas to write.
type roster struct {
	settle time.Duration // how long a visible presence is waited for
	self   string        // the account's bare key: not a contact
	log    *slog.Logger

	started  time.Time           // the session's start
	loaded   bool                // the session's roster has arrived
	contacts map[string]*contact // by bareKey
	watched  map[string]string   // bareKey → bare JID as listed
}

// contact is what the channel knows of one address.
type contact struct {
	addr string   // bare JID as first seen
	sub  subState // the roster subscription
	// resources are the contact's available resources.
	resources map[string]bool
	// heard: a presence arrived from the contact in this session while
	// its presence was visible, or before the roster came (the server's
	// answers to its probes at login); an unavailable one tells it is
	// offline. (The unavailable presence a server sends to acknowledge a
	// subscription request tells nothing.)
	heard bool
	// waitUntil is until when the presence of a visible contact not
	// heard of is worth waiting for (after login, or after the contact
	// approved the subscription).
	waitUntil time.Time
	// requestedAt is when this process last asked for the contact's
	// subscription; a Send waits for the approval until approvalWait
	// after it.
	requestedAt time.Time
	declinedAt  time.Time // when the contact last refused or revoked it
}

// refused reports whether the contact refused notifyd's request less
// than reaskAfter before now.
func (ct *contact) refused(now time.Time) bool {
	return !ct.declinedAt.IsZero() && now.Sub(ct.declinedAt) < reaskAfter
}

func newRoster(self string, settle time.Duration, log *slog.Logger) *roster {
	return &roster{settle: settle, self: self, log: log, contacts: map[string]*contact{}, watched: map[string]string{}}
}

// contact returns the contact for key, made if new.
func (r *roster) contact(key, addr string) *contact {
	ct := r.contacts[key]
	if ct == nil {
		ct = &contact{addr: addr}
		r.contacts[key] = ct
	}
	return ct
}

// apply runs the subscription state machine for ct and carries out its
// actions.
func (r *roster) apply(ct *contact, e event, now time.Time) []string {
	var out []string
	var acts []action
	ct.sub, acts = next(ct.sub, e)
	for _, a := range acts {
		switch a {
		case doRequest:
			out = append(out, presenceStanza(ct.addr, "subscribe"))
			ct.requestedAt = now
			r.log.Debug("im: presence subscription requested", "address", ct.addr)
		case doApprove:
			out = append(out, presenceStanza(ct.addr, "subscribed"))
		case doAwaitPresence:
			ct.heard, ct.waitUntil = false, now.Add(r.settle)
		case doAwaitLogin:
			if !ct.heard {
				ct.waitUntil = later(ct.waitUntil, r.started.Add(r.settle))
			}
		case doForgetPresence:
			ct.resources, ct.heard = nil, false
		case doRememberRefusal:
			ct.declinedAt = now
		}
	}
	return out
}

// begin starts a session: nothing is known of anyone's presence, which
// is worth waiting for until the session has settled.
func (r *roster) begin(started time.Time) {
	r.started, r.loaded = started, false
	for _, ct := range r.contacts {
		ct.resources, ct.heard, ct.waitUntil = nil, false, started.Add(r.settle)
	}
}

// end ends the session: presence is unknown until the next one.
func (r *roster) end() {
	r.loaded = false
	for _, ct := range r.contacts {
		ct.resources, ct.heard = nil, false
	}
}

// presence applies a presence stanza from from (a JID) of type typ; ok
// is false when it tells nothing.
func (r *roster) presence(from, typ string, now time.Time) (out []string, ok bool) {
	bare, res, _ := strings.Cut(from, "/")
	key := bareKey(bare)
	if key == "" || key == r.self || !strings.Contains(key, "@") {
		return nil, false
	}
	ct := r.contact(key, bare)
	switch typ {
	case "", "available":
		if ct.resources == nil {
			ct.resources = map[string]bool{}
		}
		ct.resources[res] = true
		ct.heard = ct.heard || ct.sub.visible() || !r.loaded
	case "unavailable":
		if res == "" {
			ct.resources = nil
		} else {
			delete(ct.resources, res)
		}
		ct.heard = ct.heard || ct.sub.visible() || !r.loaded
	case "subscribe":
		e := event{kind: evAskedUs}
		if _, watched := r.watched[key]; watched {
			e.kind = evAskedUsWatched
		}
		out = r.apply(ct, e, now)
		r.log.Debug("im: presence subscription request approved", "from", bare)
	case "subscribed":
		out = r.apply(ct, event{kind: evApproved}, now)
		r.log.Debug("im: presence subscription approved", "by", bare)
	case "unsubscribed":
		out = r.apply(ct, event{kind: evRefused}, now)
		r.log.Info("im: presence subscription refused or revoked; messages to this address count as to an offline recipient", "address", bare)
	default:
		return nil, false
	}
	return out, true
}

// loggedIn applies the roster the server sent at login (usable false:
// it refused, or sent something unreadable): contacts not in it have no
// subscription; the presence heard before it stands, and the rest is
// waited for until the session has settled. It then asks the watched
// addresses (reconcile).
func (r *roster) loggedIn(items []rosterItem, usable bool, now time.Time) []string {
	if usable {
		seen := map[string]bool{}
		for _, it := range items {
			key := bareKey(it.JID)
			if key == "" {
				continue
			}
			seen[key] = true
			ct := r.contact(key, it.JID)
			if it.Subscription == "remove" {
				r.apply(ct, event{kind: evRemoved}, now)
			} else {
				r.apply(ct, listed(parseSub(it.Subscription, it.Ask)), now)
			}
		}
		for key, ct := range r.contacts {
			if !seen[key] {
				r.apply(ct, event{kind: evMissing}, now)
			}
		}
	}
	r.loaded = true
	return r.reconcile(now)
}

// pushed applies a roster push: a contact whose presence just became
// visible is waited for.
func (r *roster) pushed(items []rosterItem, now time.Time) {
	for _, it := range items {
		key := bareKey(it.JID)
		if key == "" {
			continue
		}
		ct := r.contact(key, it.JID)
		if it.Subscription == "remove" {
			r.apply(ct, event{kind: evRemoved}, now)
		} else {
			r.apply(ct, pushed(parseSub(it.Subscription, it.Ask)), now)
		}
	}
}

// watch replaces the addresses to watch, and forgets the contacts that
// are neither watched nor on the roster nor online (strangers' presence,
// so that the map does not grow).
func (r *roster) watch(watched map[string]string) {
	r.watched = watched
	for key, ct := range r.contacts {
		if _, w := watched[key]; !w && len(ct.resources) == 0 && ct.sub == subNone {
			delete(r.contacts, key)
		}
	}
}

// reconcile asks every watched address whose presence is not visible
// (and not asked for already, nor lately, nor refused lately) for a
// presence subscription, and pre-approves theirs, so that the
// subscription becomes mutual. It waits for the session's roster.
func (r *roster) reconcile(now time.Time) []string {
	if !r.loaded {
		return nil
	}
	var out []string
	for key, addr := range r.watched {
		ct := r.contact(key, addr)
		if ct.sub.visible() || ct.sub.asked() || ct.refused(now) ||
			(!ct.requestedAt.IsZero() && now.Sub(ct.requestedAt) < reaskPending) {
			continue
		}
		out = append(out, r.apply(ct, event{kind: evAsk}, now)...)
	}
	return out
}

// reach says what is known of the presence of key (addr as given), and
// until when it is worth waiting for better knowledge (zero: it is
// decided); detail explains an invisible presence. The address is
// watched from now on, and asked for its subscription when notifyd has
// none (out).
func (r *roster) reach(key, addr string, approvalWait time.Duration, now time.Time) (reach reachability, detail string, until time.Time, out []string) {
	if _, ok := r.watched[key]; !ok {
		r.watched[key] = addr
	}
	ct := r.contact(key, addr)
	if len(ct.resources) > 0 {
		return online, "", time.Time{}, nil
	}
	if !r.loaded {
		return invisible, "the roster has not arrived from the server", r.started.Add(r.settle), nil
	}
	if !ct.sub.visible() {
		refused := ct.refused(now)
		if !refused {
			out = r.apply(ct, event{kind: evAsk}, now)
		}
		detail := "the presence subscription request to " + ct.addr + " is not approved"
		if refused {
			detail = ct.addr + " refused notifyd's presence subscription request"
		}
		return invisible, detail, future(ct.requestedAt.Add(approvalWait), now), out
	}
	if ct.heard {
		return offline, "", time.Time{}, nil
	}
	return offline, "", future(ct.waitUntil, now), nil
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// future returns t when it is after now, else the zero time.
func future(t, now time.Time) time.Time {
	if t.After(now) {
		return t
	}
	return time.Time{}
}
