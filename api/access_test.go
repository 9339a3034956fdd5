package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/store"
)

// The scopes of the role keys: every system, sysCal only (where the
// resources of TestAccess are: "in"), sysOther only ("out").
var keyScopes = map[string][]string{"all": nil, "in": {sysCal}, "out": {sysOther}}

var roles = []api.Role{api.RoleAdmin, api.RoleOperator, api.RoleViewer}

// roleKey is the secret of the harness key of role and scope.
func roleKey(role api.Role, scope string) string {
	return string(role) + "-" + scope + "-key-0123456789"
}

// roleKeys are the harness's keys of every role and scope, named
// "<role>-<scope>".
var roleKeys = func() []api.Key {
	var out []api.Key
	for _, r := range roles {
		for _, scope := range []string{"all", "in", "out"} {
			out = append(out, api.Key{Name: string(r) + "-" + scope, Secret: roleKey(r, scope), Role: r, Systems: keyScopes[scope]})
		}
	}
	return out
}()

// accessFixture is what one request of TestAccess acts on: resources of
// sysCal, fresh for each request (a write consumes them).
type accessFixture struct {
	sub   subscription
	dead  string // a failed delivery
	deadN string // a dead notification
	supp  string // a suppressed email address
}

// accessCase is how TestAccess calls one operation of openapi.yaml.
type accessCase struct {
	// perm is the permission the route needs; nil: the route takes no
	// API key (TestAccess checks only that Routes says so).
	perm *api.Permission
	// list: a listing, which filters to the key's systems (200) rather
	// than answering 404.
	list bool
	// global: the resource is of no system (its items have none).
	global bool
	req    func(fx accessFixture) request
	// ok is the status of an allowed, in-scope request.
	ok int
}

func p(a api.Access, r api.Resource) *api.Permission { return &api.Permission{Access: a, Resource: r} }

// accessCases names every operation of openapi.yaml: a new endpoint
// without an entry fails TestAccess.
var accessCases = map[string]accessCase{
	"POST /v1/subscriptions": {perm: p(api.Write, api.ResourceSubscriptions), ok: 201, req: func(accessFixture) request {
		return request{method: "POST", path: "/v1/subscriptions", body: jsonReader(simpleSub(sysCal, "/principals/users/new"))}
	}},
	"GET /v1/subscriptions": {perm: p(api.Read, api.ResourceSubscriptions), list: true, ok: 200, req: get("/v1/subscriptions")},
	"GET /v1/subscriptions/{id}": {perm: p(api.Read, api.ResourceSubscriptions), ok: 200, req: func(fx accessFixture) request {
		return request{method: "GET", path: "/v1/subscriptions/" + fx.sub.ID}
	}},
	"PUT /v1/subscriptions/{id}": {perm: p(api.Write, api.ResourceSubscriptions), ok: 200, req: func(fx accessFixture) request {
		return request{method: "PUT", path: "/v1/subscriptions/" + fx.sub.ID, body: jsonReader(simpleSub(sysCal, fx.sub.Principal))}
	}},
	"PATCH /v1/subscriptions/{id}": {perm: p(api.Write, api.ResourceSubscriptions), ok: 200, req: func(fx accessFixture) request {
		return request{method: "PATCH", path: "/v1/subscriptions/" + fx.sub.ID, body: strings.NewReader(`{"enabled":false}`),
			contentType: "application/merge-patch+json"}
	}},
	"DELETE /v1/subscriptions/{id}": {perm: p(api.Write, api.ResourceSubscriptions), ok: 204, req: func(fx accessFixture) request {
		return request{method: "DELETE", path: "/v1/subscriptions/" + fx.sub.ID}
	}},
	"GET /v1/deliveries":         {perm: p(api.Read, api.ResourceDeliveries), list: true, ok: 200, req: get("/v1/deliveries")},
	"GET /v1/dead-letters":       {perm: p(api.Read, api.ResourceDeadLetters), list: true, ok: 200, req: get("/v1/dead-letters")},
	"GET /v1/dead-notifications": {perm: p(api.Read, api.ResourceDeadLetters), list: true, ok: 200, req: get("/v1/dead-notifications")},
	"GET /v1/reminders":          {perm: p(api.Read, api.ResourceReminders), list: true, ok: 200, req: get("/v1/reminders")},
	"GET /v1/audit":              {perm: p(api.Read, api.ResourceAudit), list: true, ok: 200, req: get("/v1/audit")},
	// The suppression list is of no system: scoped keys get 403 (Allows).
	"GET /v1/suppressions": {perm: p(api.Read, api.ResourceSuppressions), list: true, global: true, ok: 200, req: get("/v1/suppressions")},
	"POST /v1/suppressions": {perm: p(api.Write, api.ResourceSuppressions), ok: 201, req: func(fx accessFixture) request {
		return request{method: "POST", path: "/v1/suppressions", body: strings.NewReader(`{"channel":"email","address":"new-` + fx.supp + `"}`)}
	}},
	"DELETE /v1/suppressions/{channel}/{address}": {perm: p(api.Write, api.ResourceSuppressions), ok: 204, req: func(fx accessFixture) request {
		return request{method: "DELETE", path: "/v1/suppressions/email/" + fx.supp}
	}},
	"POST /v1/dead-letters/{id}/retry": {perm: p(api.Write, api.ResourceDeadLetters), ok: 202, req: func(fx accessFixture) request {
		return request{method: "POST", path: "/v1/dead-letters/" + fx.dead + "/retry"}
	}},
	"DELETE /v1/dead-letters/{id}": {perm: p(api.Write, api.ResourceDeadLetters), ok: 204, req: func(fx accessFixture) request {
		return request{method: "DELETE", path: "/v1/dead-letters/" + fx.dead}
	}},
	"POST /v1/dead-notifications/{id}/retry": {perm: p(api.Write, api.ResourceDeadLetters), ok: 202, req: func(fx accessFixture) request {
		return request{method: "POST", path: "/v1/dead-notifications/" + fx.deadN + "/retry"}
	}},
	"DELETE /v1/dead-notifications/{id}": {perm: p(api.Write, api.ResourceDeadLetters), ok: 204, req: func(fx accessFixture) request {
		return request{method: "DELETE", path: "/v1/dead-notifications/" + fx.deadN}
	}},
	"POST /v1/subscriptions/{id}/preference-links": {perm: p(api.Write, api.ResourcePreferenceLinks), ok: 201, req: func(fx accessFixture) request {
		return request{method: "POST", path: "/v1/subscriptions/" + fx.sub.ID + "/preference-links"}
	}},
	"POST /v1/subscriptions/{id}/preference-links/revoke": {perm: p(api.Write, api.ResourcePreferenceLinks), ok: 200, req: func(fx accessFixture) request {
		return request{method: "POST", path: "/v1/subscriptions/" + fx.sub.ID + "/preference-links/revoke"}
	}},
	// No API key: system tokens, Twilio's signature, signed links, and
	// the operations endpoints.
	"POST /v1/notifications":       {},
	"POST /v1/events":              {},
	"GET /v1/unsubscribe/{token}":  {},
	"POST /v1/unsubscribe/{token}": {},
	"POST /v1/callbacks/twilio":    {},
	"GET /preferences/{token}":     {},
	"POST /preferences/{token}":    {},
	"GET /assets/preferences.css":  {},
	"GET /healthz":                 {},
	"GET /readyz":                  {},
	"GET /metrics":                 {},
	"GET /openapi.yaml":            {},
}

// seedSuppression suppresses the email address addr and returns it.
func (h *harness) seedSuppression(t *testing.T, addr string) string {
	t.Helper()
	if _, _, err := h.db.AddSuppression(context.Background(), store.Suppression{Channel: "email", Address: addr,
		Reason: store.SuppressHardBounce}); err != nil {
		t.Fatal(err)
	}
	return addr
}

func get(path string) func(accessFixture) request {
	return func(accessFixture) request { return request{method: "GET", path: path} }
}

func jsonReader(v any) *strings.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return strings.NewReader(string(b))
}

// seedFailed stores, as the engine does, a notification of system with
// one delivery that failed, and returns the delivery's ID.
func (h *harness) seedFailed(t *testing.T, system, name string) string {
	t.Helper()
	ctx := context.Background()
	nid := digestID("access", name)
	id := digestID("access", name, "email")
	now := time.Now().UTC()
	rec := store.SyncRecord{System: system, Principal: alice, Token: "tok", Now: now,
		Notifications: []store.NotificationRecord{{ID: nid, Href: alice + "/notifications/" + name + ".xml", ETag: `"1"`, Type: "reminder", Parsed: []byte("{}")}},
		Deliveries: []store.DeliveryRecord{{ID: id, NotificationID: nid, SubscriptionID: "0190a3c4-0000-7000-8000-000000000001",
			MethodID: "m_" + digestID("email", name)[:16], Channel: "email", Address: "x@example.org"}}}
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := store.RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		_, err := store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: id, Status: store.DeliveryFailed,
			Error: "550 5.1.1 no such user", Now: now.Add(time.Millisecond)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAccess calls every operation of openapi.yaml with every role's key,
// unscoped, scoped to the resource's system and scoped to another, and
// checks the exact status: 403 when the role does not grant the
// permission, 404 (a listing: only the key's systems) when the resource
// is of another system, the operation's success otherwise; and 401
// without a key or with a wrong one.
func TestAccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	doc, _ := spec()
	routes := map[string]api.Route{}
	for _, r := range api.Routes() {
		routes[r.Method+" "+openapiPath(r.Path)] = r
	}
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	if len(routes) != len(ops) {
		t.Errorf("api.Routes has %d routes, openapi.yaml %d operations", len(routes), len(ops))
	}

	// Listings have something of both systems to show (or hide).
	h.seedDeadLetters(t, deadSpec)
	h.seedDeadNotifications(t, [][2]string{{sysCal, alice}, {sysOther, alice}})
	h.seedReminders(t)
	h.create(t, simpleSub(sysOther, alice))
	var n atomic.Int64
	fixture := func(t *testing.T) accessFixture {
		i := n.Add(1)
		return accessFixture{
			sub:   h.create(t, simpleSub(sysCal, fmt.Sprintf("/principals/users/u%d", i))),
			dead:  h.seedFailed(t, sysCal, fmt.Sprintf("f%d", i)),
			deadN: h.seedDeadNotification(t, sysCal, fmt.Sprintf("dn%d", i)),
			supp:  h.seedSuppression(t, fmt.Sprintf("s%d@example.org", i)),
		}
	}

	for _, op := range ops {
		c, ok := accessCases[op]
		if !ok {
			t.Errorf("%s: not in accessCases; say which permission it needs", op)
			continue
		}
		r, ok := routes[op]
		if !ok {
			t.Errorf("%s: not in api.Routes", op)
			continue
		}
		if (r.Permission == nil) != (c.perm == nil) || (c.perm != nil && *r.Permission != *c.perm) {
			t.Errorf("%s: route needs %v, want %v", op, r.Permission, c.perm)
			continue
		}
		if c.perm == nil {
			continue
		}
		t.Run(op, func(t *testing.T) {
			for _, bearer := range []string{"", "not-a-key-0123456789"} {
				req := c.req(fixture(t))
				req.bearer = bearer
				if res := h.do(t, req); res.status != http.StatusUnauthorized {
					t.Errorf("key %q: %d, want 401", bearer, res.status)
				}
			}
			for _, role := range roles {
				for _, scope := range []string{"all", "in", "out"} {
					actor := api.Actor{Role: role, Systems: keyScopes[scope]}
					want := c.ok
					switch {
					case !actor.Allows(*c.perm):
						want = http.StatusForbidden
					case scope == "out" && !c.list:
						want = http.StatusNotFound
					}
					req := c.req(fixture(t))
					req.bearer = roleKey(role, scope)
					res := h.do(t, req)
					if res.status != want {
						t.Errorf("%s key scoped %s: %d, want %d: %.300s", role, scope, res.status, want, res.body)
						continue
					}
					if c.list && !c.global && want == http.StatusOK {
						checkListScope(t, res, actor, role, scope)
					}
				}
			}
		})
	}
}

// checkListScope checks that a listing shows items of the key's systems
// only, and (unscoped) of both systems.
func checkListScope(t *testing.T, res response, a api.Actor, role api.Role, scope string) {
	t.Helper()
	var page struct {
		Items []struct {
			System string `json:"system"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range page.Items {
		seen[it.System] = true
		if !a.Sees(it.System) {
			t.Errorf("%s key scoped %s lists an item of %s", role, scope, it.System)
		}
	}
	if scope == "all" && len(page.Items) > 0 && !(seen[sysCal] && seen[sysOther]) {
		t.Errorf("%s key of every system lists the systems %v only", role, seen)
	}
}

// openapiPath is a gin route path as openapi.yaml writes it.
func openapiPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestActorCan checks the role matrix the docs give.
func TestActorCan(t *testing.T) {
	t.Parallel()
	writes := map[api.Role][]api.Resource{
		api.RoleAdmin:    {api.ResourceSubscriptions, api.ResourceDeliveries, api.ResourceDeadLetters, api.ResourceReminders, api.ResourcePreferenceLinks, api.ResourceAudit},
		api.RoleOperator: {api.ResourceSubscriptions, api.ResourceDeadLetters, api.ResourcePreferenceLinks},
	}
	all := []api.Resource{api.ResourceSubscriptions, api.ResourceDeliveries, api.ResourceDeadLetters, api.ResourceReminders, api.ResourcePreferenceLinks, api.ResourceAudit}
	for _, role := range roles {
		a := api.Actor{Name: "k", Role: role, Systems: []string{"campus"}}
		for _, r := range all {
			if !a.Can(api.Permission{Access: api.Read, Resource: r}, "campus") {
				t.Errorf("%s cannot read %s", role, r)
			}
			if got, want := a.Can(api.Permission{Access: api.Write, Resource: r}, "campus"), slices.Contains(writes[role], r); got != want {
				t.Errorf("%s write %s: %v, want %v", role, r, got, want)
			}
			if a.Can(api.Permission{Access: api.Read, Resource: r}, "hospital") {
				t.Errorf("%s scoped to campus reads %s of hospital", role, r)
			}
		}
	}
	if (api.Actor{Name: "x", Role: "root"}).Allows(api.Permission{Access: api.Read, Resource: api.ResourceAudit}) {
		t.Error("an unknown role reads")
	}
}
