package subscriptions

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// LinkLifetime is how long an unsubscribe link works after notifyd made
// it (when it sent the message carrying it): 60 days. RFC 8058 sets no
// lifetime; the US CAN-SPAM Act (15 U.S.C. 7704(a)(3)) wants an opt-out
// to keep working for at least 30 days after a message is sent, and
// twice that leaves room for mail read late.
const LinkLifetime = 60 * 24 * time.Hour

// Why a token does not unsubscribe.
var (
	// ErrLinkInvalid: the token is not one notifyd signed (mangled,
	// truncated, forged or signed with another key).
	ErrLinkInvalid = errors.New("not an unsubscribe link notifyd signed")
	// ErrLinkExpired: the token is genuine but older than LinkLifetime
	// (or a version 1 token past the end of their transition).
	ErrLinkExpired = errors.New("the unsubscribe link expired")
	// ErrLinkStale: the token is genuine but its delivery method was
	// enabled again since the token was made; only a newer message's link
	// switches it off.
	ErrLinkStale = errors.New("the unsubscribe link predates the delivery method's re-enabling")
)

// Unsubscriber signs and checks the tokens of one-click unsubscribe links
// (RFC 8058). A token names one delivery method of one subscription in one
// of its enabled periods (notifyd.DeliveryMethod.Epoch) and when it
// expires, and carries an HMAC-SHA256 of all that, so it cannot be forged,
// pointed at another method, extended, or used against the method once
// it was enabled again.
//
// Tokens of version 1 (notifyd before expiry and epochs: the method alone,
// valid for ever) are honoured until the time given with
// AcceptV1LinksUntil, and only for methods with no epoch (never enabled
// again since notifyd started making version 2 tokens); without that
// option they are expired.
type Unsubscriber struct {
	key     []byte
	now     func() time.Time
	v1Until time.Time
}

// UnsubscriberOption configures an Unsubscriber.
type UnsubscriberOption func(*Unsubscriber)

// WithClock makes the Unsubscriber read the time from now (tests).
func WithClock(now func() time.Time) UnsubscriberOption {
	return func(u *Unsubscriber) { u.now = now }
}

// AcceptV1LinksUntil honours version 1 tokens until t (see Unsubscriber).
func AcceptV1LinksUntil(t time.Time) UnsubscriberOption {
	return func(u *Unsubscriber) { u.v1Until = t }
}

// NewUnsubscriber returns an Unsubscriber signing with key (at least 32
// random bytes; notifyd generates and keeps one in its database).
func NewUnsubscriber(key []byte, opts ...UnsubscriberOption) *Unsubscriber {
	u := &Unsubscriber{key: key, now: time.Now}
	for _, o := range opts {
		o(u)
	}
	return u
}

// Link is what a genuine token names.
type Link struct {
	SubscriptionID, MethodID string
	// Expires is when the link stops working.
	Expires time.Time
	epoch   string
	v1      bool
}

// Current reports whether m, the link's delivery method as stored now, is
// still in the enabled period the link was made in: false once the method
// was enabled again since (ErrLinkStale).
func (l Link) Current(m notifyd.DeliveryMethod) bool {
	if l.v1 {
		return m.Epoch == ""
	}
	return m.Epoch == l.epoch
}

// The signing contexts of the token versions.
const (
	contextV1 = "notifyd unsubscribe v1\x00"
	contextV2 = "notifyd unsubscribe v2\x00"
)

// Token returns the token that switches off method m of subscriptionID in
// its current enabled period, for LinkLifetime from now.
func (u *Unsubscriber) Token(subscriptionID string, m notifyd.DeliveryMethod) string {
	expires := u.now().Add(LinkLifetime).Unix()
	payload := base64.RawURLEncoding.EncodeToString([]byte(
		strings.Join([]string{"2", subscriptionID, m.ID, m.Epoch, strconv.FormatInt(expires, 10)}, "/")))
	return payload + "." + base64.RawURLEncoding.EncodeToString(u.sign(contextV2, payload))
}

// Check returns what a token names: with ErrLinkInvalid if notifyd did not
// sign it (and an empty Link), with ErrLinkExpired if it is genuine but
// expired. Whether it is stale is for Link.Current to say, against the
// method as stored.
func (u *Unsubscriber) Check(token string) (Link, error) {
	payload, sig, found := strings.Cut(token, ".")
	if !found {
		return Link{}, ErrLinkInvalid
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return Link{}, ErrLinkInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return Link{}, ErrLinkInvalid
	}
	var l Link
	switch {
	case hmac.Equal(got, u.sign(contextV2, payload)):
		f := strings.Split(string(raw), "/")
		if len(f) != 5 || f[0] != "2" || f[1] == "" || f[2] == "" {
			return Link{}, ErrLinkInvalid
		}
		expires, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			return Link{}, ErrLinkInvalid
		}
		l = Link{SubscriptionID: f[1], MethodID: f[2], epoch: f[3], Expires: time.Unix(expires, 0)}
	case hmac.Equal(got, u.sign(contextV1, payload)):
		sub, method, found := strings.Cut(string(raw), "/")
		if !found || sub == "" || method == "" {
			return Link{}, ErrLinkInvalid
		}
		l = Link{SubscriptionID: sub, MethodID: method, Expires: u.v1Until, v1: true}
	default:
		return Link{}, ErrLinkInvalid
	}
	if !u.now().Before(l.Expires) {
		return l, ErrLinkExpired
	}
	return l, nil
}

func (u *Unsubscriber) sign(context, payload string) []byte {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte(context + payload))
	return m.Sum(nil)[:16]
}
