package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withPrefs is a valid subscription body with preferences.
func withPrefs(prefs any) map[string]any {
	m := simpleSub(sysCal, "/p/fred")
	m["time_zone"] = "Europe/Paris"
	m["preferences"] = prefs
	return m
}

// prefsOf decodes the preferences member of an answer, nil when absent.
func prefsOf(t *testing.T, res response) map[string]any {
	t.Helper()
	var body struct {
		Preferences map[string]any `json:"preferences"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Preferences
}

func TestSubscriptionPreferences(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// Without preferences, the answer has none: as before.
	plain := h.sub(t, http.MethodPost, "/v1/subscriptions", simpleSub(sysCal, "/p/jim"), nil)
	if plain.status != http.StatusCreated || strings.Contains(string(plain.body), "preferences") {
		t.Fatalf("create without preferences: %d %s", plain.status, plain.body)
	}

	pause := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	prefs := map[string]any{
		"digest":        map[string]any{"mode": "daily", "at": "08:00"},
		"quiet_hours":   []any{map[string]any{"from": "22:00", "to": "07:00"}, map[string]any{"days": []any{"sat", "sun"}, "from": "00:00", "to": "24:00"}},
		"throttle":      map[string]any{"max": float64(3), "per": "1h"},
		"paused_until":  pause.In(time.FixedZone("", -5*3600)).Format(time.RFC3339),
		"channel_order": []any{"im", "sms"},
		"channels":      map[string]any{"sms": map[string]any{"digest": map[string]any{"mode": "immediate"}, "quiet_hours_bypass": []any{"reminder"}}},
	}
	res := h.sub(t, http.MethodPost, "/v1/subscriptions", withPrefs(prefs), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	want := prefs
	want["paused_until"] = pause.Format(time.RFC3339) // in UTC
	if got := prefsOf(t, res); !reflect.DeepEqual(got, want) {
		t.Fatalf("created with preferences\n%v\nwant\n%v", got, want)
	}
	var s subscription
	res.decode(t, &s)
	path := "/v1/subscriptions/" + s.ID
	if got := prefsOf(t, h.sub(t, http.MethodGet, path, nil, nil)); !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%v\nwant\n%v", got, want)
	}

	// A merge patch: one member changed, one removed, the rest kept.
	res = h.sub(t, http.MethodPatch, path, map[string]any{"preferences": map[string]any{
		"digest": map[string]any{"mode": "window", "window": "15m"}, "paused_until": nil}}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	want["digest"] = map[string]any{"mode": "window", "window": "15m"}
	delete(want, "paused_until")
	if got := prefsOf(t, res); !reflect.DeepEqual(got, want) {
		t.Fatalf("patched\n%v\nwant\n%v", got, want)
	}

	// A patch of something else keeps them; null removes them all.
	res = h.sub(t, http.MethodPatch, path, map[string]any{"locale": "fr"}, nil)
	if got := prefsOf(t, res); res.status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("locale patch: %d, preferences %v", res.status, got)
	}
	res = h.sub(t, http.MethodPatch, path, map[string]any{"preferences": nil}, nil)
	if res.status != http.StatusOK || strings.Contains(string(res.body), "preferences") {
		t.Fatalf("patch preferences null: %d %s", res.status, res.body)
	}
}

func TestSubscriptionPreferencesValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown time zone", func() map[string]any {
			m := withPrefs(map[string]any{"quiet_hours": []any{map[string]any{"from": "22:00", "to": "07:00"}}})
			m["time_zone"] = "Europe/Atlantis"
			return m
		}(), "/time_zone"},
		{"window not a duration", withPrefs(map[string]any{"digest": map[string]any{"mode": "window", "window": "often"}}), "/preferences/digest/window"},
		{"window not dividing a day", withPrefs(map[string]any{"digest": map[string]any{"mode": "window", "window": "7m"}}), "/preferences/digest/window"},
		{"unknown digest mode", withPrefs(map[string]any{"digest": map[string]any{"mode": "weekly"}}), "/preferences/digest/mode"},
		{"daily at 25:00", withPrefs(map[string]any{"digest": map[string]any{"mode": "daily", "at": "25:00"}}), "/preferences/digest/at"},
		{"quiet hours from 22h", withPrefs(map[string]any{"quiet_hours": []any{map[string]any{"from": "22h", "to": "07:00"}}}), "/preferences/quiet_hours/0/from"},
		{"quiet hours to 07:61", withPrefs(map[string]any{"quiet_hours": []any{map[string]any{"from": "22:00", "to": "07:61"}}}), "/preferences/quiet_hours/0/to"},
		{"quiet hours unknown day", withPrefs(map[string]any{"quiet_hours": []any{map[string]any{"days": []any{"sat", "sol"}, "from": "00:00", "to": "24:00"}}}), "/preferences/quiet_hours/0/days/1"},
		{"quiet hours all week", withPrefs(map[string]any{"quiet_hours": []any{map[string]any{"from": "00:00", "to": "24:00"}}}), "/preferences/quiet_hours"},
		{"throttle 0", withPrefs(map[string]any{"throttle": map[string]any{"max": 0, "per": "1h"}}), "/preferences/throttle/max"},
		{"throttle negative", withPrefs(map[string]any{"throttle": map[string]any{"max": -3, "per": "1h"}}), "/preferences/throttle/max"},
		{"throttle per not a duration", withPrefs(map[string]any{"throttle": map[string]any{"max": 3, "per": "an hour"}}), "/preferences/throttle/per"},
		{"pause in the past", withPrefs(map[string]any{"paused_until": past}), "/preferences/paused_until"},
		{"pause not a date", withPrefs(map[string]any{"paused_until": "next monday"}), "/preferences/paused_until"},
		{"unknown member", withPrefs(map[string]any{"snooze": true}), "/preferences/snooze"},
		{"unknown channel", withPrefs(map[string]any{"channels": map[string]any{"fax": map[string]any{}}}), "/preferences/channels/fax"},
		{"channel order twice", withPrefs(map[string]any{"channel_order": []any{"im", "im"}}), "/preferences/channel_order/1"},
		{"bypass unknown type", withPrefs(map[string]any{"channels": map[string]any{"sms": map[string]any{"quiet_hours_bypass": []any{"party"}}}}), "/preferences/channels/sms/quiet_hours_bypass/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.sub(t, http.MethodPost, "/v1/subscriptions", tt.body, nil)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", res.status, res.body)
			}
			p := res.problem(t)
			if got := p.fields(); p.Type != typeValidation || !reflect.DeepEqual(got, []string{tt.field}) {
				t.Errorf("problem %s, fields %q; want %s, [%q]", p.Type, got, typeValidation, tt.field)
			}
		})
	}
	if n := h.subscriptionRows(t); n != 0 {
		t.Fatalf("%d subscriptions stored by invalid requests", n)
	}

	// Patches are checked the same way and change nothing.
	s := h.create(t, withPrefs(map[string]any{"throttle": map[string]any{"max": 3, "per": "1h"}}))
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"preferences": map[string]any{"throttle": map[string]any{"max": 0, "per": "1h"}}}, "/preferences/throttle/max"},
		{map[string]any{"preferences": map[string]any{"paused_until": past}}, "/preferences/paused_until"},
		{map[string]any{"preferences": map[string]any{"digest": map[string]any{"mode": "window", "window": "soon"}}}, "/preferences/digest/window"},
		{map[string]any{"preferences": map[string]any{"snooze": true}}, "/preferences"},
		{map[string]any{"preferences": "quiet"}, "/preferences"},
	} {
		res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, tt.body, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("patch %v: status %d, want 400; body %s", tt.body, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !reflect.DeepEqual(p.fields(), []string{tt.field}) {
			t.Errorf("patch %v: problem %s, want the field %q", tt.body, res.body, tt.field)
		}
	}
	if got := h.get(t, s.ID); got.Version != s.Version {
		t.Errorf("refused patches changed the subscription: version %d, want %d", got.Version, s.Version)
	}
}
