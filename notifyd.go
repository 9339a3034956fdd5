// Package notifyd holds the domain of the notification delivery engine: the
// notification types a calendar server produces, the delivery channels, and
// the subscriptions that connect the two. It has no dependencies; the
// packages that talk to the outside world (api, engine, store, caldavclient,
// delivery) implement and use what is declared here.
package notifyd

import (
	"errors"
	"time"
)

// NotificationType names a kind of notification found in a principal's
// notification collection. Subscriptions filter on these names.
type NotificationType string

// The notification types notifyd understands. Sharing invites and replies
// cover both Apple CalendarServer's (invite-notification, invite-reply) and
// the DAV sharing draft's (share-invite-notification,
// share-reply-notification) forms.
const (
	TypeShareInvite        NotificationType = "share-invite"
	TypeShareReply         NotificationType = "share-reply"
	TypeResourceChange     NotificationType = "resource-change"
	TypeSystemStatus       NotificationType = "system-status"
	TypeQuotaStatus        NotificationType = "quota-status"
	TypeEventRegRegistered NotificationType = "eventreg-registered"
	TypeEventRegCancelled  NotificationType = "eventreg-cancelled"
	TypeSuggest            NotificationType = "suggest"
	TypeSuggestReply       NotificationType = "suggest-reply"
	TypeAwaitingApproval   NotificationType = "awaiting-approval"
	TypeApprovalResponse   NotificationType = "approval-response"
	TypeReminder           NotificationType = "reminder"
	TypeOther              NotificationType = "other"
)

// The calendar update types: an event, a task (todo) or a calendar
// created, modified or deleted, found by syncing the principal's calendars
// or published by the calendar server (Notification.Update says what).
const (
	TypeEventCreated     NotificationType = "event-created"
	TypeEventModified    NotificationType = "event-modified"
	TypeEventDeleted     NotificationType = "event-deleted"
	TypeTodoCreated      NotificationType = "todo-created"
	TypeTodoModified     NotificationType = "todo-modified"
	TypeTodoDeleted      NotificationType = "todo-deleted"
	TypeCalendarCreated  NotificationType = "calendar-created"
	TypeCalendarModified NotificationType = "calendar-modified"
	TypeCalendarDeleted  NotificationType = "calendar-deleted"
)

// The scheduling message types: an iTIP message (RFC 5546) that another
// calendar user sent the principal, found in its scheduling inbox (RFC
// 6638). Notification.Scheduling says what it is.
const (
	// TypeInvitation is an organizer's REQUEST (or ADD): an invitation,
	// or an update of one.
	TypeInvitation NotificationType = "invitation"
	// TypeInvitationReply is an attendee's REPLY: accepted, declined,
	// tentative or delegated.
	TypeInvitationReply NotificationType = "invitation-reply"
	// TypeInvitationCancelled is an organizer's CANCEL.
	TypeInvitationCancelled NotificationType = "invitation-cancelled"
	// TypeRefreshRequest is an attendee's REFRESH: it asks the organizer
	// for the event's latest version.
	TypeRefreshRequest NotificationType = "refresh-request"
	// TypeCounterProposal is an attendee's COUNTER (a change proposed to
	// the organizer) or the organizer's DECLINECOUNTER (the proposal
	// declined).
	TypeCounterProposal NotificationType = "counter-proposal"
)

// SchedulingTypes lists the scheduling message types.
var SchedulingTypes = []NotificationType{
	TypeInvitation, TypeInvitationReply, TypeInvitationCancelled, TypeRefreshRequest, TypeCounterProposal,
}

// NotificationTypes lists every NotificationType, in the order of the API
// specification.
var NotificationTypes = []NotificationType{
	TypeShareInvite, TypeShareReply, TypeResourceChange, TypeSystemStatus,
	TypeQuotaStatus, TypeEventRegRegistered, TypeEventRegCancelled,
	TypeSuggest, TypeSuggestReply, TypeAwaitingApproval, TypeApprovalResponse,
	TypeReminder, TypeEventCreated, TypeEventModified, TypeEventDeleted,
	TypeTodoCreated, TypeTodoModified, TypeTodoDeleted, TypeCalendarCreated,
	TypeCalendarModified, TypeCalendarDeleted, TypeInvitation, TypeInvitationReply,
	TypeInvitationCancelled, TypeRefreshRequest, TypeCounterProposal, TypeOther,
}

// Valid reports whether t is one of NotificationTypes.
func (t NotificationType) Valid() bool {
	for _, k := range NotificationTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Channel names a way of delivering a message to a person.
type Channel string

// The delivery channels.
const (
	ChannelEmail   Channel = "email"
	ChannelSMS     Channel = "sms"
	ChannelIM      Channel = "im"
	ChannelWebhook Channel = "webhook"
)

// Channels lists every Channel.
var Channels = []Channel{ChannelEmail, ChannelSMS, ChannelIM, ChannelWebhook}

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if k == c {
			return true
		}
	}
	return false
}

// DeliveryMethod is one address a subscription delivers to.
type DeliveryMethod struct {
	// ID identifies the method within its subscription; it stays the same
	// across updates that keep the same channel and address.
	ID string `json:"id"`
	// Channel is how the message travels.
	Channel Channel `json:"channel"`
	// Address is the recipient: an email address, an E.164 phone number,
	// an XMPP JID or an https URL, by Channel.
	Address string `json:"address"`
	// Types, when not empty, narrows the subscription's types for this
	// method alone.
	Types []NotificationType `json:"types,omitempty"`
	// Enabled is false once the method was switched off, for example by a
	// one-click unsubscribe or a provider reporting the recipient gone.
	Enabled bool `json:"enabled"`
	// Epoch names the method's current enabled period: a new random value
	// each time the method becomes enabled (created, added back or
	// re-enabled), kept while it stays enabled or is switched off.
	// Unsubscribe links carry it, so a link from an earlier period cannot
	// switch the method off again. Empty for methods stored before
	// notifyd had it, until they are next re-enabled.
	Epoch string `json:"epoch,omitempty"`
	// Presence is the IM method's policy for a recipient who is offline:
	// PresenceOnlineOnly (the message is discarded and recorded as
	// skipped, as Oracle's calendar agent does), PresenceStore (the
	// server's offline storage keeps it) or PresenceFallback (it goes
	// through the subscription's next method instead). Empty for other
	// channels.
	Presence string `json:"presence,omitempty"`
	// Secret signs the webhook method's requests (Standard Webhooks,
	// "whsec_" and base64); notifyd generates it when none is given.
	// Empty for other channels. The API shows it only in the answer to
	// the request that set it.
	Secret string `json:"secret,omitempty"`
	// PreviousSecret is the webhook method's secret before its last
	// rotation: requests are signed with it too until
	// PreviousSecretExpires, so receivers can switch to the new secret
	// without refusing requests meanwhile.
	PreviousSecret string `json:"previous_secret,omitempty"`
	// PreviousSecretExpires is when notifyd stops signing with
	// PreviousSecret.
	PreviousSecretExpires time.Time `json:"previous_secret_expires,omitzero"`
}

// IM presence policies (DeliveryMethod.Presence).
const (
	PresenceOnlineOnly = "online_only"
	PresenceStore      = "store"
	PresenceFallback   = "fallback"
)

// Subscription says which of a principal's notifications are delivered, to
// whom and how.
type Subscription struct {
	// ID is the subscription's identifier, a UUIDv7 (time ordered).
	ID string
	// System is the calendar system's configured name.
	System string
	// Principal is the principal href on the system's CalDAV server.
	Principal string
	// Enabled switches the whole subscription on or off.
	Enabled bool
	// Types are the notification types wanted; empty means all.
	Types []NotificationType
	// Locale is a BCP 47 language tag used to format messages.
	Locale string
	// TimeZone is an IANA time zone name used to format times.
	TimeZone string
	// Methods are the addresses to deliver to.
	Methods []DeliveryMethod
	// Preferences say when and how often to deliver (digests, quiet
	// hours, throttles, pause, channel order); nil delivers everything at
	// once to every method.
	Preferences *Preferences
	// NotifyOwnChanges sends the principal the changes it made itself too
	// (a publish's triggered_by naming it, a resource change's changed-by).
	// By default they are not sent:
	// their deliveries are recorded as suppressed, with the reason.
	NotifyOwnChanges bool
	// Version increases by one on every change; it is the ETag.
	Version int64
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
}

// SubscriptionFilter selects subscriptions in a listing. Empty fields match
// everything.
type SubscriptionFilter struct {
	System string
	// Systems, if set, keeps the subscriptions of these systems only (a
	// scoped API key's).
	Systems   []string
	Principal string
	// After is the cursor: only subscriptions whose ID sorts after it.
	After string
	// Limit caps the number returned.
	Limit int
}

// Errors the store and services return, mapped to HTTP statuses by the API.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write lost against a concurrent one (the
	// version given no longer matches).
	ErrConflict = errors.New("version conflict")
	// ErrUnavailable means the store cannot take writes right now (disk
	// full, read-only, database unreachable); the caller should retry.
	ErrUnavailable = errors.New("store unavailable")
)
