package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// preferenceLinkJSON is a preference link the API issued.
type preferenceLinkJSON struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issuePreferenceLink makes a link to a subscription's preference page,
// for an integrator to put in its own messages or pages.
func (s *Server) issuePreferenceLink(c *gin.Context) {
	if s.pref == nil {
		notFoundProblem(c)
		return
	}
	ctx := c.Request.Context()
	sub, err := s.subscriptionInScope(ctx, actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	token, expires := s.pref.Links.Token(sub.ID)
	if token == "" {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "This subscription's ID is not a UUID: it has no preference page."})
		return
	}
	// A link is a capability to change the subscription: who was given
	// one is recorded (the link itself is not).
	if s.audit != nil {
		after, _ := json.Marshal(struct {
			ExpiresAt time.Time `json:"expires_at"`
		}{expires})
		err := s.audit.RecordAudit(ctx, store.AuditEntry{Action: store.ActionPreferenceLinkIssued,
			ResourceType: store.AuditSubscription, ResourceID: sub.ID, System: sub.System, Principal: sub.Principal, After: after})
		if err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, preferenceLinkJSON{URL: s.pref.BaseURL + "/preferences/" + token, ExpiresAt: expires})
}

// revokePreferenceLinks voids every preference link of a subscription
// made until now (those in messages already sent, and those the API
// issued); links made afterwards work.
func (s *Server) revokePreferenceLinks(c *gin.Context) {
	if s.pref == nil {
		notFoundProblem(c)
		return
	}
	id := c.Param("id")
	now := s.pref.now().UTC()
	if _, err := s.subscriptionInScope(c.Request.Context(), actorOf(c), id); err != nil {
		writeError(c, s.log, err)
		return
	}
	err := s.pref.Store.RevokePreferenceLinks(c.Request.Context(), id, now)
	if errors.Is(err, notifyd.ErrNotFound) {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "No such subscription."})
		return
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.log.Info("preference links revoked", "subscription", id, "request_id", c.GetString(ctxRequestID))
	c.JSON(http.StatusOK, struct {
		RevokedAt time.Time `json:"revoked_at"`
	}{now})
}
