package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// SuppressionList is the suppression list; store.DB implements it.
type SuppressionList interface {
	Suppressions(ctx context.Context, f store.SuppressionFilter) ([]store.Suppression, error)
	AddSuppression(ctx context.Context, s store.Suppression) (*store.Suppression, bool, error)
	RemoveSuppression(ctx context.Context, channel notifyd.Channel, address string) (*store.Suppression, error)
}

// The suppression list is global: an address is suppressed whatever
// system's subscription names it. So a key scoped to systems may neither
// read it (its addresses are those of every system's recipients) nor
// change it (that would change what other systems' recipients get): see
// Actor.Allows.

// suppressionJSON is a suppression as the API shows it.
type suppressionJSON struct {
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`
	Address    string    `json:"address"`
	Reason     string    `json:"reason"`
	Detail     string    `json:"detail"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actor_kind"`
	CreatedAt  time.Time `json:"created_at"`
	DeliveryID string    `json:"delivery_id,omitempty"`
}

func toSuppressionJSON(s store.Suppression) suppressionJSON {
	return suppressionJSON{ID: s.ID, Channel: string(s.Channel), Address: s.Address, Reason: s.Reason, Detail: s.Detail,
		Actor: s.Actor.Name, ActorKind: s.Actor.Kind, CreatedAt: s.CreatedAt, DeliveryID: s.DeliveryID}
}

// listSuppressions answers GET /v1/suppressions: oldest first, filtered
// by channel, reason and address prefix.
func (s *Server) listSuppressions(c *gin.Context) {
	if s.suppressions == nil {
		writeError(c, s.log, notifyd.ErrUnavailable)
		return
	}
	f := store.SuppressionFilter{Channel: c.Query("channel"), Reason: c.Query("reason"), AddressPrefix: c.Query("address_prefix")}
	listPage(s, c, func(q pageQuery) ([]store.Suppression, error) {
		f.Limit, f.AfterTime, f.AfterID = q.Limit, q.AfterTime, q.AfterID
		return s.suppressions.Suppressions(c.Request.Context(), f)
	}, func(it store.Suppression) (time.Time, string) { return it.CreatedAt, it.ID }, toSuppressionJSON)
}

// suppressionInput is the body of POST /v1/suppressions.
type suppressionInput struct {
	Channel notifyd.Channel `json:"channel"`
	Address string          `json:"address"`
	Reason  string          `json:"reason"`
	Detail  string          `json:"detail"`
}

// addSuppression answers POST /v1/suppressions: 201 with the new entry,
// or 200 with the one there was (the first reason stays).
func (s *Server) addSuppression(c *gin.Context) {
	if s.suppressions == nil {
		writeError(c, s.log, notifyd.ErrUnavailable)
		return
	}
	var in suppressionInput
	if !decodeBody(c, &in) {
		return
	}
	if in.Reason == "" {
		in.Reason = store.SuppressManual
	}
	if _, err := store.NormalizeSuppressionAddress(in.Channel, in.Address); err != nil {
		badRequest(c, "The address is not one of the channel's.", notifyd.FieldError{Field: "/address", Detail: err.Error()})
		return
	}
	got, added, err := s.suppressions.AddSuppression(c.Request.Context(), store.Suppression{Channel: in.Channel,
		Address: in.Address, Reason: in.Reason, Detail: in.Detail})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
		c.Header("Location", "/v1/suppressions/"+string(got.Channel)+"/"+got.Address)
	}
	c.JSON(status, toSuppressionJSON(*got))
}

// removeSuppression answers DELETE /v1/suppressions/{channel}/{address}:
// 204, or 404 when the address is not suppressed.
func (s *Server) removeSuppression(c *gin.Context) {
	if s.suppressions == nil {
		writeError(c, s.log, notifyd.ErrUnavailable)
		return
	}
	if _, err := s.suppressions.RemoveSuppression(c.Request.Context(), notifyd.Channel(c.Param("channel")), c.Param("address")); err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}
