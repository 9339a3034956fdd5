package subscriptions

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/google/uuid"
)

// DefaultPreferenceLinkLifetime is how long a preference link works after
// notifyd made it, unless configured otherwise (preference_page.link_ttl).
const DefaultPreferenceLinkLifetime = 30 * 24 * time.Hour

// Why a preference link does not open the preference page.
var (
	// ErrPreferenceLinkInvalid: not a link notifyd signed (mangled,
	// truncated, forged or signed with another key).
	ErrPreferenceLinkInvalid = errors.New("not a preference link notifyd signed")
	// ErrPreferenceLinkExpired: genuine but past its expiry.
	ErrPreferenceLinkExpired = errors.New("the preference link expired")
	// ErrPreferenceLinkRevoked: genuine, but made before the links of its
	// subscription were revoked (PreferenceLink.RevokedBy says so).
	ErrPreferenceLinkRevoked = errors.New("the preference link was revoked")
)

// PreferenceLinker signs and checks the tokens of preference links: a
// link opens the preference page of one subscription, and grants nothing
// else. A token is short enough for a text message (60 characters): a
// version byte, the subscription's UUID, when it was made (unix
// microseconds, 64 bits) and when it expires (unix seconds, 32 bits:
// until 2106), then 128 bits of
// HMAC-SHA256 of all that under notifyd's preference link key (not the
// unsubscribe key: each link kind has its own), all in base64url.
//
// A link is revoked without a row per link: the subscription keeps a
// time before which its links are void (see PreferenceLink.RevokedBy).
type PreferenceLinker struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// NewPreferenceLinker returns a PreferenceLinker signing with key (at
// least 32 random bytes) links that work for lifetime (0: the default).
// now may be nil (time.Now).
func NewPreferenceLinker(key []byte, lifetime time.Duration, now func() time.Time) *PreferenceLinker {
	if lifetime <= 0 {
		lifetime = DefaultPreferenceLinkLifetime
	}
	if now == nil {
		now = time.Now
	}
	return &PreferenceLinker{key: key, lifetime: lifetime, now: now}
}

// Lifetime is how long the links made now work.
func (p *PreferenceLinker) Lifetime() time.Duration { return p.lifetime }

// PreferenceLink is what a genuine token names.
type PreferenceLink struct {
	SubscriptionID string
	// Issued is when the link was made; Expires when it stops working.
	Issued, Expires time.Time
}

// RevokedBy reports whether the link was made at or before revokedAt,
// the time its subscription's links were last revoked (zero: never).
func (l PreferenceLink) RevokedBy(revokedAt time.Time) bool {
	return !revokedAt.IsZero() && !l.Issued.After(revokedAt)
}

const (
	prefLinkVersion = 1
	prefLinkContext = "notifyd preferences v1\x00"
	prefLinkPayload = 1 + 16 + 8 + 4
	prefLinkSig     = 16
)

// Token returns a token for the preference page of subscriptionID, valid
// from now for the linker's lifetime, with when it expires; "" when the ID
// is not a UUID (every subscription notifyd makes has one).
func (p *PreferenceLinker) Token(subscriptionID string) (string, time.Time) {
	id, err := uuid.Parse(subscriptionID)
	if err != nil || id.String() != subscriptionID {
		return "", time.Time{}
	}
	now := p.now()
	expires := now.Add(p.lifetime).Truncate(time.Second)
	b := make([]byte, prefLinkPayload, prefLinkPayload+prefLinkSig)
	b[0] = prefLinkVersion
	copy(b[1:17], id[:])
	binary.BigEndian.PutUint64(b[17:25], uint64(now.UnixMicro()))
	binary.BigEndian.PutUint32(b[25:29], uint32(expires.Unix()))
	b = append(b, p.sign(b)...)
	return base64.RawURLEncoding.EncodeToString(b), expires
}

// Check returns what a token names: ErrPreferenceLinkInvalid (and an
// empty link) if notifyd did not sign it, ErrPreferenceLinkExpired if it
// is genuine but expired. Revocation is for the caller to check, against
// the subscription's revocation time (PreferenceLink.RevokedBy).
func (p *PreferenceLinker) Check(token string) (PreferenceLink, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != prefLinkPayload+prefLinkSig || b[0] != prefLinkVersion {
		return PreferenceLink{}, ErrPreferenceLinkInvalid
	}
	if !hmac.Equal(b[prefLinkPayload:], p.sign(b[:prefLinkPayload])) {
		return PreferenceLink{}, ErrPreferenceLinkInvalid
	}
	var id uuid.UUID
	copy(id[:], b[1:17])
	l := PreferenceLink{
		SubscriptionID: id.String(),
		Issued:         time.UnixMicro(int64(binary.BigEndian.Uint64(b[17:25]))).UTC(),
		Expires:        time.Unix(int64(binary.BigEndian.Uint32(b[25:29])), 0).UTC(),
	}
	if !p.now().Before(l.Expires) {
		return l, ErrPreferenceLinkExpired
	}
	return l, nil
}

// FormToken returns the anti-forgery token of the preference page's
// forms opened with link token: an HMAC of the link under the linker's
// key, so a form posted from elsewhere (which cannot read the page) lacks
// it, and it works as long as the link does.
func (p *PreferenceLinker) FormToken(token string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("notifyd preference form v1\x00" + token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:prefLinkSig])
}

// CheckFormToken reports whether form is the anti-forgery token of the
// preference page opened with link token.
func (p *PreferenceLinker) CheckFormToken(token, form string) bool {
	got, err := base64.RawURLEncoding.Strict().DecodeString(form)
	if err != nil {
		return false
	}
	want, _ := base64.RawURLEncoding.DecodeString(p.FormToken(token))
	return hmac.Equal(got, want)
}

func (p *PreferenceLinker) sign(payload []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(prefLinkContext))
	m.Write(payload)
	return m.Sum(nil)[:prefLinkSig]
}
