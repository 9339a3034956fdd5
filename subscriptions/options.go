package subscriptions

import (
	"time"

	"github.com/notifyd/notifyd"
)

type fieldProblem struct{ field, detail string }

// methodOptions checks a method's channel-specific options and writes them
// into dst with their defaults: the IM presence policy (online_only, as
// Oracle's calendar agent does) and the webhook signing secrets (see
// webhookSecrets). current is the method as stored, the zero method when
// it is new. newSecret reports that the write sets the webhook secret.
func methodOptions(dst *notifyd.DeliveryMethod, m MethodInput, current notifyd.DeliveryMethod, now time.Time) (newSecret bool, p *fieldProblem) {
	if m.Presence != "" && m.Channel != notifyd.ChannelIM {
		return false, &fieldProblem{"presence", "applies to im methods only"}
	}
	if m.Secret != "" && m.Channel != notifyd.ChannelWebhook {
		return false, &fieldProblem{"secret", "applies to webhook methods only"}
	}
	if m.RotateSecret && m.Channel != notifyd.ChannelWebhook {
		return false, &fieldProblem{"rotate_secret", "applies to webhook methods only"}
	}
	switch m.Channel {
	case notifyd.ChannelIM:
		dst.Presence = m.Presence
		switch dst.Presence {
		case "":
			dst.Presence = notifyd.PresenceOnlineOnly
		case notifyd.PresenceOnlineOnly, notifyd.PresenceStore, notifyd.PresenceFallback:
		default:
			return false, &fieldProblem{"presence", "must be online_only, store or fallback"}
		}
	case notifyd.ChannelWebhook:
		return webhookSecrets(dst, m, current, now)
	}
	return false, nil
}
