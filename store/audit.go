package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/notifyd/notifyd"
)

// The audit trail: every change made through the API (and the console
// built on it) is recorded in the transaction of the change itself, so a
// change is never without its record nor a record without its change.
//
// Who made a change is request data: the API puts an Audit in the request
// context (WithAudit) once it has authenticated the request, and the
// store's writes of auditable resources (subscriptions, dead letters,
// preference link revocations) record it. A write without one is
// recorded as made by notifyd itself (ActorNotifyd): nothing that changes
// a subscription goes unrecorded.

// Actor kinds.
const (
	// ActorKindAPIKey: an API key (the actor's name is the key's name).
	ActorKindAPIKey = "api_key"
	// ActorKindRecipient: the recipient, through a signed link
	// (one-click unsubscribe, preference page).
	ActorKindRecipient = "recipient"
	// ActorKindNotifyd: notifyd itself, or a caller that named no actor.
	ActorKindNotifyd = "notifyd"
)

// AuditActor is who made a change.
type AuditActor struct {
	Kind, Name string
}

// Actors that are not API keys.
var (
	// ActorRecipient is the recipient of a signed link: the one-click
	// unsubscribe link and the preference page's link.
	ActorRecipient = AuditActor{Kind: ActorKindRecipient, Name: "recipient via signed link"}
	// ActorNotifyd is notifyd, for a write whose context names no actor.
	ActorNotifyd = AuditActor{Kind: ActorKindNotifyd, Name: "notifyd"}
)

// Audit actions.
const (
	ActionSubscriptionCreated      = "subscription.created"
	ActionSubscriptionUpdated      = "subscription.updated"
	ActionSubscriptionDeleted      = "subscription.deleted"
	ActionSubscriptionUnsubscribed = "subscription.unsubscribed"
	ActionDeadLetterRetried        = "dead_letter.retried"
	ActionDeadLetterDiscarded      = "dead_letter.discarded"
	ActionPreferenceLinkIssued     = "preference_link.issued"
	ActionPreferenceLinksRevoked   = "preference_links.revoked"
)

// Resource types of audit entries.
const (
	AuditSubscription = "subscription"
	AuditDelivery     = "delivery"
)

// Audit is who makes the changes of a request, and optionally what
// they are called: Action, when set, replaces the default action of a
// subscription update (ActionSubscriptionUnsubscribed for a one-click
// unsubscribe).
type Audit struct {
	Actor  AuditActor
	Action string
}

type auditKey struct{}

// WithAudit returns ctx whose auditable writes record a.
func WithAudit(ctx context.Context, a Audit) context.Context {
	return context.WithValue(ctx, auditKey{}, a)
}

// auditOf returns the Audit of ctx, ActorNotifyd when it has none.
func auditOf(ctx context.Context) Audit {
	if a, ok := ctx.Value(auditKey{}).(Audit); ok {
		return a
	}
	return Audit{Actor: ActorNotifyd}
}

// AuditEntry is one recorded change.
type AuditEntry struct {
	ID string
	At time.Time
	// Actor is who made the change.
	Actor AuditActor
	// Action is what was done (Action* constants).
	Action string
	// ResourceType and ResourceID name what changed; System and Principal
	// are whose it is.
	ResourceType, ResourceID string
	System, Principal        string
	// Before and After are the resource as JSON before and after the
	// change (nil: it did not exist, or the action changes nothing
	// stored, such as issuing a preference link). Webhook secrets are
	// never in them: a method shows only whether it has one.
	Before, After json.RawMessage
}

// recordAudit inserts e in tx, giving it an ID and, if it has none, the
// time now.
func recordAudit(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	e.ID = uuid.Must(uuid.NewV7()).String()
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_kind, actor, action, resource_type, resource_id,
system, principal, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, micros(e.At), e.Actor.Kind, e.Actor.Name, e.Action, e.ResourceType, e.ResourceID, e.System, e.Principal,
		string(e.Before), string(e.After))
	return err
}

// RecordAudit records an action that changes nothing else stored (such
// as issuing a preference link), durably, as done by the actor of ctx.
func (db *DB) RecordAudit(ctx context.Context, e AuditEntry) error {
	e.Actor = auditOf(ctx).Actor
	return db.Write(ctx, Durable, func(tx *sql.Tx) error { return recordAudit(ctx, tx, e) })
}

// AuditFilter selects audit entries, oldest first. Empty fields match
// everything.
type AuditFilter struct {
	System string
	// Systems, if set, keeps the entries of these systems only (a scoped
	// API key's).
	Systems            []string
	Principal, Actor   string
	Action, ResourceID string
	From, To           time.Time
	AfterTime          time.Time
	AfterID            string
	Limit              int
}

// AuditEntries lists the audit entries matching f, oldest first.
func (db *DB) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var w filter
	w.eq("system", f.System)
	if len(f.Systems) > 0 {
		w.in("system", f.Systems)
	}
	w.eq("principal", f.Principal)
	w.eq("actor", f.Actor)
	w.eq("action", f.Action)
	w.eq("resource_id", f.ResourceID)
	if !f.From.IsZero() {
		w.conds = append(w.conds, "at >= "+w.param(micros(f.From)))
	}
	if !f.To.IsZero() {
		w.conds = append(w.conds, "at < "+w.param(micros(f.To)))
	}
	w.after("at", "id", f.AfterTime, f.AfterID)
	var out []AuditEntry
	err := db.each(ctx, `SELECT id, at, actor_kind, actor, action, resource_type, resource_id, system, principal,
before_json, after_json FROM audit_log`+w.where()+` ORDER BY at, id LIMIT `+w.param(f.Limit), w.args, func(r scanner) error {
		var e AuditEntry
		var at int64
		var before, after string
		if err := r.Scan(&e.ID, &at, &e.Actor.Kind, &e.Actor.Name, &e.Action, &e.ResourceType, &e.ResourceID,
			&e.System, &e.Principal, &before, &after); err != nil {
			return err
		}
		e.At = fromMicros(at)
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// auditSubscription is a subscription as the audit trail shows it: the
// API's view, without webhook secrets.
type auditSubscription struct {
	ID               string                     `json:"id"`
	System           string                     `json:"system"`
	Principal        string                     `json:"principal"`
	Enabled          bool                       `json:"enabled"`
	Types            []notifyd.NotificationType `json:"types"`
	Locale           string                     `json:"locale"`
	TimeZone         string                     `json:"time_zone"`
	Methods          []auditMethod              `json:"methods"`
	NotifyOwnChanges bool                       `json:"notify_own_changes"`
	Preferences      *notifyd.Preferences       `json:"preferences,omitempty"`
	Version          int64                      `json:"version"`
}

type auditMethod struct {
	ID        string                     `json:"id"`
	Channel   notifyd.Channel            `json:"channel"`
	Address   string                     `json:"address"`
	Types     []notifyd.NotificationType `json:"types"`
	Enabled   bool                       `json:"enabled"`
	Presence  string                     `json:"presence,omitempty"`
	SecretSet bool                       `json:"secret_set,omitempty"`
}

// subscriptionJSON is s as an audit entry's before or after.
func subscriptionJSON(s *notifyd.Subscription) json.RawMessage {
	if s == nil {
		return nil
	}
	v := auditSubscription{ID: s.ID, System: s.System, Principal: s.Principal, Enabled: s.Enabled, Types: s.Types,
		Locale: s.Locale, TimeZone: s.TimeZone, Methods: make([]auditMethod, len(s.Methods)),
		NotifyOwnChanges: s.NotifyOwnChanges, Preferences: s.Preferences, Version: s.Version}
	if v.Types == nil {
		v.Types = []notifyd.NotificationType{}
	}
	for i, m := range s.Methods {
		v.Methods[i] = auditMethod{ID: m.ID, Channel: m.Channel, Address: m.Address, Types: m.Types, Enabled: m.Enabled,
			Presence: m.Presence, SecretSet: m.Secret != ""}
		if v.Methods[i].Types == nil {
			v.Methods[i].Types = []notifyd.NotificationType{}
		}
	}
	b, _ := json.Marshal(v) // a struct of plain fields: cannot fail
	return b
}

// auditSubscriptionChange records the change of a subscription from
// before to after (either nil) in tx, as action unless ctx names another.
func auditSubscriptionChange(ctx context.Context, tx *sql.Tx, action string, before, after *notifyd.Subscription, at time.Time) error {
	a := auditOf(ctx)
	if a.Action != "" && action == ActionSubscriptionUpdated {
		action = a.Action
	}
	s := after
	if s == nil {
		s = before
	}
	return recordAudit(ctx, tx, AuditEntry{At: at, Actor: a.Actor, Action: action, ResourceType: AuditSubscription,
		ResourceID: s.ID, System: s.System, Principal: s.Principal,
		Before: subscriptionJSON(before), After: subscriptionJSON(after)})
}

// deliveryJSON is a delivery's state as an audit entry shows it.
func deliveryJSON(status string, attempts int) json.RawMessage {
	b, _ := json.Marshal(struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}{status, attempts})
	return b
}

// auditDeadLetter records in tx that the failed delivery id was moved to
// status (queued: retried; discarded) at now.
func auditDeadLetter(ctx context.Context, tx *sql.Tx, id, status string, now time.Time) error {
	var system, principal string
	var attempts int
	if err := tx.QueryRowContext(ctx, `SELECT system, principal, attempts FROM deliveries WHERE id = $1`, id).
		Scan(&system, &principal, &attempts); err != nil {
		return err
	}
	action := ActionDeadLetterDiscarded
	if status == DeliveryQueued {
		action = ActionDeadLetterRetried
	}
	return recordAudit(ctx, tx, AuditEntry{At: now, Actor: auditOf(ctx).Actor, Action: action, ResourceType: AuditDelivery,
		ResourceID: id, System: system, Principal: principal,
		Before: deliveryJSON(DeliveryFailed, attempts), After: deliveryJSON(status, attempts)})
}
