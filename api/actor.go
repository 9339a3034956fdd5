package api

import (
	"context"
	"slices"

	"github.com/gin-gonic/gin"
)

// Role is what an API key may do, whatever the system: see Actor.Can.
type Role string

// The roles of API keys.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
	// RoleOperator reads everything and changes subscriptions, dead
	// letters (retry, discard), preference links (issue, revoke) and the
	// suppression list.
	RoleOperator Role = "operator"
	// RoleViewer reads everything and changes nothing.
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleViewer }

// Access is reading or changing.
type Access string

// The accesses of a Permission.
const (
	Read  Access = "read"
	Write Access = "write"
)

// Resource is what a permission is about.
type Resource string

// The resources of the REST API (and of the console built on it).
const (
	ResourceSubscriptions Resource = "subscriptions"
	ResourceDeliveries    Resource = "deliveries"
	// ResourceDeadLetters covers dead letters (failed deliveries) and dead
	// notifications: listing them, and retrying or discarding them.
	ResourceDeadLetters Resource = "dead_letters"
	ResourceReminders   Resource = "reminders"
	// ResourcePreferenceLinks is issuing and revoking the signed links of
	// a subscription's preference page (a link is a capability to change
	// the subscription, so issuing one is a write).
	ResourcePreferenceLinks Resource = "preference_links"
	ResourceAudit           Resource = "audit"
	// ResourceSuppressions is the suppression list: addresses not to send
	// to, whatever the system. It is global: keys scoped to systems may
	// neither read nor change it (see Allows).
	ResourceSuppressions Resource = "suppressions"
)

// globalResources are not of any system: a key scoped to systems is
// refused them (403), as a role that does not grant them is.
var globalResources = []Resource{ResourceSuppressions}

// Permission is an access to a resource: what a route needs.
type Permission struct {
	Access   Access
	Resource Resource
}

// String is "read subscriptions", "write dead_letters"...
func (p Permission) String() string { return string(p.Access) + " " + string(p.Resource) }

// roleWrites are the resources each role may change; every role reads
// every resource.
var roleWrites = map[Role][]Resource{
	RoleAdmin: {ResourceSubscriptions, ResourceDeliveries, ResourceDeadLetters, ResourceReminders, ResourcePreferenceLinks, ResourceAudit,
		ResourceSuppressions},
	RoleOperator: {ResourceSubscriptions, ResourceDeadLetters, ResourcePreferenceLinks, ResourceSuppressions},
	RoleViewer:   nil,
}

// Actor is who makes a request: the API key it authenticated with (its
// name, never its secret), the key's role and the systems it is scoped
// to. The REST API puts it in every authenticated request's context
// (ActorFrom); the audit trail records its Name.
//
// An actor's decisions are in two steps, and a route makes them in that
// order: Allows says whether the role grants a permission at all (no:
// 403, which tells nothing of any system); Sees says whether a system is
// in the key's scope (no: the resource is answered as missing, 404, so
// that a scoped key cannot tell another system's resources from
// nonexistent ones). Can is both.
type Actor struct {
	// Name is the key's name (configured, or key-1, key-2... for the keys
	// of api_keys): what the audit trail and the logs show.
	Name string
	Role Role
	// Systems are the systems the key is scoped to; none: every system.
	Systems []string
}

// Allows reports whether the actor's role grants p, in some system; a
// key scoped to systems is not allowed the global resources.
func (a Actor) Allows(p Permission) bool {
	if a.Scoped() && slices.Contains(globalResources, p.Resource) {
		return false
	}
	switch p.Access {
	case Read:
		return a.Role.Valid()
	case Write:
		return slices.Contains(roleWrites[a.Role], p.Resource)
	}
	return false
}

// Scoped reports whether the actor is limited to some systems.
func (a Actor) Scoped() bool { return len(a.Systems) > 0 }

// Sees reports whether system is in the actor's scope.
func (a Actor) Sees(system string) bool { return !a.Scoped() || slices.Contains(a.Systems, system) }

// Can reports whether the actor may exercise p on the resources of
// system.
func (a Actor) Can(p Permission, system string) bool { return a.Allows(p) && a.Sees(system) }

// SystemFilter turns the system a listing asks for (query "" for all)
// into what to list given the actor's scope: the one system to filter on
// (""), the systems to list (nil for all), and ok false when the listing
// is empty whatever is stored (a system out of scope, which an unscoped
// key would see as a system with nothing in it).
func (a Actor) SystemFilter(query string) (system string, systems []string, ok bool) {
	switch {
	case query != "":
		return query, nil, a.Sees(query)
	case a.Scoped():
		return "", a.Systems, true
	}
	return "", nil, true
}

// actorKey is the context key of the Actor.
type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of an authenticated request's context.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// actorOf is the actor of a request that passed authorize. A handler
// wired without authorize is a bug: it panics (a 500) rather than let an
// unauthenticated request see every system.
func actorOf(c *gin.Context) Actor {
	a, ok := ActorFrom(c.Request.Context())
	if !ok {
		panic("api: " + c.FullPath() + " is served without authorize")
	}
	return a
}
