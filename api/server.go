// Package api is notifyd's HTTP interface: the ping intake of calendar
// systems, the subscriptions REST API of operators and integrators, and
// the operations endpoints. Every request is validated against
// openapi.yaml before a handler sees it, and every error is an RFC 9457
// problem.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/subscriptions"
)

// Intake durably queues pinged principals, and the calendar syncs of the
// owners of pinged calendars; engine.Intake implements it.
type Intake interface {
	// CalendarPaths returns the calendars of system a ping may name (nil
	// when none may): see engine.Intake.CalendarPaths.
	CalendarPaths(ctx context.Context, system string, fresh bool) (*engine.CalendarPaths, error)
	// EnqueuePing queues the syncs of principals' notifications and of
	// calendarOwners' calendars.
	EnqueuePing(ctx context.Context, system string, principals, calendarOwners []string) (engine.IntakeResult, error)
}

// System is a calendar system as the API needs it.
type System struct {
	// Name is the system's name, the "system" member of its pings.
	Name string
	// Tokens are its accepted ping tokens.
	Tokens []string
	// PrincipalPrefix, if set, is the path every pinged href must be under.
	PrincipalPrefix string
}

// ReadyCheck is one readiness condition.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// Options are what the server is built from.
type Options struct {
	Systems []System
	// Keys are the API keys; nil: the admin keys of APIKeys (LegacyKeys).
	// Replacing the keyring's keys rotates them while the server runs.
	Keys *Keyring
	// APIKeys are admin keys of every system, named key-1, key-2...
	// (the keys of the api_keys setting), used when Keys is nil.
	APIKeys      []string
	MaxBodyBytes int64
	Intake       Intake
	// Publisher records the events calendar servers publish (POST
	// /v1/events); nil answers them 503.
	Publisher     Publisher
	Subscriptions *subscriptions.Service
	// Deliveries serves the delivery log; Unsubscriber checks the tokens
	// of unsubscribe links.
	Deliveries DeliveryLog
	// DeadLetterLog lists and discards failed deliveries; DeadLetters
	// retries them (nil in a process without the engine: retries are
	// then unavailable).
	DeadLetterLog DeadLetterLog
	DeadLetters   DeadLetters
	Unsubscriber  *subscriptions.Unsubscriber
	// PreferencePage serves the preference page and its links; nil: none
	// (the page answers that its links are not valid).
	PreferencePage *PreferencePage
	// Reminders lists the alarm instances (GET /v1/reminders).
	Reminders ReminderLog
	// Audit lists the audit trail (GET /v1/audit) and records the
	// actions that change nothing else (issuing a preference link).
	Audit AuditLog
	// Suppressions is the suppression list (/v1/suppressions); nil
	// answers it 503.
	Suppressions SuppressionList
	// TwilioCallbacks checks and records Twilio's SMS status callbacks
	// (POST /v1/callbacks/twilio).
	TwilioCallbacks TwilioCallbacks
	Ready           []ReadyCheck
	// Gatherer serves /metrics; Metrics must be registered with it.
	Gatherer prometheus.Gatherer
	Metrics  *Metrics
	Logger   *slog.Logger
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For and X-Real-IP name the client; none by default.
	TrustedProxies []string
}

// Server is the HTTP API.
type Server struct {
	engine      *gin.Engine
	log         *slog.Logger
	metrics     *Metrics
	ids         *requestIDs
	systems     map[string]apiSystem
	keys        *Keyring
	intake      Intake
	publisher   Publisher
	subs        *subscriptions.Service
	deliveries  DeliveryLog
	deadLog     DeadLetterLog
	deadLetters DeadLetters
	reminders   ReminderLog
	audit       AuditLog
	// suppressions is the suppression list.
	suppressions SuppressionList
	unsub        *subscriptions.Unsubscriber
	pref         *PreferencePage
	ready        []ReadyCheck
}

type apiSystem struct {
	tokens          secretSet
	principalPrefix string
}

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	ct, err := loadContract()
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	keys := o.Keys
	if keys == nil {
		if keys, err = NewKeyring(LegacyKeys(o.APIKeys)); err != nil {
			return nil, fmt.Errorf("api_keys: %w", err)
		}
	}
	s := &Server{
		engine: gin.New(), log: o.Logger, metrics: o.Metrics, ids: newRequestIDs(),
		systems: make(map[string]apiSystem, len(o.Systems)), keys: keys, audit: o.Audit, suppressions: o.Suppressions,
		intake: o.Intake, publisher: o.Publisher, subs: o.Subscriptions, deliveries: o.Deliveries,
		deadLog: o.DeadLetterLog, deadLetters: o.DeadLetters, reminders: o.Reminders, unsub: o.Unsubscriber, pref: o.PreferencePage, ready: o.Ready,
	}
	for _, sys := range o.Systems {
		s.systems[sys.Name] = apiSystem{tokens: newSecretSet(sys.Tokens), principalPrefix: sys.PrincipalPrefix}
	}
	e := s.engine
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false // the contract has no redirects: 404 problem instead
	e.ContextWithFallback = true
	// Without trusted proxies, the client is the connection's peer: any
	// caller could otherwise choose the address logged as "remote".
	if err := e.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	e.Use(s.observe(), securityHeaders)
	e.NoRoute(func(c *gin.Context) {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "No such endpoint; see /openapi.yaml."})
	})
	e.NoMethod(func(c *gin.Context) {
		writeProblem(c, Problem{Type: ProblemMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
			Detail: "This endpoint does not take that method; see /openapi.yaml."})
	})

	// route registers a handler behind the contract validator.
	route := func(method, path string, authenticate gin.HandlerFunc, handlers ...gin.HandlerFunc) error {
		r, err := ct.route(method, path)
		if err != nil {
			return err
		}
		n := len(handlers)
		chain := append(append(handlers[:n-1:n-1], ct.validator(r, o.MaxBodyBytes, authenticate)), handlers[n-1])
		e.Handle(method, path, chain...)
		return nil
	}
	// A ping carries its credentials in its body: they are checked before
	// the rest of the body is validated.
	if err := route(http.MethodPost, "/v1/notifications", ct.authenticatePing(s), s.countPings(), s.postPing); err != nil {
		return nil, fmt.Errorf("route POST /v1/notifications: %w", err)
	}
	if err := route(http.MethodPost, "/v1/events", ct.authenticateSystem(s, "PublishedEvent", "event"), s.countPublishes(), s.postPublish); err != nil {
		return nil, fmt.Errorf("route POST /v1/events: %w", err)
	}
	for _, r := range s.routeTable(o) {
		handlers := r.handlers
		if r.Permission != nil {
			handlers = append([]gin.HandlerFunc{s.authorize(*r.Permission)}, handlers...)
		}
		if err := route(r.Method, r.Path, nil, handlers...); err != nil {
			return nil, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
	}
	metrics := promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{})
	if _, err := ct.route(http.MethodGet, "/metrics"); err != nil {
		return nil, err
	}
	e.GET("/metrics", gin.WrapH(metrics))
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }
