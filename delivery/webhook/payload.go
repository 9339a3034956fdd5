package webhook

import (
	"errors"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// Payload is the JSON body of every webhook request, the schema receivers
// rely on (see the package documentation for an example):
//
//	{"type": "notification.TYPE", "timestamp": RFC 3339,
//	 "data": {"system", "principal", "notification", "delivery_id",
//	          "truncated" (only when true)}}
//
// Fields may be added in later versions; none will be removed or change
// meaning.
type Payload struct {
	// Type is "notification." followed by the notification type, e.g.
	// "notification.share-invite".
	Type string `json:"type"`
	// Timestamp is when the event happened: the notification's DTStamp,
	// else a reminder's trigger, else the time of the attempt. It is in
	// UTC.
	Timestamp time.Time `json:"timestamp"`
	// Data describes the notification.
	Data Data `json:"data"`
}

// Data is the "data" member of a Payload.
type Data struct {
	// System is the calendar system's name in notifyd's configuration.
	System string `json:"system"`
	// Principal is the principal href the notification was found for.
	Principal string `json:"principal"`
	// Notification is the notification as notifyd parsed it.
	Notification *notifyd.Notification `json:"notification"`
	// DeliveryID is the webhook-id header's value: stable across retries.
	DeliveryID string `json:"delivery_id"`
	// Truncated is true when notifyd shortened the notification to keep
	// the body within MaxPayloadBytes (see the package documentation);
	// the member is left out otherwise.
	Truncated bool `json:"truncated,omitempty"`
}

// EventType is the Payload type for notifications of type t:
// "notification." followed by t ("notification.other" when t is empty).
func EventType(t notifyd.NotificationType) string {
	if t == "" {
		t = notifyd.TypeOther
	}
	return "notification." + string(t)
}

// NewPayload describes req; at is the time of the attempt, used as the
// timestamp when the notification has no DTStamp (nor, for a reminder, a
// trigger time).
func NewPayload(req *delivery.Request, at time.Time) (*Payload, error) {
	n := req.Notification
	if n == nil {
		return nil, errors.New("webhook: the request has no notification")
	}
	ts := n.DTStamp
	if ts.IsZero() && n.Reminder != nil {
		ts = n.Reminder.Trigger
	}
	if ts.IsZero() {
		ts = at
	}
	return &Payload{
		Type:      EventType(n.Type),
		Timestamp: ts.UTC(),
		Data: Data{
			System:       req.System,
			Principal:    req.Principal,
			Notification: n,
			DeliveryID:   req.DeliveryID,
		},
	}, nil
}

// Render returns the request body for req: its Payload in compact JSON,
// at most MaxPayloadBytes, the notification shortened to fit as the
// package documentation says (Data.Truncated is then true).
func Render(req *delivery.Request, at time.Time) ([]byte, error) {
	p, err := NewPayload(req, at)
	if err != nil {
		return nil, err
	}
	return p.fit()
}
