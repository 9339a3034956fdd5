package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
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
	f := store.DeliveryFilter{System: c.Query("system"), Principal: c.Query("principal"), Status: c.Query("status"), Limit: 100}
	s.deliveryPage(c, f, s.deliveries.Deliveries)
}

// deliveryPage answers a page of list, a delivery listing filtered by f
// and the query's principal, limit and cursor.
func (s *Server) deliveryPage(c *gin.Context, f store.DeliveryFilter, list func(context.Context, store.DeliveryFilter) ([]store.DeliveryListItem, error)) {
	if l := c.Query("limit"); l != "" {
		f.Limit, _ = strconv.Atoi(l) // the contract checked it is an integer in 1..500
	}
	if cur := c.Query("cursor"); cur != "" {
		at, id, ok := parseDeliveryCursor(cur)
		if !ok {
			badRequest(c, "The cursor is not one notifyd issued.", notifyd.FieldError{Field: "query.cursor", Detail: "pass next_cursor from the previous page unchanged"})
			return
		}
		f.AfterTime, f.AfterID = at, id
	}
	var ok bool
	if f.Principal, ok = principalFilter(c); !ok {
		return
	}
	limit := f.Limit
	f.Limit++
	items, err := list(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	type page struct {
		Items      []deliveryJSON `json:"items"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}
	out := page{Items: []deliveryJSON{}}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		out.NextCursor = deliveryCursor(last.CreatedAt, last.ID)
	}
	for _, it := range items {
		out.Items = append(out.Items, toDeliveryJSON(it))
	}
	c.JSON(http.StatusOK, out)
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

// deliveryCursor encodes the position after a delivery: its creation time
// and ID (the log is ordered by both).
func deliveryCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
}

func parseDeliveryCursor(cur string) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cur)
	if err != nil {
		return time.Time{}, "", false
	}
	us, id, found := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !found || err != nil || len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}
