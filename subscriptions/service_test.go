package subscriptions

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// memStore is an in-memory Store with the semantics of store.DB: versions
// start at 1 and advance by one per update, ifVersion 0 means any version,
// listings are ordered by ID, and what it hands out are copies.
type memStore struct {
	mu   sync.Mutex
	subs map[string]*notifyd.Subscription
	// lastFilter is the filter the last Subscriptions call received.
	lastFilter notifyd.SubscriptionFilter
	// writes counts successful creates, updates and deletes.
	writes int
}

func newMemStore() *memStore {
	return &memStore{subs: make(map[string]*notifyd.Subscription)}
}

func cloneSub(s *notifyd.Subscription) *notifyd.Subscription {
	c := *s
	c.Types = slices.Clone(s.Types)
	c.Methods = make([]notifyd.DeliveryMethod, len(s.Methods))
	for i, m := range s.Methods {
		m.Types = slices.Clone(m.Types)
		c.Methods[i] = m
	}
	return &c
}

func (m *memStore) CreateSubscription(_ context.Context, s *notifyd.Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.subs[s.ID]; dup {
		return errors.New("duplicate id " + s.ID)
	}
	s.Version = 1
	s.UpdatedAt = s.CreatedAt
	m.subs[s.ID] = cloneSub(s)
	m.writes++
	return nil
}

func (m *memStore) Subscription(_ context.Context, id string) (*notifyd.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return nil, notifyd.ErrNotFound
	}
	return cloneSub(s), nil
}

func (m *memStore) Subscriptions(_ context.Context, f notifyd.SubscriptionFilter) ([]*notifyd.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastFilter = f
	var out []*notifyd.Subscription
	for _, s := range m.subs {
		if (f.System == "" || s.System == f.System) && (f.Principal == "" || s.Principal == f.Principal) &&
			(f.After == "" || s.ID > f.After) {
			out = append(out, cloneSub(s))
		}
	}
	slices.SortFunc(out, func(a, b *notifyd.Subscription) int { return strings.Compare(a.ID, b.ID) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) UpdateSubscription(_ context.Context, s *notifyd.Subscription, ifVersion int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.subs[s.ID]
	if !ok {
		return notifyd.ErrNotFound
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return notifyd.ErrConflict
	}
	s.Version = cur.Version + 1
	next := cloneSub(s)
	next.CreatedAt = cur.CreatedAt
	m.subs[s.ID] = next
	m.writes++
	return nil
}

func (m *memStore) DeleteSubscription(_ context.Context, id string, ifVersion int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.subs[id]
	if !ok {
		return notifyd.ErrNotFound
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return notifyd.ErrConflict
	}
	delete(m.subs, id)
	m.writes++
	return nil
}

func (m *memStore) stored(t *testing.T, id string) *notifyd.Subscription {
	t.Helper()
	s, err := m.Subscription(context.Background(), id)
	if err != nil {
		t.Fatalf("store: subscription %s: %v", id, err)
	}
	return s
}

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// clock is a Service.now that advances by one second on every call.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newTestService(t *testing.T) (*Service, *memStore) {
	t.Helper()
	st := newMemStore()
	svc := NewService(st, func(name string) bool { return name == "bedework" || name == "apple" })
	c := &clock{t: t0}
	svc.now = c.now
	return svc, st
}

func ptr[T any](v T) *T { return &v }

func validInput() Input {
	return Input{
		System:    "bedework",
		Principal: "/principals/users/fred",
		Methods:   []MethodInput{{Channel: notifyd.ChannelEmail, Address: "fred@example.org"}},
	}
}

// fieldsOf returns the fields of err's ValidationError, failing the test if
// err is not one.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve notifyd.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a notifyd.ValidationError", err, err)
	}
	var fields []string
	for _, f := range ve {
		if f.Detail == "" {
			t.Errorf("field %s has no detail", f.Field)
		}
		fields = append(fields, f.Field)
	}
	return fields
}

var methodIDPattern = regexp.MustCompile(`^m_[0-9a-f]{16}$`)

func TestCreateAppliesDefaults(t *testing.T) {
	svc, st := newTestService(t)
	sub, err := svc.Create(context.Background(), validInput())
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Enabled {
		t.Error("Enabled = false, want true by default")
	}
	if sub.Locale != "en" {
		t.Errorf("Locale = %q, want %q", sub.Locale, "en")
	}
	if sub.TimeZone != "UTC" {
		t.Errorf("TimeZone = %q, want %q", sub.TimeZone, "UTC")
	}
	if len(sub.Types) != 0 {
		t.Errorf("Types = %v, want none (all types)", sub.Types)
	}
	if len(sub.Methods) != 1 || !sub.Methods[0].Enabled {
		t.Fatalf("Methods = %+v, want one enabled method", sub.Methods)
	}
	if !methodIDPattern.MatchString(sub.Methods[0].ID) {
		t.Errorf("method ID = %q, want m_ and 16 hex digits", sub.Methods[0].ID)
	}
	if sub.Version != 1 {
		t.Errorf("Version = %d, want 1", sub.Version)
	}
	if sub.ID == "" || sub.System != "bedework" || sub.Principal != "/principals/users/fred" {
		t.Errorf("ID, System, Principal = %q, %q, %q", sub.ID, sub.System, sub.Principal)
	}
	want := t0.Add(time.Second).Truncate(time.Microsecond)
	if !sub.CreatedAt.Equal(want) || sub.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC, truncated to the microsecond", sub.CreatedAt, want)
	}
	if got := st.stored(t, sub.ID); !reflect.DeepEqual(got, sub.Subscription) {
		t.Errorf("stored %+v\nreturned %+v", got, sub)
	}
}

func TestCreateNormalises(t *testing.T) {
	svc, _ := newTestService(t)
	in := Input{
		System:    "apple",
		Principal: "/principals/users/%7efred/",
		Enabled:   ptr(false),
		Types:     []notifyd.NotificationType{notifyd.TypeShareInvite, notifyd.TypeReminder},
		Locale:    "fr-ca",
		TimeZone:  "Europe/Paris",
		Methods: []MethodInput{
			{Channel: notifyd.ChannelEmail, Address: "Fred@Example.ORG", Enabled: ptr(false)},
			{Channel: notifyd.ChannelSMS, Address: "+14155550100", Types: []notifyd.NotificationType{notifyd.TypeReminder}},
			{Channel: notifyd.ChannelIM, Address: "Fred@Jabber.Example.org/Phone", Enabled: ptr(true)},
			{Channel: notifyd.ChannelWebhook, Address: "https://Hooks.Example.org/n"},
		},
	}
	sub, err := svc.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Enabled {
		t.Error("Enabled = true, want the false given")
	}
	if sub.Principal != "/principals/users/~fred/" {
		t.Errorf("Principal = %q, want the cleaned href", sub.Principal)
	}
	if sub.Locale != "fr-CA" {
		t.Errorf("Locale = %q, want canonical fr-CA", sub.Locale)
	}
	if sub.TimeZone != "Europe/Paris" {
		t.Errorf("TimeZone = %q", sub.TimeZone)
	}
	if !slices.Equal(sub.Types, in.Types) {
		t.Errorf("Types = %v, want %v", sub.Types, in.Types)
	}
	want := []struct {
		ch      notifyd.Channel
		addr    string
		enabled bool
		types   []notifyd.NotificationType
	}{
		{notifyd.ChannelEmail, "Fred@example.org", false, nil},
		{notifyd.ChannelSMS, "+14155550100", true, []notifyd.NotificationType{notifyd.TypeReminder}},
		{notifyd.ChannelIM, "fred@jabber.example.org/Phone", true, nil},
		{notifyd.ChannelWebhook, "https://hooks.example.org/n", true, nil},
	}
	if len(sub.Methods) != len(want) {
		t.Fatalf("Methods = %+v", sub.Methods)
	}
	ids := map[string]bool{}
	for i, w := range want {
		m := sub.Methods[i]
		if m.Channel != w.ch || m.Address != w.addr || m.Enabled != w.enabled || !slices.Equal(m.Types, w.types) {
			t.Errorf("Methods[%d] = %+v, want %+v", i, m, w)
		}
		if !methodIDPattern.MatchString(m.ID) || ids[m.ID] {
			t.Errorf("Methods[%d].ID = %q: malformed or repeated", i, m.ID)
		}
		ids[m.ID] = true
	}
}

func TestCreateLocales(t *testing.T) {
	for in, want := range map[string]string{"fr-ca": "fr-CA", "EN": "en", "en_us": "en-US", "de-DE": "de-DE", "zh-hant-tw": "zh-Hant-TW"} {
		svc, _ := newTestService(t)
		i := validInput()
		i.Locale = in
		sub, err := svc.Create(context.Background(), i)
		if err != nil {
			t.Errorf("locale %q: %v", in, err)
			continue
		}
		if sub.Locale != want {
			t.Errorf("locale %q stored as %q, want %q", in, sub.Locale, want)
		}
	}
}

func TestCreateRejects(t *testing.T) {
	email := func(a string) MethodInput { return MethodInput{Channel: notifyd.ChannelEmail, Address: a} }
	tests := []struct {
		name       string
		change     func(*Input)
		wantFields []string
	}{
		{"unknown system", func(in *Input) { in.System = "google" }, []string{"/system"}},
		{"empty system", func(in *Input) { in.System = "" }, []string{"/system"}},
		{"empty principal", func(in *Input) { in.Principal = "" }, []string{"/principal"}},
		{"principal with host", func(in *Input) { in.Principal = "https://cal.example.org/principals/users/fred" }, []string{"/principal"}},
		{"principal traversal", func(in *Input) { in.Principal = "/principals/%2e%2e/admin" }, []string{"/principal"}},
		{"unknown type", func(in *Input) { in.Types = []notifyd.NotificationType{"reminder", "birthday"} }, []string{"/types/1"}},
		{"duplicate type", func(in *Input) { in.Types = []notifyd.NotificationType{"reminder", "suggest", "reminder"} }, []string{"/types/2"}},
		{"bad locale", func(in *Input) { in.Locale = "english!" }, []string{"/locale"}},
		{"unknown locale", func(in *Input) { in.Locale = "zz" }, []string{"/locale"}},
		{"bad time zone", func(in *Input) { in.TimeZone = "Mars/Olympus_Mons" }, []string{"/time_zone"}},
		{"Local time zone", func(in *Input) { in.TimeZone = "Local" }, []string{"/time_zone"}},
		{"time zone path", func(in *Input) { in.TimeZone = "../../etc/passwd" }, []string{"/time_zone"}},
		{"no methods", func(in *Input) { in.Methods = nil }, []string{"/methods"}},
		{"empty methods", func(in *Input) { in.Methods = []MethodInput{} }, []string{"/methods"}},
		{"unknown channel", func(in *Input) {
			in.Methods = append(in.Methods, MethodInput{Channel: "pager", Address: "123"})
		}, []string{"/methods/1/channel"}},
		{"bad address", func(in *Input) {
			in.Methods = append(in.Methods, MethodInput{Channel: notifyd.ChannelSMS, Address: "4155550100"})
		}, []string{"/methods/1/address"}},
		{"duplicate method, same spelling", func(in *Input) {
			in.Methods = []MethodInput{email("a@x.org"), email("a@x.org")}
		}, []string{"/methods/1"}},
		{"duplicate method, domain case", func(in *Input) {
			in.Methods = []MethodInput{email("a@X.org"), email("b@x.org"), email("a@x.org")}
		}, []string{"/methods/2"}},
		{"duplicate IM method, local part case", func(in *Input) {
			in.Methods = []MethodInput{{Channel: notifyd.ChannelIM, Address: "A@x.org"}, {Channel: notifyd.ChannelIM, Address: "a@X.org"}}
		}, []string{"/methods/1"}},
		{"method unknown type", func(in *Input) {
			in.Methods[0].Types = []notifyd.NotificationType{"share-invite", "nope"}
		}, []string{"/methods/0/types/1"}},
		{"method duplicate type", func(in *Input) {
			in.Methods[0].Types = []notifyd.NotificationType{"share-invite", "share-invite"}
		}, []string{"/methods/0/types/1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, st := newTestService(t)
			in := validInput()
			tc.change(&in)
			sub, err := svc.Create(context.Background(), in)
			if err == nil {
				t.Fatalf("Create accepted %+v", sub)
			}
			if got := fieldsOf(t, err); !slices.Equal(got, tc.wantFields) {
				t.Errorf("fields = %v, want %v (%v)", got, tc.wantFields, err)
			}
			if st.writes != 0 {
				t.Errorf("store written %d times for an invalid request", st.writes)
			}
		})
	}
}

// TestCreateSameAddressOnTwoChannels checks that only channel and address
// together make a duplicate.
func TestCreateSameAddressOnTwoChannels(t *testing.T) {
	svc, _ := newTestService(t)
	in := validInput()
	in.Methods = []MethodInput{
		{Channel: notifyd.ChannelEmail, Address: "fred@example.org"},
		{Channel: notifyd.ChannelIM, Address: "fred@example.org"},
	}
	sub, err := svc.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Methods[0].ID == sub.Methods[1].ID {
		t.Errorf("email and im methods for one address share ID %s", sub.Methods[0].ID)
	}
}

func TestCreateDuplicateMethodNamesTheFirst(t *testing.T) {
	svc, _ := newTestService(t)
	in := validInput()
	in.Methods = []MethodInput{
		{Channel: notifyd.ChannelSMS, Address: "+14155550100"},
		{Channel: notifyd.ChannelEmail, Address: "a@X.org"},
		{Channel: notifyd.ChannelEmail, Address: "a@x.org"},
	}
	_, err := svc.Create(context.Background(), in)
	var ve notifyd.ValidationError
	if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != "/methods/2" || !strings.Contains(ve[0].Detail, "/methods/1") {
		t.Fatalf("error = %#v, want one error at /methods/2 naming /methods/1", err)
	}
}

func TestCreateReportsEveryError(t *testing.T) {
	svc, st := newTestService(t)
	in := Input{
		System:    "nope",
		Principal: "relative/href",
		Types:     []notifyd.NotificationType{"reminder", "reminder", "bogus"},
		Locale:    "!!",
		TimeZone:  "Local",
		Methods: []MethodInput{
			{Channel: notifyd.ChannelEmail, Address: "a@X.org"},
			{Channel: notifyd.ChannelEmail, Address: "not an address"},
			{Channel: "fax", Address: "+14155550100"},
			{Channel: notifyd.ChannelEmail, Address: "a@x.org"},
			{Channel: notifyd.ChannelWebhook, Address: "https://h.example.org/", Types: []notifyd.NotificationType{"x"}},
		},
	}
	_, err := svc.Create(context.Background(), in)
	want := []string{
		"/system", "/principal", "/types/1", "/types/2", "/locale", "/time_zone",
		"/methods/1/address", "/methods/2/channel", "/methods/3", "/methods/4/types/0",
	}
	if got := fieldsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("fields = %v\nwant %v", got, want)
	}
	if !strings.HasPrefix(err.Error(), "invalid request: /system: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	if st.writes != 0 {
		t.Error("store written for an invalid request")
	}
}

func TestReplaceKeepsMethodIDs(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	in := validInput()
	in.Methods = []MethodInput{
		{Channel: notifyd.ChannelEmail, Address: "fred@Example.org"},
		{Channel: notifyd.ChannelSMS, Address: "+14155550100"},
		{Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/a"},
	}
	created, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	idOf := func(s *notifyd.Subscription) map[string]string {
		m := map[string]string{}
		for _, d := range s.Methods {
			m[string(d.Channel)+" "+d.Address] = d.ID
		}
		return m
	}
	before := idOf(created.Subscription)

	in.Locale = "de"
	in.Methods = []MethodInput{
		{Channel: notifyd.ChannelSMS, Address: "+14155550100", Enabled: ptr(false)}, // moved, switched off
		{Channel: notifyd.ChannelEmail, Address: "fred@EXAMPLE.ORG"},                // same address, other spelling
		{Channel: notifyd.ChannelIM, Address: "fred@example.org"},                   // new
		{Channel: notifyd.ChannelWebhook, Address: "https://hooks.example.org/b"},   // changed address
	}
	replaced, err := svc.Replace(ctx, created.ID, in, created.Version)
	if err != nil {
		t.Fatal(err)
	}
	after := idOf(replaced.Subscription)
	for _, k := range []string{"sms +14155550100", "email fred@example.org"} {
		if before[k] == "" || after[k] != before[k] {
			t.Errorf("method %s: ID %q before, %q after; want it kept", k, before[k], after[k])
		}
	}
	if id := after["webhook https://hooks.example.org/b"]; id == "" || id == before["webhook https://hooks.example.org/a"] {
		t.Errorf("changed webhook address kept ID %q", id)
	}
	if id := after["im fred@example.org"]; id == "" || id == before["email fred@example.org"] {
		t.Errorf("new im method has ID %q, same as the email method's", id)
	}
	if replaced.Methods[0].Enabled {
		t.Error("replaced sms method still enabled")
	}
	if replaced.Version != 2 || replaced.Locale != "de" {
		t.Errorf("Version, Locale = %d, %q; want 2, de", replaced.Version, replaced.Locale)
	}
	if !replaced.CreatedAt.Equal(created.CreatedAt) || !replaced.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("CreatedAt %v -> %v, UpdatedAt %v -> %v; want CreatedAt kept, UpdatedAt later",
			created.CreatedAt, replaced.CreatedAt, created.UpdatedAt, replaced.UpdatedAt)
	}
	if got := st.stored(t, created.ID); !reflect.DeepEqual(got, replaced.Subscription) {
		t.Errorf("stored %+v\nreturned %+v", got, replaced)
	}

	// A replace with ifVersion 0 applies whatever the version.
	in.Locale = ""
	again, err := svc.Replace(ctx, created.ID, in, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != 3 || again.Locale != DefaultLocale {
		t.Errorf("Version, Locale = %d, %q; want 3 and the default again", again.Version, again.Locale)
	}
}

func TestReplaceFailures(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	created, err := svc.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	in := validInput()
	in.Locale = "fr"

	if _, err := svc.Replace(ctx, created.ID, in, created.Version+1); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("Replace with a stale version: %v, want ErrConflict", err)
	}
	if _, err := svc.Replace(ctx, "no-such-id", in, 0); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("Replace of a missing subscription: %v, want ErrNotFound", err)
	}
	bad := in
	bad.TimeZone = "Local"
	if _, err := svc.Replace(ctx, created.ID, bad, created.Version); !slices.Equal(fieldsOf(t, err), []string{"/time_zone"}) {
		t.Errorf("Replace with a bad time zone: %v", err)
	}
	if got := st.stored(t, created.ID); !reflect.DeepEqual(got, created.Subscription) {
		t.Errorf("failed replaces changed the subscription:\n%+v\nwas %+v", got, created)
	}
}

func TestPatchKeepsUnspecifiedFields(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	in := Input{
		System:    "bedework",
		Principal: "/principals/users/fred",
		Enabled:   ptr(true),
		Types:     []notifyd.NotificationType{notifyd.TypeShareInvite, notifyd.TypeReminder},
		Locale:    "fr-CA",
		TimeZone:  "America/Toronto",
		Methods: []MethodInput{
			{Channel: notifyd.ChannelEmail, Address: "fred@example.org", Enabled: ptr(false)},
			{Channel: notifyd.ChannelSMS, Address: "+14155550100", Types: []notifyd.NotificationType{notifyd.TypeReminder}},
		},
	}
	created, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	patched, err := svc.Patch(ctx, created.ID, Patch{Locale: ptr("de-at")}, created.Version)
	if err != nil {
		t.Fatal(err)
	}
	want := cloneSub(created.Subscription)
	want.Locale = "de-AT"
	want.Version = 2
	want.UpdatedAt = patched.UpdatedAt
	if !reflect.DeepEqual(patched.Subscription, want) {
		t.Errorf("after patching locale:\ngot  %+v\nwant %+v", patched, want)
	}
	if !patched.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("UpdatedAt %v not after %v", patched.UpdatedAt, created.UpdatedAt)
	}
	if got := st.stored(t, created.ID); !reflect.DeepEqual(got, patched.Subscription) {
		t.Errorf("stored %+v\nreturned %+v", got, patched)
	}

	// Switching the subscription off and clearing its types keeps the rest.
	patched, err = svc.Patch(ctx, created.ID, Patch{Enabled: ptr(false), Types: &[]notifyd.NotificationType{}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if patched.Enabled || len(patched.Types) != 0 || patched.Locale != "de-AT" || patched.TimeZone != "America/Toronto" ||
		!reflect.DeepEqual(patched.Methods, created.Methods) || patched.Version != 3 {
		t.Errorf("after patching enabled and types: %+v", patched)
	}

	// Replacing the methods keeps the IDs of those that stay.
	patched, err = svc.Patch(ctx, created.ID, Patch{Methods: &[]MethodInput{
		{Channel: notifyd.ChannelSMS, Address: "+14155550100"},
	}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(patched.Methods) != 1 || patched.Methods[0].ID != created.Methods[1].ID || !patched.Methods[0].Enabled ||
		patched.Methods[0].Types != nil {
		t.Errorf("after patching methods: %+v, want the sms method with ID %s, enabled, all types",
			patched.Methods, created.Methods[1].ID)
	}
	if patched.Enabled || patched.Locale != "de-AT" {
		t.Errorf("patching methods changed other fields: %+v", patched)
	}
}

func TestPatchFailures(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	created, err := svc.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Patch(ctx, created.ID, Patch{Locale: ptr("fr")}, 7); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("Patch with a stale version: %v, want ErrConflict", err)
	}
	if _, err := svc.Patch(ctx, "no-such-id", Patch{Locale: ptr("fr")}, 0); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("Patch of a missing subscription: %v, want ErrNotFound", err)
	}
	_, err = svc.Patch(ctx, created.ID, Patch{TimeZone: ptr("Nowhere/Land"), Methods: &[]MethodInput{}}, 0)
	if got := fieldsOf(t, err); !slices.Equal(got, []string{"/time_zone", "/methods"}) {
		t.Errorf("fields = %v, want /time_zone and /methods", got)
	}
	if got := st.stored(t, created.ID); !reflect.DeepEqual(got, created.Subscription) {
		t.Errorf("failed patches changed the subscription:\n%+v\nwas %+v", got, created)
	}
}

// raceStore changes the subscription behind the service's back between its
// read and its write, as a concurrent request would.
type raceStore struct {
	*memStore
	once sync.Once
}

func (r *raceStore) UpdateSubscription(ctx context.Context, s *notifyd.Subscription, ifVersion int64) error {
	r.once.Do(func() {
		cur, _ := r.memStore.Subscription(ctx, s.ID)
		_ = r.memStore.UpdateSubscription(ctx, cur, 0)
	})
	return r.memStore.UpdateSubscription(ctx, s, ifVersion)
}

// TestReplaceLosesRace checks that a replace or patch does not overwrite a
// change made after it read the subscription, even with ifVersion 0.
func TestReplaceLosesRace(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"replace", "patch"} {
		st := &raceStore{memStore: newMemStore()}
		svc := NewService(st, func(string) bool { return true })
		created, err := svc.Create(ctx, validInput())
		if err != nil {
			t.Fatal(err)
		}
		if op == "replace" {
			_, err = svc.Replace(ctx, created.ID, validInput(), 0)
		} else {
			_, err = svc.Patch(ctx, created.ID, Patch{Locale: ptr("fr")}, 0)
		}
		if !errors.Is(err, notifyd.ErrConflict) {
			t.Errorf("%s racing another write: %v, want ErrConflict", op, err)
		}
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	created, err := svc.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, created.ID, created.Version+1); !errors.Is(err, notifyd.ErrConflict) {
		t.Errorf("Delete with a stale version: %v, want ErrConflict", err)
	}
	if err := svc.Delete(ctx, created.ID, created.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, created.ID); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := svc.Delete(ctx, created.ID, 0); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

func TestListPagination(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	var ids, bedework []string
	for i := range 5 {
		in := validInput()
		if i == 2 {
			in.System = "apple"
		}
		sub, err := svc.Create(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
		if sub.System == "bedework" {
			bedework = append(bedework, sub.ID)
		}
	}
	slices.Sort(ids)
	slices.Sort(bedework)
	idsOf := func(subs []*notifyd.Subscription) []string {
		var out []string
		for _, s := range subs {
			out = append(out, s.ID)
		}
		return out
	}

	// Walk every page of two.
	var seen []string
	after := ""
	for page := 0; ; page++ {
		subs, next, err := svc.List(ctx, notifyd.SubscriptionFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) > 2 {
			t.Fatalf("page %d has %d subscriptions, limit 2", page, len(subs))
		}
		seen = append(seen, idsOf(subs)...)
		if next == "" {
			if len(seen) != len(ids) {
				t.Fatalf("no next page after %d of %d subscriptions", len(seen), len(ids))
			}
			break
		}
		if next != subs[len(subs)-1].ID {
			t.Errorf("page %d: next = %q, want the last ID of the page %q", page, next, subs[len(subs)-1].ID)
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		after = next
	}
	if !slices.Equal(seen, ids) {
		t.Errorf("pages gave %v, want %v", seen, ids)
	}

	for _, tc := range []struct {
		name     string
		f        notifyd.SubscriptionFilter
		want     []string
		wantNext string
	}{
		{"limit equal to the count: no next", notifyd.SubscriptionFilter{Limit: 5}, ids, ""},
		{"limit above the count: no next", notifyd.SubscriptionFilter{Limit: 50}, ids, ""},
		{"limit one under the count", notifyd.SubscriptionFilter{Limit: 4}, ids[:4], ids[3]},
		{"last exact page: no next", notifyd.SubscriptionFilter{After: ids[2], Limit: 2}, ids[3:], ""},
		{"after the last", notifyd.SubscriptionFilter{After: ids[4], Limit: 2}, nil, ""},
		{"no limit: everything, no next", notifyd.SubscriptionFilter{}, ids, ""},
		{"filter by system", notifyd.SubscriptionFilter{System: "bedework", Limit: 10}, bedework, ""},
		{"filter by system, paged", notifyd.SubscriptionFilter{System: "bedework", Limit: 3}, bedework[:3], bedework[2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subs, next, err := svc.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := idsOf(subs); !slices.Equal(got, tc.want) {
				t.Errorf("IDs = %v, want %v", got, tc.want)
			}
			if next != tc.wantNext {
				t.Errorf("next = %q, want %q", next, tc.wantNext)
			}
			if st.lastFilter.System != tc.f.System || st.lastFilter.After != tc.f.After {
				t.Errorf("store asked for %+v, want %+v", st.lastFilter, tc.f)
			}
		})
	}
}
