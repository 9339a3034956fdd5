package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// subscriptionJSON is a subscription as the API shows it.
type subscriptionJSON struct {
	ID        string                     `json:"id"`
	System    string                     `json:"system"`
	Principal string                     `json:"principal"`
	Enabled   bool                       `json:"enabled"`
	Types     []notifyd.NotificationType `json:"types"`
	Locale    string                     `json:"locale"`
	TimeZone  string                     `json:"time_zone"`
	Methods   []methodJSON               `json:"methods"`
	// NotifyOwnChanges: the principal's own changes are sent to it too.
	NotifyOwnChanges bool `json:"notify_own_changes"`
	// Preferences are shown when the subscription has any.
	Preferences *notifyd.Preferences `json:"preferences,omitempty"`
	Version     int64                `json:"version"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
}

// methodJSON is a delivery method as the API shows it. A webhook method's
// signing secret is shown only in the answer to the request that set it;
// every other answer says only that it has one.
type methodJSON struct {
	ID       string                     `json:"id"`
	Channel  notifyd.Channel            `json:"channel"`
	Address  string                     `json:"address"`
	Types    []notifyd.NotificationType `json:"types"`
	Enabled  bool                       `json:"enabled"`
	Presence string                     `json:"presence,omitempty"`
	// Secret is the webhook method's secret, in the answer that set it.
	Secret    string `json:"secret,omitempty"`
	SecretSet bool   `json:"secret_set,omitempty"`
	// PreviousSecretExpiresAt is when notifyd stops signing with the
	// secret a rotation replaced.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

// toJSON shows sub at now, with the secrets of the methods in newSecrets.
func toJSON(s *notifyd.Subscription, newSecrets map[string]bool, now time.Time) subscriptionJSON {
	out := subscriptionJSON{
		ID: s.ID, System: s.System, Principal: s.Principal, Enabled: s.Enabled, Types: orEmpty(s.Types),
		Locale: s.Locale, TimeZone: s.TimeZone, Methods: make([]methodJSON, len(s.Methods)),
		NotifyOwnChanges: s.NotifyOwnChanges, Preferences: s.Preferences, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	for i, m := range s.Methods {
		out.Methods[i] = methodJSON{ID: m.ID, Channel: m.Channel, Address: m.Address, Types: orEmpty(m.Types), Enabled: m.Enabled,
			Presence: m.Presence, SecretSet: m.Secret != ""}
		if newSecrets[m.ID] {
			out.Methods[i].Secret = m.Secret
		}
		if m.PreviousSecret != "" && now.Before(m.PreviousSecretExpires) {
			exp := m.PreviousSecretExpires
			out.Methods[i].PreviousSecretExpiresAt = &exp
		}
	}
	return out
}

func orEmpty(t []notifyd.NotificationType) []notifyd.NotificationType {
	if t == nil {
		return []notifyd.NotificationType{}
	}
	return t
}

// etag is a subscription version as a strong entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match: 0 when absent or "*", the version it names, or
// -1 when it names none we could have issued (so it cannot match).
func ifMatch(c *gin.Context) int64 {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return 0
	}
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return -1
	}
	v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	if err != nil || v < 1 {
		return -1
	}
	return v
}

// sendSubscription answers with sub, showing the secrets in newSecrets
// (those the request set; nil when it set none).
func (s *Server) sendSubscription(c *gin.Context, status int, sub *notifyd.Subscription, newSecrets map[string]bool) {
	c.Header("ETag", etag(sub.Version))
	c.JSON(status, toJSON(sub, newSecrets, time.Now()))
}

func (s *Server) createSubscription(c *gin.Context) {
	var in subscriptions.Input
	if !decodeBody(c, &in) {
		return
	}
	if !actorOf(c).Sees(in.System) {
		// A scoped key cannot tell a system out of its scope from none.
		notFoundProblem(c)
		return
	}
	sub, err := s.subs.Create(c.Request.Context(), in)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Location", "/v1/subscriptions/"+sub.ID)
	s.sendSubscription(c, http.StatusCreated, sub.Subscription, sub.NewSecrets)
}

func (s *Server) getSubscription(c *gin.Context) {
	sub, err := s.subscriptionInScope(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sendSubscription(c, http.StatusOK, sub, nil)
}

func (s *Server) listSubscriptions(c *gin.Context) {
	f := notifyd.SubscriptionFilter{System: c.Query("system"), Principal: c.Query("principal"), Limit: 100}
	if l := c.Query("limit"); l != "" {
		f.Limit, _ = strconv.Atoi(l) // the contract checked it is an integer in 1..500
	}
	if cur := c.Query("cursor"); cur != "" {
		after, err := base64.RawURLEncoding.DecodeString(cur)
		if err == nil {
			// It must decode to a subscription ID, not any string.
			var id uuid.UUID
			if id, err = uuid.Parse(string(after)); err == nil && id.String() != string(after) {
				err = errors.New("not a canonical subscription id")
			}
		}
		if err != nil {
			badRequest(c, "The cursor is not one notifyd issued.", notifyd.FieldError{Field: "query.cursor", Detail: "pass next_cursor from the previous page unchanged"})
			return
		}
		f.After = string(after)
	}
	var ok bool
	if f.Principal, ok = principalFilter(c); !ok {
		return
	}
	var subs []*notifyd.Subscription
	var next string
	var err error
	if f.System, f.Systems, ok = actorOf(c).SystemFilter(f.System); ok {
		subs, next, err = s.subs.List(c.Request.Context(), f)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	type page struct {
		Items      []subscriptionJSON `json:"items"`
		NextCursor string             `json:"next_cursor,omitempty"`
	}
	out := page{Items: make([]subscriptionJSON, len(subs))}
	now := time.Now()
	for i, sub := range subs {
		out.Items[i] = toJSON(sub, nil, now)
	}
	if next != "" {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) replaceSubscription(c *gin.Context) {
	version := ifMatch(c)
	var in subscriptions.Input
	if !decodeBody(c, &in) {
		return
	}
	if !actorOf(c).Sees(in.System) {
		notFoundProblem(c)
		return
	}
	var sub *subscriptions.Written
	err := s.scopedSubscriptionWrite(c, c.Param("id"), version, func(v int64) (err error) {
		sub, err = s.subs.Replace(c.Request.Context(), c.Param("id"), in, v)
		return err
	})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sendSubscription(c, http.StatusOK, sub.Subscription, sub.NewSecrets)
}

func (s *Server) patchSubscription(c *gin.Context) {
	version := ifMatch(c)
	var p subscriptions.Patch
	if !decodeBody(c, &p) {
		return
	}
	var sub *subscriptions.Written
	err := s.scopedSubscriptionWrite(c, c.Param("id"), version, func(v int64) (err error) {
		sub, err = s.subs.Patch(c.Request.Context(), c.Param("id"), p, v)
		return err
	})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sendSubscription(c, http.StatusOK, sub.Subscription, sub.NewSecrets)
}

func (s *Server) deleteSubscription(c *gin.Context) {
	err := s.scopedSubscriptionWrite(c, c.Param("id"), ifMatch(c), func(v int64) error {
		return s.subs.Delete(c.Request.Context(), c.Param("id"), v)
	})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// decodeBody decodes the body the contract validator already checked.
func decodeBody(c *gin.Context, v any) bool {
	if err := json.Unmarshal(c.MustGet(ctxBody).([]byte), v); err != nil {
		writeProblem(c, Problem{Type: ProblemMalformedJSON, Title: "Malformed JSON", Status: http.StatusBadRequest,
			Detail: "The body is not valid JSON: " + err.Error()})
		return false
	}
	return true
}

// principalFilter reads the principal query parameter of a listing, in
// its normalised form; on a bad href it has answered with a problem.
func principalFilter(c *gin.Context) (string, bool) {
	p := c.Query("principal")
	if p == "" {
		return "", true
	}
	clean, err := notifyd.CleanHref(p)
	if err != nil {
		badRequest(c, "The principal filter is not a valid href.", notifyd.FieldError{Field: "query.principal", Detail: err.Error()})
		return "", false
	}
	return clean, true
}
