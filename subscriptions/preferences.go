package subscriptions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/preferences"
)

// checkPreferences validates p as written at now over cur (the stored
// preferences, nil for a new subscription) and returns it as stored: nil
// when it sets nothing, the pause in UTC. A pause must end in the future
// when it is set; one kept from cur that has ended since is dropped, so
// that a write that does not touch it is not refused.
func checkPreferences(p, cur *notifyd.Preferences, now time.Time, bad func(string, string)) *notifyd.Preferences {
	if p.IsZero() {
		return nil
	}
	out := *p
	if !out.PausedUntil.IsZero() {
		out.PausedUntil = out.PausedUntil.UTC().Truncate(time.Microsecond)
		if cur != nil && out.PausedUntil.Equal(cur.PausedUntil) && !out.PausedUntil.After(now) {
			out.PausedUntil = time.Time{}
		}
	}
	for _, e := range preferences.Validate(&out, now) {
		bad("/preferences"+e.Field, e.Detail)
	}
	if out.IsZero() {
		return nil
	}
	return &out
}

// mergePreferences applies a JSON Merge Patch (RFC 7396) of preferences
// to cur: members left out are kept, members set to null removed, objects
// merged member by member, except a digest or a throttle, which is one
// choice and replaced whole; "null" removes them all.
func mergePreferences(cur *notifyd.Preferences, patch json.RawMessage) (*notifyd.Preferences, error) {
	var target any = map[string]any{}
	if cur != nil {
		b, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &target); err != nil {
			return nil, err
		}
	}
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	merged := mergePatch(target, p)
	if merged == nil {
		return nil, nil
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	var out notifyd.Preferences
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, notifyd.ValidationError{{Field: "/preferences", Detail: fmt.Sprintf("merged with the current preferences, %v", err)}}
	}
	return &out, nil
}

// mergePatch is RFC 7396's MergePatch(target, patch).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		switch {
		case v == nil:
			delete(t, k)
		case k == "digest" || k == "throttle":
			t[k] = v
		default:
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}
