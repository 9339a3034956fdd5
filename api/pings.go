package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// pingBody is a ping in either of Bedework's shapes.
type pingBody struct {
	System       string   `json:"system"`
	Token        string   `json:"token"`
	Hrefs        []string `json:"hrefs"`
	Href         string   `json:"href"`
	ResourceName string   `json:"resourceName"`
}

// postPing checks every href of an authenticated ping and durably queues
// the distinct principals before answering 202.
func (s *Server) postPing(c *gin.Context) {
	body, ok := validatedPing(c)
	if !ok && !decodeBody(c, &body) {
		return
	}

	// authenticatePing checked the system and token before the body was
	// validated.
	sys := s.systems[c.GetString(ctxPingSystem)]

	hrefs, field := body.Hrefs, "/hrefs"
	switch {
	case len(body.Hrefs) > 0 && body.Href != "":
		s.rejectPing(c, rejectInvalid)
		badRequest(c, "Send either hrefs or href, not both.", notifyd.FieldError{Field: "/href", Detail: "must not be sent together with hrefs"})
		return
	case body.Href != "":
		hrefs, field = []string{body.Href}, "/href"
	case len(body.Hrefs) == 0:
		s.rejectPing(c, rejectInvalid)
		badRequest(c, "Name the principals with new notifications.", notifyd.FieldError{Field: "/hrefs", Detail: "is required (or href)"})
		return
	}

	principals := make([]string, 0, len(hrefs))
	seen := make(map[string]struct{}, len(hrefs))
	var errs notifyd.ValidationError
	for i, h := range hrefs {
		at := field
		if field == "/hrefs" {
			at = fmt.Sprintf("/hrefs/%d", i)
		}
		clean, err := notifyd.CleanHref(h)
		if err == nil && !underPrefix(clean, sys.principalPrefix) {
			err = fmt.Errorf("must be under %s, where system %s keeps its principals", sys.principalPrefix, body.System)
		}
		if err != nil {
			errs = append(errs, notifyd.FieldError{Field: at, Detail: err.Error()})
			continue
		}
		if _, dup := seen[clean]; !dup {
			seen[clean] = struct{}{}
			principals = append(principals, clean)
		}
	}
	if len(errs) > 0 {
		s.rejectPing(c, rejectBadHref)
		badRequest(c, "Hrefs must be absolute paths of principals on the system's CalDAV server; nothing was queued.", errs...)
		return
	}

	res, err := s.intake.Enqueue(c.Request.Context(), body.System, principals)
	if err != nil {
		s.rejectPing(c, rejectUnavailable)
		if !errors.Is(err, notifyd.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
		writeError(c, s.log, err)
		return
	}
	s.metrics.pingsAccepted.Inc()
	s.metrics.principalsQueued.Add(float64(res.Queued))
	s.metrics.pingsCoalesced.Add(float64(res.Coalesced))
	// The answer of every accepted ping (PingAccepted in openapi.yaml),
	// written directly: it is the hot path.
	b := make([]byte, 0, 64)
	b = append(b, `{"queued":`...)
	b = strconv.AppendInt(b, int64(res.Queued), 10)
	b = append(b, `,"new_jobs":`...)
	b = strconv.AppendInt(b, int64(res.NewJobs), 10)
	b = append(b, `,"coalesced":`...)
	b = strconv.AppendInt(b, int64(res.Coalesced), 10)
	b = append(b, '}')
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", b)
}

// validatedPing takes the ping from the value the contract validator
// decoded (its types are checked: system, token, href and resourceName
// strings, hrefs an array of strings, no other member), saving a second
// decoding of the body.
func validatedPing(c *gin.Context) (pingBody, bool) {
	m, ok := c.Value(ctxValidated).(map[string]any)
	if !ok {
		return pingBody{}, false
	}
	var p pingBody
	p.System, _ = m["system"].(string)
	p.Token, _ = m["token"].(string)
	p.Href, _ = m["href"].(string)
	p.ResourceName, _ = m["resourceName"].(string)
	if hrefs, ok := m["hrefs"].([]any); ok {
		p.Hrefs = make([]string, len(hrefs))
		for i, h := range hrefs {
			if p.Hrefs[i], ok = h.(string); !ok {
				return pingBody{}, false
			}
		}
	}
	return p, true
}

// underPrefix reports whether href is prefix itself or below it, on a
// segment boundary ("/principals/users" admits "/principals/users/fred",
// not "/principals/usersX/fred"). An empty prefix admits everything.
func underPrefix(href, prefix string) bool {
	if prefix == "" || href == prefix {
		return true
	}
	if !strings.HasPrefix(href, prefix) {
		return false
	}
	return strings.HasSuffix(prefix, "/") || href[len(prefix)] == '/'
}

// rejectPing names why the ping is refused, for countPings.
func (s *Server) rejectPing(c *gin.Context, reason string) { c.Set(ctxRejectReason, reason) }

// countPings counts every refused ping by reason, including those the
// contract validator refused before the handler ran.
func (s *Server) countPings() gin.HandlerFunc {
	byProblem := map[string]string{
		ProblemMalformedJSON: rejectMalformed, ProblemValidation: rejectInvalid, ProblemBodyTooLarge: rejectTooLarge,
		ProblemUnsupportedMediaType: rejectMediaType, ProblemUnavailable: rejectUnavailable,
	}
	return func(c *gin.Context) {
		c.Next()
		if c.Writer.Status() == http.StatusAccepted {
			return
		}
		reason := c.GetString(ctxRejectReason)
		if reason == "" {
			reason = byProblem[c.GetString(ctxProblem)]
		}
		if reason == "" {
			reason = rejectInvalid
		}
		s.metrics.pingsRejected.WithLabelValues(reason).Inc()
	}
}
