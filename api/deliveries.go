package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/store"
)

// DeliveryLog lists deliveries; store.DB implements it.
type DeliveryLog interface {
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.DeliveryListItem, error)
}

type deliveryJSON struct {
	ID           string          `json:"id"`
	Notification notificationRef `json:"notification"`
	System       string          `json:"system"`
	Principal    string          `json:"principal"`
	Subscription string          `json:"subscription_id"`
	Method       string          `json:"method_id"`
	Channel      string          `json:"channel"`
	Address      string          `json:"address"`
	Status       string          `json:"status"`
	Attempts     int             `json:"attempts"`
	LastError    string          `json:"last_error"`
	ProviderID   string          `json:"provider_id,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	SentAt       *time.Time      `json:"sent_at,omitempty"`
	// ReleaseAt, HeldReason and HeldDigest say what the subscription's
	// preferences held it for, and until when (absent: never held).
	ReleaseAt  *time.Time `json:"release_at,omitempty"`
	HeldReason string     `json:"held_reason,omitempty"`
	HeldDigest bool       `json:"held_digest,omitempty"`
}

type notificationRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Href string `json:"href"`
}

func (s *Server) listDeliveries(c *gin.Context) {
	f := store.DeliveryFilter{System: c.Query("system"), Principal: c.Query("principal"), Status: c.Query("status"),
		Channel: c.Query("channel"), Address: c.Query("address"), Type: c.Query("type"), Limit: 100}
	if !timeRange(c, &f.From, &f.To) {
		return
	}
	s.deliveryPage(c, f, s.deliveries.Deliveries)
}

// deliveryPage answers a page of list, a delivery listing filtered by f
// and the query's principal, limit and cursor.
func (s *Server) deliveryPage(c *gin.Context, f store.DeliveryFilter, list func(context.Context, store.DeliveryFilter) ([]store.DeliveryListItem, error)) {
	var inScope bool
	f.System, f.Systems, inScope = actorOf(c).SystemFilter(f.System)
	listPage(s, c, func(q pageQuery) ([]store.DeliveryListItem, error) {
		if !inScope {
			return nil, nil
		}
		f.Principal, f.Limit, f.AfterTime, f.AfterID = q.Principal, q.Limit, q.AfterTime, q.AfterID
		return list(c.Request.Context(), f)
	}, func(it store.DeliveryListItem) (time.Time, string) { return it.CreatedAt, it.ID }, toDeliveryJSON)
}

// toDeliveryJSON is a delivery as the API shows it.
func toDeliveryJSON(it store.DeliveryListItem) deliveryJSON {
	d := deliveryJSON{
		ID: it.ID, Notification: notificationRef{ID: it.NotificationID, Type: it.NotificationType, Href: it.NotificationHref},
		System: it.System, Principal: it.Principal, Subscription: it.SubscriptionID, Method: it.MethodID,
		Channel: it.Channel, Address: it.Address, Status: it.Status, Attempts: it.Attempts, LastError: it.LastError,
		ProviderID: it.ProviderID,
		CreatedAt:  it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	if !it.SentAt.IsZero() {
		sent := it.SentAt
		d.SentAt = &sent
	}
	if !it.ReleaseAt.IsZero() {
		release := it.ReleaseAt
		d.ReleaseAt, d.HeldReason, d.HeldDigest = &release, it.HeldReason, it.HeldDigest
	}
	return d
}
