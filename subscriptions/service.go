// Package subscriptions decides who wants which notifications and how: it
// validates and stores subscriptions (system, principal, wanted types,
// locale, time zone and delivery methods) and answers which delivery
// methods want a given notification.
package subscriptions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/notifyd/notifyd"
)

// Store keeps subscriptions. store.DB implements it.
type Store interface {
	CreateSubscription(ctx context.Context, s *notifyd.Subscription) error
	Subscription(ctx context.Context, id string) (*notifyd.Subscription, error)
	Subscriptions(ctx context.Context, f notifyd.SubscriptionFilter) ([]*notifyd.Subscription, error)
	UpdateSubscription(ctx context.Context, s *notifyd.Subscription, ifVersion int64) error
	DeleteSubscription(ctx context.Context, id string, ifVersion int64) error
}

// Input is a subscription as a client writes it (create and replace).
type Input struct {
	System    string                     `json:"system"`
	Principal string                     `json:"principal"`
	Enabled   *bool                      `json:"enabled"`
	Types     []notifyd.NotificationType `json:"types"`
	Locale    string                     `json:"locale"`
	TimeZone  string                     `json:"time_zone"`
	Methods   []MethodInput              `json:"methods"`
	// NotifyOwnChanges, when true, sends the principal the changes it
	// made itself too; left out, false.
	NotifyOwnChanges *bool `json:"notify_own_changes"`
	// Preferences say when to deliver (see notifyd.Preferences); nil or
	// empty: everything at once, to every method.
	Preferences *notifyd.Preferences `json:"preferences"`
}

// MethodInput is a delivery method as a client writes it.
type MethodInput struct {
	Channel  notifyd.Channel            `json:"channel"`
	Address  string                     `json:"address"`
	Types    []notifyd.NotificationType `json:"types"`
	Enabled  *bool                      `json:"enabled"`
	Presence string                     `json:"presence"`
	// Secret is the webhook method's signing secret when the client
	// chooses it; left out, a new method gets one notifyd makes and an
	// existing one keeps its own.
	Secret string `json:"secret"`
	// RotateSecret has notifyd make a new secret for an existing webhook
	// method (see SecretRotationGrace).
	RotateSecret bool `json:"rotate_secret"`
}

// Patch is a JSON Merge Patch of a subscription: nil fields are kept.
type Patch struct {
	Enabled  *bool                       `json:"enabled"`
	Types    *[]notifyd.NotificationType `json:"types"`
	Locale   *string                     `json:"locale"`
	TimeZone *string                     `json:"time_zone"`
	Methods  *[]MethodInput              `json:"methods"`
	// NotifyOwnChanges replaces the subscription's setting.
	NotifyOwnChanges *bool `json:"notify_own_changes"`
	// Preferences is a JSON Merge Patch of the preferences: members left
	// out are kept, members set to null removed; null removes them all.
	Preferences json.RawMessage `json:"preferences"`
}

// Defaults for fields a client leaves out.
const (
	DefaultLocale   = "en"
	DefaultTimeZone = "UTC"
)

// Service validates and stores subscriptions.
type Service struct {
	store       Store
	knownSystem func(string) bool
	now         func() time.Time
}

// NewService returns a Service over store. knownSystem says whether a
// system name is configured; subscriptions to other systems are refused.
func NewService(store Store, knownSystem func(string) bool) *Service {
	return &Service{store: store, knownSystem: knownSystem, now: time.Now}
}

// Written is a subscription as Create, Replace or Patch stored it.
type Written struct {
	*notifyd.Subscription
	// NewSecrets holds the IDs of the webhook methods whose signing secret
	// this write set: made for a new method or by a rotation, or given by
	// the client. Only the answer to this write shows those secrets.
	NewSecrets map[string]bool
}

// Create validates in and stores it as a new subscription.
func (s *Service) Create(ctx context.Context, in Input) (*Written, error) {
	sub := &notifyd.Subscription{ID: uuid.Must(uuid.NewV7()).String()}
	now := s.clock()
	newSecrets, err := s.apply(sub, in, now)
	if err != nil {
		return nil, err
	}
	sub.CreatedAt = now
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return &Written{sub, newSecrets}, nil
}

// Get returns the subscription with id.
func (s *Service) Get(ctx context.Context, id string) (*notifyd.Subscription, error) {
	return s.store.Subscription(ctx, id)
}

// List returns a page of the subscriptions matching f and, when there are
// more, the ID to pass as f.After for the next page.
func (s *Service) List(ctx context.Context, f notifyd.SubscriptionFilter) ([]*notifyd.Subscription, string, error) {
	limit := f.Limit
	if limit <= 0 { // no limit: one page holds everything
		subs, err := s.store.Subscriptions(ctx, f)
		return subs, "", err
	}
	f.Limit = limit + 1
	subs, err := s.store.Subscriptions(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if len(subs) > limit {
		subs = subs[:limit]
		return subs, subs[limit-1].ID, nil
	}
	return subs, "", nil
}

// Replace validates in and stores it over the subscription with id, if its
// version is still ifVersion (0: whatever it is). Methods kept (the same
// channel and address) keep their IDs and, unless in says otherwise,
// their webhook secrets.
func (s *Service) Replace(ctx context.Context, id string, in Input, ifVersion int64) (*Written, error) {
	cur, err := s.store.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return nil, notifyd.ErrConflict
	}
	return s.write(ctx, cur, in)
}

// write validates in and stores it over cur.
func (s *Service) write(ctx context.Context, cur *notifyd.Subscription, in Input) (*Written, error) {
	next := &notifyd.Subscription{ID: cur.ID, CreatedAt: cur.CreatedAt, Methods: cur.Methods, Preferences: cur.Preferences}
	now := s.clock()
	newSecrets, err := s.apply(next, in, now)
	if err != nil {
		return nil, err
	}
	if err := s.update(ctx, next, cur.Version, now); err != nil {
		return nil, err
	}
	return &Written{next, newSecrets}, nil
}

// Patch applies p to the subscription with id, if its version is still
// ifVersion (0: whatever it is).
func (s *Service) Patch(ctx context.Context, id string, p Patch, ifVersion int64) (*Written, error) {
	cur, err := s.store.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return nil, notifyd.ErrConflict
	}
	in := Input{System: cur.System, Principal: cur.Principal, Enabled: &cur.Enabled, Types: cur.Types,
		Locale: cur.Locale, TimeZone: cur.TimeZone, NotifyOwnChanges: &cur.NotifyOwnChanges, Preferences: cur.Preferences}
	for _, m := range cur.Methods {
		in.Methods = append(in.Methods, MethodInput{Channel: m.Channel, Address: m.Address, Types: m.Types, Enabled: &m.Enabled,
			Presence: m.Presence})
	}
	if p.Enabled != nil {
		in.Enabled = p.Enabled
	}
	if p.Types != nil {
		in.Types = *p.Types
	}
	if p.Locale != nil {
		in.Locale = *p.Locale
	}
	if p.TimeZone != nil {
		in.TimeZone = *p.TimeZone
	}
	if p.Methods != nil {
		in.Methods = *p.Methods
	}
	if p.NotifyOwnChanges != nil {
		in.NotifyOwnChanges = p.NotifyOwnChanges
	}
	if p.Preferences != nil {
		if in.Preferences, err = mergePreferences(cur.Preferences, p.Preferences); err != nil {
			return nil, err
		}
	}
	return s.write(ctx, cur, in)
}

// Delete removes the subscription with id, if its version is still
// ifVersion (0: whatever it is).
func (s *Service) Delete(ctx context.Context, id string, ifVersion int64) error {
	return s.store.DeleteSubscription(ctx, id, ifVersion)
}

// update stores next over version, as changed at now.
func (s *Service) update(ctx context.Context, next *notifyd.Subscription, version int64, now time.Time) error {
	next.UpdatedAt = now
	return s.store.UpdateSubscription(ctx, next, version)
}

// clock is the time of a write: now, in UTC, to the microsecond the store
// keeps.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// apply validates in and, if it is valid, writes it into sub. Methods
// already in sub keep their webhook secrets unless in changes them; a
// pause already in sub may have ended. It
// returns the IDs of the methods whose secret it set; now is the time of
// the write.
func (s *Service) apply(sub *notifyd.Subscription, in Input, now time.Time) (map[string]bool, error) {
	current := make(map[string]notifyd.DeliveryMethod, len(sub.Methods))
	for _, m := range sub.Methods {
		current[m.ID] = m
	}
	var errs notifyd.ValidationError
	bad := func(field, detail string) { errs = append(errs, notifyd.FieldError{Field: field, Detail: detail}) }

	if !s.knownSystem(in.System) {
		bad("/system", fmt.Sprintf("%q is not a calendar system in notifyd's configuration", in.System))
	}
	principal, err := notifyd.CleanHref(in.Principal)
	if err != nil {
		bad("/principal", err.Error())
	}
	checkTypes(in.Types, "/types", bad)
	locale := in.Locale
	if locale == "" {
		locale = DefaultLocale
	} else if tag, err := language.Parse(locale); err != nil {
		bad("/locale", "is not a BCP 47 language tag such as en or fr-CA")
	} else {
		locale = tag.String()
	}
	tz := in.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	} else if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		bad("/time_zone", "is not an IANA time zone name such as Europe/Paris or America/New_York")
	}
	if len(in.Methods) == 0 {
		bad("/methods", "must list at least one delivery method")
	}
	prefs := checkPreferences(in.Preferences, sub.Preferences, now, bad)

	seen := make(map[string]int)
	newSecrets := make(map[string]bool)
	methods := make([]notifyd.DeliveryMethod, 0, len(in.Methods))
	for i, m := range in.Methods {
		at := fmt.Sprintf("/methods/%d", i)
		if !m.Channel.Valid() {
			bad(at+"/channel", "must be one of email, sms, im, webhook")
			continue
		}
		addr, err := NormalizeAddress(m.Channel, m.Address)
		if err != nil {
			bad(at+"/address", fmt.Sprintf("for channel %s %s", m.Channel, err))
			continue
		}
		key := string(m.Channel) + "\x00" + addr
		if j, dup := seen[key]; dup {
			bad(at, fmt.Sprintf("repeats /methods/%d (same channel and address)", j))
			continue
		}
		seen[key] = i
		checkTypes(m.Types, at+"/types", bad)
		method := notifyd.DeliveryMethod{
			ID: methodID(m.Channel, addr), Channel: m.Channel, Address: addr, Types: m.Types,
			Enabled: m.Enabled == nil || *m.Enabled,
		}
		newSecret, problem := methodOptions(&method, m, current[method.ID], now)
		if problem != nil {
			bad(at+"/"+problem.field, problem.detail)
			continue
		}
		if newSecret {
			newSecrets[method.ID] = true
		}
		methods = append(methods, method)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sub.System, sub.Principal = in.System, principal
	sub.Enabled = in.Enabled == nil || *in.Enabled
	sub.Types = in.Types
	sub.Locale, sub.TimeZone = locale, tz
	sub.Methods = methods
	sub.NotifyOwnChanges = in.NotifyOwnChanges != nil && *in.NotifyOwnChanges
	sub.Preferences = prefs
	setEpochs(sub.Methods, current)
	return newSecrets, nil
}

func checkTypes(types []notifyd.NotificationType, at string, bad func(string, string)) {
	seen := make(map[notifyd.NotificationType]bool)
	for i, t := range types {
		switch {
		case !t.Valid():
			bad(fmt.Sprintf("%s/%d", at, i), fmt.Sprintf("%q is not a notification type", t))
		case seen[t]:
			bad(fmt.Sprintf("%s/%d", at, i), fmt.Sprintf("%q is listed twice", t))
		}
		seen[t] = true
	}
}

// methodID derives a method's ID from its channel and normalised address,
// so the ID stays the same across updates that keep them.
func methodID(ch notifyd.Channel, addr string) string {
	sum := sha256.Sum256([]byte(string(ch) + "\x00" + addr))
	return "m_" + hex.EncodeToString(sum[:8])
}
