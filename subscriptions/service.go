// Package subscriptions decides who wants which notifications and how: it
// validates and stores subscriptions (system, principal, wanted types,
// locale, time zone and delivery methods) and answers which delivery
// methods want a given notification.
package subscriptions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
}

// MethodInput is a delivery method as a client writes it.
type MethodInput struct {
	Channel  notifyd.Channel            `json:"channel"`
	Address  string                     `json:"address"`
	Types    []notifyd.NotificationType `json:"types"`
	Enabled  *bool                      `json:"enabled"`
	Presence string                     `json:"presence"`
	Secret   string                     `json:"secret"`
}

// Patch is a JSON Merge Patch of a subscription: nil fields are kept.
type Patch struct {
	Enabled  *bool                       `json:"enabled"`
	Types    *[]notifyd.NotificationType `json:"types"`
	Locale   *string                     `json:"locale"`
	TimeZone *string                     `json:"time_zone"`
	Methods  *[]MethodInput              `json:"methods"`
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

// Create validates in and stores it as a new subscription.
func (s *Service) Create(ctx context.Context, in Input) (*notifyd.Subscription, error) {
	sub := &notifyd.Subscription{ID: uuid.Must(uuid.NewV7()).String()}
	if err := s.apply(sub, in); err != nil {
		return nil, err
	}
	sub.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
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
// version is still ifVersion (0: whatever it is).
func (s *Service) Replace(ctx context.Context, id string, in Input, ifVersion int64) (*notifyd.Subscription, error) {
	cur, err := s.store.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return nil, notifyd.ErrConflict
	}
	next := &notifyd.Subscription{ID: id, CreatedAt: cur.CreatedAt, Methods: cur.Methods}
	if err := s.apply(next, in); err != nil {
		return nil, err
	}
	return next, s.update(ctx, next, cur.Version)
}

// Patch applies p to the subscription with id, if its version is still
// ifVersion (0: whatever it is).
func (s *Service) Patch(ctx context.Context, id string, p Patch, ifVersion int64) (*notifyd.Subscription, error) {
	cur, err := s.store.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return nil, notifyd.ErrConflict
	}
	in := Input{System: cur.System, Principal: cur.Principal, Enabled: &cur.Enabled, Types: cur.Types,
		Locale: cur.Locale, TimeZone: cur.TimeZone}
	for _, m := range cur.Methods {
		in.Methods = append(in.Methods, MethodInput{Channel: m.Channel, Address: m.Address, Types: m.Types, Enabled: &m.Enabled,
			Presence: m.Presence, Secret: m.Secret})
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
	next := &notifyd.Subscription{ID: id, CreatedAt: cur.CreatedAt, Methods: cur.Methods}
	if err := s.apply(next, in); err != nil {
		return nil, err
	}
	return next, s.update(ctx, next, cur.Version)
}

// Delete removes the subscription with id, if its version is still
// ifVersion (0: whatever it is).
func (s *Service) Delete(ctx context.Context, id string, ifVersion int64) error {
	return s.store.DeleteSubscription(ctx, id, ifVersion)
}

func (s *Service) update(ctx context.Context, next *notifyd.Subscription, version int64) error {
	next.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	return s.store.UpdateSubscription(ctx, next, version)
}

// apply validates in and, if it is valid, writes it into sub. Methods
// already in sub keep their generated webhook secrets.
func (s *Service) apply(sub *notifyd.Subscription, in Input) error {
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

	seen := make(map[string]int)
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
		enabled := m.Enabled == nil || *m.Enabled
		id := methodID(m.Channel, addr)
		presence, secret, problem := methodOptions(m, current[id])
		if problem != nil {
			bad(at+"/"+problem.field, problem.detail)
			continue
		}
		methods = append(methods, notifyd.DeliveryMethod{
			ID: id, Channel: m.Channel, Address: addr, Types: m.Types, Enabled: enabled,
			Presence: presence, Secret: secret,
		})
	}
	if len(errs) > 0 {
		return errs
	}
	sub.System, sub.Principal = in.System, principal
	sub.Enabled = in.Enabled == nil || *in.Enabled
	sub.Types = in.Types
	sub.Locale, sub.TimeZone = locale, tz
	sub.Methods = methods
	setEpochs(sub.Methods, current)
	return nil
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
