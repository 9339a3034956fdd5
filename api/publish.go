package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
)

// Publisher durably records the events calendar servers publish;
// engine.Publisher implements it.
type Publisher interface {
	Publish(ctx context.Context, p engine.Publication) (engine.PublishResult, error)
}

// ProblemUnknownCalendar is the problem of a publish that names no
// principal and a calendar notifyd does not know the owner of (422).
const ProblemUnknownCalendar = "urn:notifyd:problem:unknown-calendar"

// Reasons a publish is refused besides the ping's, the `reason` label of
// notifyd_published_rejected_total.
const (
	rejectBadTopic        = "bad_topic"
	rejectBadPayload      = "bad_payload"
	rejectPayloadType     = "payload_type"
	rejectUnknownCalendar = "unknown_calendar"
)

// publishMetrics count the publish intake's answers.
type publishMetrics struct {
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec
}

func newPublishMetrics(reg prometheus.Registerer) publishMetrics {
	m := publishMetrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_published_accepted_total", Help: "Published events accepted and recorded (answered 202).",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_published_duplicates_total", Help: "Published events acknowledged as duplicates of one recorded before (answered 200): nothing is delivered again.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_published_rejected_total", Help: "Published events refused, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range []string{rejectMalformed, rejectInvalid, rejectTooLarge, rejectMediaType, rejectMissingToken,
		rejectUnknownSystem, rejectBadToken, rejectBadHref, rejectUnavailable, rejectBadTopic, rejectBadPayload,
		rejectPayloadType, rejectUnknownCalendar} {
		m.rejected.WithLabelValues(r)
	}
	reg.MustRegister(m.accepted, m.duplicates, m.rejected)
	return m
}

// publishBody is a published event (PublishedEvent in openapi.yaml).
type publishBody struct {
	System          string `json:"system"`
	Token           string `json:"token"`
	Topic           string `json:"topic"`
	Principal       string `json:"principal"`
	CalID           string `json:"calid"`
	UID             string `json:"uid"`
	RID             string `json:"rid"`
	AID             string `json:"aid"`
	CompType        string `json:"comptype"`
	TriggeredBy     string `json:"triggered_by"`
	ComponentSource string `json:"component_source"`
	Payload         string `json:"payload"`
	ContentType     string `json:"content_type"`
}

// publishAnswer is the answer to an acknowledged publish
// (PublishAccepted in openapi.yaml).
type publishAnswer struct {
	ID        string                   `json:"id"`
	Duplicate bool                     `json:"duplicate"`
	Topic     engine.Topic             `json:"topic"`
	Type      notifyd.NotificationType `json:"type"`
	Principal string                   `json:"principal"`
}

// postPublish records an authenticated published event durably and
// answers 202 (200 for a duplicate) only once it is on disk with the job
// that delivers it.
func (s *Server) postPublish(c *gin.Context) {
	body, ok := validatedPublish(c)
	if !ok && !decodeBody(c, &body) {
		return
	}
	// authenticateSystem checked the system and token.
	sys := s.systems[c.GetString(ctxPingSystem)]
	if body.Principal != "" {
		clean, err := notifyd.CleanHref(body.Principal)
		if err == nil && !underPrefix(clean, sys.principalPrefix) {
			err = fmt.Errorf("must be under %s, where system %s keeps its principals", sys.principalPrefix, body.System)
		}
		if err != nil {
			s.rejectPing(c, rejectBadHref)
			badRequest(c, "The principal must be the absolute path of a principal on the system's CalDAV server; nothing was recorded.",
				notifyd.FieldError{Field: "/principal", Detail: err.Error()})
			return
		}
		body.Principal = clean
	}
	if s.publisher == nil {
		s.rejectPing(c, rejectUnavailable)
		writeError(c, s.log, fmt.Errorf("%w: this process takes no published events", notifyd.ErrUnavailable))
		return
	}
	res, err := s.publisher.Publish(c.Request.Context(), engine.Publication{
		System: body.System, Topic: body.Topic, Principal: body.Principal, CalID: body.CalID, UID: body.UID,
		RID: body.RID, AID: body.AID, CompType: body.CompType, TriggeredBy: body.TriggeredBy,
		ComponentSource: body.ComponentSource, Payload: body.Payload, ContentType: body.ContentType,
	})
	if err != nil {
		s.refusePublish(c, err)
		return
	}
	status := http.StatusAccepted
	if res.Duplicate {
		status = http.StatusOK
		s.metrics.publish.duplicates.Inc()
	} else {
		s.metrics.publish.accepted.Inc()
	}
	c.JSON(status, publishAnswer{ID: res.ID, Duplicate: res.Duplicate, Topic: res.Topic, Type: res.Type, Principal: res.Principal})
}

// refusePublish answers a publish the publisher refused with err.
func (s *Server) refusePublish(c *gin.Context, err error) {
	var verr notifyd.ValidationError
	isValidation := errors.As(err, &verr)
	switch {
	case isValidation && errors.Is(err, engine.ErrUnsupportedPayload):
		s.rejectPing(c, rejectPayloadType)
		writeProblem(c, Problem{Type: ProblemUnsupportedMediaType, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "notifyd reads text/calendar and text/xml payloads; nothing was recorded.", Errors: verr})
	case isValidation && errors.Is(err, engine.ErrUnknownCalendar):
		s.rejectPing(c, rejectUnknownCalendar)
		writeProblem(c, Problem{Type: ProblemUnknownCalendar, Title: "Unknown calendar", Status: http.StatusUnprocessableEntity,
			Detail: "notifyd cannot tell whom the event is for; nothing was recorded.", Errors: verr})
	case isValidation:
		reason := rejectInvalid
		for _, fe := range verr {
			switch {
			case fe.Field == "/topic":
				reason = rejectBadTopic
			case fe.Field == "/payload" && reason == rejectInvalid:
				reason = rejectBadPayload
			}
		}
		s.rejectPing(c, reason)
		badRequest(c, "The event is not valid; see errors. Nothing was recorded.", verr...)
	default:
		s.pingUnavailable(c, err)
	}
}

// validatedPublish takes the event from the value the contract validator
// decoded (every member a string, no other member), saving a second
// decoding of the body.
func validatedPublish(c *gin.Context) (publishBody, bool) {
	m, ok := c.Value(ctxValidated).(map[string]any)
	if !ok {
		return publishBody{}, false
	}
	var b publishBody
	for name, dst := range map[string]*string{
		"system": &b.System, "token": &b.Token, "topic": &b.Topic, "principal": &b.Principal, "calid": &b.CalID,
		"uid": &b.UID, "rid": &b.RID, "aid": &b.AID, "comptype": &b.CompType, "triggered_by": &b.TriggeredBy,
		"component_source": &b.ComponentSource, "payload": &b.Payload, "content_type": &b.ContentType,
	} {
		v, present := m[name]
		if !present {
			continue
		}
		if *dst, ok = v.(string); !ok {
			return publishBody{}, false
		}
	}
	return b, true
}

// countPublishes counts every answer to a publish: accepted, duplicate
// (counted by the handler) or refused by reason, including refusals of
// the contract validator before the handler ran.
func (s *Server) countPublishes() gin.HandlerFunc {
	byProblem := map[string]string{
		ProblemMalformedJSON: rejectMalformed, ProblemValidation: rejectInvalid, ProblemBodyTooLarge: rejectTooLarge,
		ProblemUnsupportedMediaType: rejectMediaType, ProblemUnavailable: rejectUnavailable,
	}
	return func(c *gin.Context) {
		c.Next()
		if st := c.Writer.Status(); st == http.StatusAccepted || st == http.StatusOK {
			return
		}
		reason := c.GetString(ctxRejectReason)
		if reason == "" {
			reason = byProblem[c.GetString(ctxProblem)]
		}
		if reason == "" {
			reason = rejectInvalid
		}
		s.metrics.publish.rejected.WithLabelValues(reason).Inc()
	}
}
