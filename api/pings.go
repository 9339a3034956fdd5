package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
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
// what they name before answering 202: the distinct principals (their
// syncs), and the owners of the calendars named (their calendar syncs).
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

	p, ok := s.resolveHrefs(c, sys, body.System, hrefs, field)
	if !ok {
		return
	}
	res, err := s.intake.EnqueuePing(c.Request.Context(), body.System, p.principals, p.owners)
	if err != nil {
		s.pingUnavailable(c, err)
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

// pingTargets are what a ping's hrefs name: principals whose
// notifications (and calendars) to sync, and the owners of calendars to
// sync.
type pingTargets struct {
	principals []string
	owners     []string
}

// resolveHrefs cleans each href and finds what it names: a calendar
// notifyd syncs for reminders, or a resource in one, names the calendar's
// owner (whose calendars are synced); any other href must be a principal
// under the system's principal_prefix. Both lists are distinct. When an
// href is neither, or not clean, it answers 400 naming every such href
// (nothing is queued) and returns false; 503 when the calendars cannot be
// read.
func (s *Server) resolveHrefs(c *gin.Context, sys apiSystem, system string, hrefs []string, field string) (pingTargets, bool) {
	ctx := c.Request.Context()
	// In memory, read again about every second: this costs a principal
	// ping no query.
	cals, err := s.intake.CalendarPaths(ctx, system, false)
	if err != nil {
		s.pingUnavailable(c, err)
		return pingTargets{}, false
	}
	var t pingTargets
	t.principals = make([]string, 0, len(hrefs))
	seen := make(map[string]struct{}, len(hrefs))
	var bad []badHref // in href order
	for i, h := range hrefs {
		clean, err := notifyd.CleanHref(h)
		owners := cals.Owners(clean)
		switch {
		case err != nil:
			bad = append(bad, badHref{i: i, err: err})
		case owners != nil:
			t.addOwners(owners)
		case !underPrefix(clean, sys.principalPrefix):
			// Perhaps a calendar first synced a moment ago: looked up
			// again below, before it is refused.
			bad = append(bad, badHref{i: i, clean: clean})
		default:
			if _, dup := seen[clean]; !dup {
				seen[clean] = struct{}{}
				t.principals = append(t.principals, clean)
			}
		}
	}
	if len(bad) == 0 {
		return t, true
	}
	var fresh *engine.CalendarPaths
	for _, b := range bad {
		if b.clean != "" && cals != nil {
			if fresh, err = s.intake.CalendarPaths(ctx, system, true); err != nil {
				s.pingUnavailable(c, err)
				return pingTargets{}, false
			}
			break
		}
	}
	var errs notifyd.ValidationError
	for _, b := range bad {
		at := field
		if field == "/hrefs" {
			at = fmt.Sprintf("/hrefs/%d", b.i)
		}
		switch {
		case b.err != nil:
			errs = append(errs, notifyd.FieldError{Field: at, Detail: b.err.Error()})
		case fresh.Owners(b.clean) != nil:
			t.addOwners(fresh.Owners(b.clean))
		case cals == nil:
			errs = append(errs, notifyd.FieldError{Field: at, Detail: fmt.Sprintf(
				"must be under %s, where system %s keeps its principals (with reminders off, a ping cannot name a calendar)",
				sys.principalPrefix, system)})
		default:
			errs = append(errs, notifyd.FieldError{Field: at, Detail: fmt.Sprintf(
				"must be a principal under %s, where system %s keeps its principals, "+
					"or the path of a calendar notifyd syncs for reminders (or of a resource in one)",
				sys.principalPrefix, system)})
		}
	}
	if len(errs) > 0 {
		s.rejectPing(c, rejectBadHref)
		badRequest(c, "Hrefs must be paths of principals, or of calendars notifyd syncs, on the system's CalDAV server; nothing was queued.", errs...)
		return pingTargets{}, false
	}
	return t, true
}

// badHref is an href that is not clean (err), or names neither a
// principal under the prefix nor a calendar known when looked up first
// (clean).
type badHref struct {
	i     int
	clean string
	err   error
}

// addOwners adds the principals of owners not in t.owners yet.
func (t *pingTargets) addOwners(owners []string) {
	for _, o := range owners {
		if !slices.Contains(t.owners, o) {
			t.owners = append(t.owners, o)
		}
	}
}

// pingUnavailable answers 503 for a ping or a publish that could not be
// recorded.
func (s *Server) pingUnavailable(c *gin.Context, err error) {
	s.rejectPing(c, rejectUnavailable)
	if !errors.Is(err, notifyd.ErrUnavailable) {
		err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
	}
	writeError(c, s.log, err)
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
