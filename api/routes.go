package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Route is one endpoint of the HTTP API and the permission an API key
// needs for it.
type Route struct {
	Method, Path string
	// Permission is what the role of the request's API key must grant;
	// nil for the endpoints that take no API key: those of calendar
	// systems (system tokens), of Twilio (signed callbacks), of
	// recipients (signed links), and the operations endpoints.
	Permission *Permission
}

// routeOf is a Route with its handlers.
type routeOf struct {
	Route
	handlers []gin.HandlerFunc
}

func perm(a Access, r Resource) *Permission { return &Permission{Access: a, Resource: r} }

// intakeRoutes are the routes of calendar systems, which authenticate
// with system tokens in the contract validator (server.go).
var intakeRoutes = []Route{
	{Method: http.MethodPost, Path: "/v1/notifications"},
	{Method: http.MethodPost, Path: "/v1/events"},
}

// metricsRoute is served by Prometheus' handler, without a key.
var metricsRoute = Route{Method: http.MethodGet, Path: "/metrics"}

// Routes lists every endpoint the server serves, with its permission.
func Routes() []Route {
	out := append([]Route(nil), intakeRoutes...)
	for _, r := range (&Server{}).routeTable(Options{}) {
		out = append(out, r.Route)
	}
	return append(out, metricsRoute)
}

// routeTable is every route taking a key or none, but the intake's and
// /metrics, with its handlers (not to be called when s is a zero Server:
// Routes only reads the table).
func (s *Server) routeTable(o Options) []routeOf {
	r := func(method, path string, p *Permission, h ...gin.HandlerFunc) routeOf {
		return routeOf{Route{Method: method, Path: path, Permission: p}, h}
	}
	const (
		subs     = ResourceSubscriptions
		dead     = ResourceDeadLetters
		links    = ResourcePreferenceLinks
		get      = http.MethodGet
		post     = http.MethodPost
		put      = http.MethodPut
		patch    = http.MethodPatch
		del      = http.MethodDelete
		subsPath = "/v1/subscriptions"
	)
	return []routeOf{
		r(post, subsPath, perm(Write, subs), s.createSubscription),
		r(get, subsPath, perm(Read, subs), s.listSubscriptions),
		r(get, subsPath+"/:id", perm(Read, subs), s.getSubscription),
		r(put, subsPath+"/:id", perm(Write, subs), s.replaceSubscription),
		r(patch, subsPath+"/:id", perm(Write, subs), s.patchSubscription),
		r(del, subsPath+"/:id", perm(Write, subs), s.deleteSubscription),
		r(get, "/v1/deliveries", perm(Read, ResourceDeliveries), s.listDeliveries),
		r(get, "/v1/dead-letters", perm(Read, dead), s.listDeadLetters),
		r(post, "/v1/dead-letters/:id/retry", perm(Write, dead), s.retryDeadLetter),
		r(del, "/v1/dead-letters/:id", perm(Write, dead), s.discardDeadLetter),
		r(get, "/v1/dead-notifications", perm(Read, dead), s.listDeadNotifications),
		r(post, "/v1/dead-notifications/:id/retry", perm(Write, dead), s.retryDeadNotification),
		r(del, "/v1/dead-notifications/:id", perm(Write, dead), s.discardDeadNotification),
		r(get, "/v1/reminders", perm(Read, ResourceReminders), s.listReminders),
		r(get, "/v1/audit", perm(Read, ResourceAudit), s.listAudit),
		r(get, "/v1/suppressions", perm(Read, ResourceSuppressions), s.listSuppressions),
		r(post, "/v1/suppressions", perm(Write, ResourceSuppressions), s.addSuppression),
		r(del, "/v1/suppressions/:channel/:address", perm(Write, ResourceSuppressions), s.removeSuppression),
		r(get, "/v1/unsubscribe/:token", nil, s.unsubscribePage),
		r(post, "/v1/unsubscribe/:token", nil, s.unsubscribe),
		r(post, subsPath+"/:id/preference-links", perm(Write, links), s.issuePreferenceLink),
		r(post, subsPath+"/:id/preference-links/revoke", perm(Write, links), s.revokePreferenceLinks),
		r(get, "/preferences/:token", nil, s.preferencePage),
		r(post, "/preferences/:token", nil, s.postPreferences),
		r(get, "/assets/preferences.css", nil, s.preferenceCSS),
		r(post, "/v1/callbacks/twilio", nil, s.verifyTwilio(o.TwilioCallbacks, o.MaxBodyBytes), s.twilioCallback(o.TwilioCallbacks)),
		r(get, "/healthz", nil, s.healthz),
		r(get, "/readyz", nil, s.readyz),
		r(get, "/openapi.yaml", nil, s.openapi),
	}
}
