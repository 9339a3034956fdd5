// Package console is notifyd's operator console, served under /console/:
// server-rendered pages (html/template, a strict Content-Security-Policy,
// English and French) where an operator signed in with an API key finds
// a delivery and reads the message as its recipient saw it, retries or
// discards dead letters, edits subscriptions, keeps the suppression list
// and sees each system's health. Every page works without JavaScript; what the role of the key
// does not allow is refused by the server, not only hidden.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// Role is what an identity may do in the console.
type Role string

// The roles of API keys, as the console honours them.
const (
	// RoleAdmin and RoleOperator may change things: retry and discard
	// dead letters, edit subscriptions, add to and remove from the
	// suppression list.
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	// RoleViewer sees everything in its scope and changes nothing.
	RoleViewer Role = "viewer"
)

// Identity is who signed in: the API key's name (never its secret), its
// role and the systems it is scoped to.
type Identity struct {
	Name string
	Role Role
	// Systems scope the identity; none: every system.
	Systems []string
}

// Sees reports whether system is in the identity's scope.
func (i Identity) Sees(system string) bool {
	return len(i.Systems) == 0 || slices.Contains(i.Systems, system)
}

// CanChange reports whether the identity's role may change things.
func (i Identity) CanChange() bool { return i.Role == RoleAdmin || i.Role == RoleOperator }

// Store is what the console reads and changes in notifyd's database;
// store.DB implements it.
type Store interface {
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.DeliveryListItem, error)
	Delivery(ctx context.Context, id string) (*store.DeliveryRecord, error)
	DeliveryEvents(ctx context.Context, id string) ([]store.DeliveryEvent, error)
	Notification(ctx context.Context, id string) (*store.NotificationRecord, error)
	DeadLetters(ctx context.Context, f store.DeliveryFilter) ([]store.DeliveryListItem, error)
	DeadNotifications(ctx context.Context, f store.NotificationFilter) ([]store.NotificationRecord, error)
	DiscardDelivery(ctx context.Context, id string, now time.Time) error
	DiscardDeadNotification(ctx context.Context, id string, now time.Time) error
	SystemsHealth(ctx context.Context, since time.Time) ([]store.SystemHealth, error)
	SyncErrors(ctx context.Context, system string, limit int) ([]store.PrincipalState, error)
	DeliveryCounts(ctx context.Context, since time.Time) ([]store.DeliveryCount, error)
	OldestWaiting(ctx context.Context) (map[string]time.Time, error)
	Reminders(ctx context.Context, f store.ReminderFilter) ([]store.ReminderRecord, error)
	Suppressions(ctx context.Context, f store.SuppressionFilter) ([]store.Suppression, error)
	Suppressed(ctx context.Context, channel, address string) (*store.Suppression, error)
	AddSuppression(ctx context.Context, s store.Suppression) (*store.Suppression, bool, error)
	RemoveSuppression(ctx context.Context, channel notifyd.Channel, address string) (*store.Suppression, error)
}

// Retrier puts a failed delivery back in the queue, and has a dead
// notification fetched and read again; engine.Engine implements it (see
// api.DeadLetters).
type Retrier interface {
	RetryDelivery(ctx context.Context, id string) (*store.DeliveryRecord, error)
	RetryNotification(ctx context.Context, id string) (*store.NotificationRecord, error)
}

// Options configure the console.
type Options struct {
	// Authenticate returns the identity of an API key; false when the key
	// is not valid. It is called at sign-in and on every request after, so
	// a key removed or changed takes effect at once.
	Authenticate func(key string) (Identity, bool)
	// Audit, if set, returns the context a change is written with, so
	// that the store records who made it; it is called before every
	// change.
	Audit func(ctx context.Context, who Identity) context.Context
	// Systems are the configured systems' names.
	Systems       []string
	Store         Store
	Subscriptions *subscriptions.Service
	// Retrier retries dead letters; nil in a process without the engine
	// (retries then answer that they are unavailable).
	Retrier Retrier
	// Backlog counts the outstanding work by kind (store.DB.Backlog); nil:
	// the health page leaves it out.
	Backlog func(ctx context.Context) (map[string]int64, error)
	// Previewer renders the messages as their recipients saw them.
	Previewer *Previewer
	// SessionKey encrypts and signs the session cookies (32 bytes; the
	// same on every replica).
	SessionKey []byte
	// Secure marks the cookies Secure (served over https).
	Secure bool
	// IdleTimeout and Lifetime end a session after so long without a
	// request, and so long after signing in.
	IdleTimeout, Lifetime time.Duration
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Console is the console's HTTP handler, to be mounted at /console/.
type Console struct {
	o        Options
	mux      *http.ServeMux
	sessions *sessions
	log      *slog.Logger
}

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed templates assets
var files embed.FS

// New builds the console.
func New(o Options) (*Console, error) {
	if o.Authenticate == nil || o.Store == nil || o.Subscriptions == nil {
		return nil, errors.New("console: Authenticate, Store and Subscriptions are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sess, err := newSessions(o.SessionKey, o.Secure, o.IdleTimeout, o.Lifetime)
	if err != nil {
		return nil, err
	}
	c := &Console{o: o, mux: http.NewServeMux(), sessions: sess, log: o.Logger}
	c.routes()
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// page is a handler of a signed-in request.
type page func(w http.ResponseWriter, r *http.Request, s *session)

func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /console/assets/{file}", c.asset)
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("GET /console/lang/{lang}", c.setLang)
	m.HandleFunc("POST /console/logout", c.signedIn(c.logout, true))
	m.HandleFunc("GET /console/{$}", c.signedIn(c.home, false))
	m.HandleFunc("GET /console/deliveries", c.signedIn(c.search, false))
	m.HandleFunc("GET /console/deliveries/{id}", c.signedIn(c.deliveryPage, false))
	m.HandleFunc("GET /console/deliveries/{id}/email.html", c.signedIn(c.emailFrame, false))
	m.HandleFunc("GET /console/dead-letters", c.signedIn(c.deadLetters, false))
	m.HandleFunc("POST /console/dead-letters", c.signedIn(c.deadLettersAction, true))
	m.HandleFunc("GET /console/dead-notifications", c.signedIn(c.deadNotifications, false))
	m.HandleFunc("POST /console/dead-notifications", c.signedIn(c.deadNotificationsAction, true))
	m.HandleFunc("GET /console/subscriptions", c.signedIn(c.subscriptionList, false))
	m.HandleFunc("GET /console/subscriptions/{id}", c.signedIn(c.subscriptionPage, false))
	m.HandleFunc("POST /console/subscriptions/{id}", c.signedIn(c.subscriptionSave, true))
	m.HandleFunc("GET /console/health", c.signedIn(c.health, false))
	m.HandleFunc("GET /console/suppressions", c.signedIn(c.suppressions, false))
	m.HandleFunc("POST /console/suppressions", c.signedIn(c.suppressionsAction, true))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.message(w, r, nil, http.StatusNotFound, "err.notfound")
	})
}

// parsed are the console's templates: one per page, each with the layout.
var parsed = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	pages, err := files.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	for _, p := range pages {
		name := p.Name()
		if name == "layout.html" || name == "partials.html" {
			continue
		}
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html",
			"templates/partials.html", "templates/"+name))
	}
	return out
}()
