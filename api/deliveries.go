package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
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
}

type notificationRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Href string `json:"href"`
}

func (s *Server) listDeliveries(c *gin.Context) {
	f := store.DeliveryFilter{System: c.Query("system"), Principal: c.Query("principal"), Status: c.Query("status"),
		Channel: c.Query("channel"), Address: c.Query("address"), Type: c.Query("type"), Limit: 100}
	var ok bool
	if f.From, f.To, ok = timeRange(c); !ok {
		return
	}
	s.deliveryPage(c, f, s.deliveries.Deliveries)
}

// timeRange reads the query's from and to (RFC 3339, both optional; to
// later than from), or answers 400 and reports false.
func timeRange(c *gin.Context) (from, to time.Time, ok bool) {
	var errs []notifyd.FieldError
	for _, b := range []struct {
		name string
		at   *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := c.Query(b.name)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			// The contract checked the shape; this is a date that does
			// not exist, such as February 30.
			errs = append(errs, notifyd.FieldError{Field: "query." + b.name, Detail: "is not a date and time that exists (RFC 3339, e.g. 2026-03-01T09:00:00Z)"})
			continue
		}
		*b.at = at
	}
	if len(errs) == 0 && !from.IsZero() && !to.IsZero() && !to.After(from) {
		errs = append(errs, notifyd.FieldError{Field: "query.to", Detail: "must be later than from"})
	}
	if len(errs) > 0 {
		badRequest(c, "The time range is not valid; see errors.", errs...)
		return from, to, false
	}
	return from, to, true
}

// deliveryPage answers a page of list, a delivery listing filtered by f
// and the query's principal, limit and cursor.
func (s *Server) deliveryPage(c *gin.Context, f store.DeliveryFilter, list func(context.Context, store.DeliveryFilter) ([]store.DeliveryListItem, error)) {
	listPage(s, c, func(q pageQuery) ([]store.DeliveryListItem, error) {
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
	return d
}
