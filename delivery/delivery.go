// Package delivery is the contract between the engine and the delivery
// channels. A channel (email, sms, im, webhook) lives in a subpackage that
// implements Channel and offers a Factory, FromConfig, which cmd/notifyd
// wires explicitly. Adding a channel thus means: its package here, its
// name in notifyd.Channels, its address rules in subscriptions, its
// configuration section in config, its name in openapi.yaml's channel
// enum, and one line in cmd/notifyd's channel list (tests check that
// these agree).
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
)

// Request is one message to deliver: a notification, to one address, in
// the recipient's language and time zone.
type Request struct {
	// DeliveryID is stable across retries of the same delivery (channels
	// use it for idempotency keys and message IDs).
	DeliveryID   string
	Notification *notifyd.Notification
	System       string
	Principal    string
	Address      string
	Locale       string
	TimeZone     *time.Location
	// CalendarName is the display name of the calendar concerned, when
	// the engine could read it.
	CalendarName string
	// UnsubscribeURL switches this delivery method off in one request
	// (RFC 8058); empty when none can be offered.
	UnsubscribeURL string
	// Method is the delivery method (its presence policy, webhook secret).
	Method notifyd.DeliveryMethod
	// PreferencesURL opens the recipient's preference page for this
	// subscription (a signed link); empty when none can be offered.
	PreferencesURL string
	// Digest, when not nil, makes the request one message gathering
	// several notifications that the subscriber's preferences held (a
	// digest, or what quiet hours or a throttle folded into one).
	// Notification is then nil and CalendarName empty: each item carries
	// its own.
	Digest *Digest
}

// Digest is several notifications delivered as one message.
type Digest struct {
	// Items are the notifications gathered, oldest first.
	Items []DigestItem
	// Since and Until bound when the items were held (Until is when the
	// digest was due).
	Since, Until time.Time
}

// DigestItem is one notification of a digest.
type DigestItem struct {
	// DeliveryID is the delivery this item stands for.
	DeliveryID   string
	Notification *notifyd.Notification
	// CalendarName is the display name of the calendar concerned, when
	// the engine could read it.
	CalendarName string
}

// Result is what a channel says about a message it handled.
type Result struct {
	// ProviderID identifies the message at the provider (a Twilio message
	// SID), to match the provider's status callbacks.
	ProviderID string
	// Skipped, when not empty, says why the message was deliberately not
	// sent (an IM recipient offline under the online_only policy); the
	// delivery is recorded as skipped, not failed.
	Skipped string
}

// Channel delivers requests to addresses of one kind.
type Channel interface {
	// Send delivers req. A nil error means the provider accepted it (or,
	// with Result.Skipped, that it was deliberately not sent). Any other
	// error is permanent unless wrapped by Temporary; ErrFallback and
	// ErrRecipientGone ask the engine for more.
	Send(ctx context.Context, req *Request) (Result, error)
}

// ErrFallback, wrapped in a channel's error, asks the engine to deliver
// the notification through the subscription's next delivery method (an IM
// recipient offline under the fallback policy). The delivery is recorded
// as skipped, with the reason.
var ErrFallback = errors.New("recipient unreachable on this channel; delivering through the next method")

// ErrRecipientGone, wrapped in a channel's (permanent) error, says the
// recipient cannot be reached on this channel again (an SMS recipient who
// replied STOP, Twilio error 21610): the engine disables the delivery
// method so that nothing more is sent to it.
var ErrRecipientGone = errors.New("recipient unsubscribed or unreachable for good")

// TemporaryError is a failure that a later attempt may cure.
type TemporaryError struct {
	Err error
	// RetryAfter is how long the provider asked to wait (0: no advice).
	RetryAfter time.Duration
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary marks err as worth retrying, after retryAfter if the provider
// said so.
func Temporary(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TemporaryError{Err: err, RetryAfter: retryAfter}
}

// DeferredError is a send a channel chose not to make yet, to be made at
// a later turn: the recipient's domain is being sent to at its pace
// (delivery/email's per-domain pacing). It is neither a failure nor an
// attempt: the engine retries it then without counting it or recording
// it in the delivery log.
type DeferredError struct {
	Err error
}

func (e *DeferredError) Error() string { return e.Err.Error() }
func (e *DeferredError) Unwrap() error { return e.Err }

// Deferred marks err as a send put off to its turn, after. It is also
// temporary (IsTemporary reports after), for callers that do not tell a
// deferral from a failure.
func Deferred(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &TemporaryError{Err: &DeferredError{Err: err}, RetryAfter: after}
}

// IsDeferred reports whether err is a send put off to its turn (Deferred),
// and after how long.
func IsDeferred(err error) (bool, time.Duration) {
	var d *DeferredError
	if !errors.As(err, &d) {
		return false, 0
	}
	_, after := IsTemporary(err)
	return true, after
}

// IsTemporary reports whether err is worth retrying, and after how long
// the provider asked to wait.
func IsTemporary(err error) (bool, time.Duration) {
	var t *TemporaryError
	if errors.As(err, &t) {
		return true, t.RetryAfter
	}
	return false, 0
}

// AddressWatcher is implemented by channels that need to know every
// address they may be asked to deliver to before a message comes (the IM
// channel subscribes to each address's presence). The engine gives them
// a source to read the addresses from whenever they want to.
type AddressWatcher interface {
	WatchAddresses(list func(ctx context.Context) ([]string, error))
}

// Factory builds a channel from notifyd's configuration (each channel
// reads its own section). It returns (nil, nil) when the channel is not
// configured (disabled). Each channel package's FromConfig is one.
type Factory func(cfg *config.Config, log *slog.Logger) (Channel, error)
