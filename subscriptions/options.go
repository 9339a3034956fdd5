package subscriptions

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/notifyd/notifyd"
)

type fieldProblem struct{ field, detail string }

// methodOptions checks a method's channel-specific options and fills in
// their defaults: the IM presence policy (online_only, as Oracle's calendar
// agent does) and the webhook signing secret (kept from the current method,
// else generated).
func methodOptions(m MethodInput, current notifyd.DeliveryMethod) (presence, secret string, p *fieldProblem) {
	if m.Presence != "" && m.Channel != notifyd.ChannelIM {
		return "", "", &fieldProblem{"presence", "applies to im methods only"}
	}
	if m.Secret != "" && m.Channel != notifyd.ChannelWebhook {
		return "", "", &fieldProblem{"secret", "applies to webhook methods only"}
	}
	switch m.Channel {
	case notifyd.ChannelIM:
		presence = m.Presence
		switch presence {
		case "":
			presence = notifyd.PresenceOnlineOnly
		case notifyd.PresenceOnlineOnly, notifyd.PresenceStore, notifyd.PresenceFallback:
		default:
			return "", "", &fieldProblem{"presence", "must be online_only, store or fallback"}
		}
	case notifyd.ChannelWebhook:
		secret = m.Secret
		if secret == "" {
			secret = current.Secret
		}
		if secret == "" {
			secret = NewWebhookSecret()
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if !strings.HasPrefix(secret, "whsec_") || err != nil || len(raw) < 24 || len(raw) > 64 {
			return "", "", &fieldProblem{"secret", "must be whsec_ followed by 24 to 64 base64-encoded random bytes (Standard Webhooks), or be left out for notifyd to make one"}
		}
	}
	return presence, secret, nil
}

// NewWebhookSecret makes a Standard Webhooks signing secret: "whsec_" and
// 32 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
