package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// DigestType is the type of a digest's body.
const DigestType = "digest"

// DigestPayload is the JSON body of a digest (several notifications held
// by the subscriber's preferences, in one request; see the package
// documentation):
//
//	{"type": "digest", "timestamp": RFC 3339,
//	 "data": {"system", "principal", "delivery_id", "since", "until",
//	          "items": [Payload…], "undone" (when some),
//	          "omitted" and "truncated" (only when some were left out)}}
type DigestPayload struct {
	// Type is "digest".
	Type string `json:"type"`
	// Timestamp is when the digest was due (its Until), in UTC.
	Timestamp time.Time `json:"timestamp"`
	// Data describes the digest.
	Data DigestData `json:"data"`
}

// DigestData is the "data" member of a DigestPayload.
type DigestData struct {
	// System and Principal are as in [Data].
	System    string `json:"system"`
	Principal string `json:"principal"`
	// DeliveryID is the digest's delivery ID, the webhook-id header's
	// value.
	DeliveryID string `json:"delivery_id"`
	// Since and Until bound when the notifications were held, in UTC.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Items are what the digest says, collapsed (see
	// message.Collapse): one per event, task or calendar in its latest
	// state (its delivery_id the latest notification's), one per other
	// notification, by calendar; each is the body a single notification
	// would have had.
	Items []Payload `json:"items"`
	// Undone are the delivery IDs of notifications that cancelled out
	// inside the window (an event created then deleted, a change
	// reverted).
	Undone []string `json:"undone,omitempty"`
	// Omitted counts the items left out to keep the body within
	// MaxPayloadBytes (the last ones); Truncated is then true, as it is
	// when an item was shortened.
	Omitted   int  `json:"omitted,omitempty"`
	Truncated bool `json:"truncated,omitempty"`
}

// RenderDigest returns the body of req's digest and false, or nil and
// true when every notification in it cancelled out (nothing to send). It
// is at most MaxPayloadBytes: the items' notifications shortened as for
// a single one (free-text values cut to message.MaxFieldRunes, then
// message.TightFieldRunes), then only the first items that fit.
func RenderDigest(req *delivery.Request, at time.Time) (body []byte, undone bool, err error) {
	if req.Digest == nil {
		return nil, false, errors.New("webhook: the request has no digest")
	}
	d := message.Collapse(req.Digest.Items)
	if d.Entries == 0 {
		return nil, true, nil
	}
	until := req.Digest.Until
	if until.IsZero() {
		until = at
	}
	p := &DigestPayload{Type: DigestType, Timestamp: until.UTC(), Data: DigestData{
		System: req.System, Principal: req.Principal, DeliveryID: req.DeliveryID,
		Since: req.Digest.Since.UTC(), Until: req.Digest.Until.UTC(), Undone: d.Undone}}
	var items []Payload
	for _, g := range d.Groups {
		for _, e := range g.Entries {
			item := *req
			item.Digest, item.Notification, item.CalendarName = nil, e.Notification, e.CalendarName
			item.DeliveryID = e.DeliveryIDs[len(e.DeliveryIDs)-1]
			ip, err := NewPayload(&item, at)
			if err != nil {
				return nil, false, err
			}
			items = append(items, *ip)
		}
	}
	try := func(maxRunes, k int) ([]byte, bool, error) {
		p.Data.Items, p.Data.Truncated, p.Data.Omitted = make([]Payload, k), k < len(items), len(items)-k
		for i := range k {
			p.Data.Items[i] = items[i]
			n, cut := message.Shorten(items[i].Data.Notification, maxRunes)
			p.Data.Items[i].Data.Notification, p.Data.Items[i].Data.Truncated = n, cut
			p.Data.Truncated = p.Data.Truncated || cut
		}
		b, err := json.Marshal(p)
		return b, len(b) <= MaxPayloadBytes, err
	}
	for _, maxRunes := range []int{message.MaxFieldRunes, message.TightFieldRunes} {
		if b, ok, err := try(maxRunes, len(items)); err != nil || ok {
			return b, false, err
		}
	}
	var best []byte
	k, err := message.MostThatFit(len(items), func(k int) (bool, error) {
		b, ok, err := try(message.TightFieldRunes, k)
		if ok {
			best = b
		}
		return ok, err
	})
	if err != nil {
		return nil, false, err
	}
	if k < 0 {
		return nil, false, fmt.Errorf("webhook: the digest's body is over the %d-byte limit even without items", MaxPayloadBytes)
	}
	return best, false, nil
}
