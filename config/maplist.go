package config

import (
	"encoding/json"
	"errors"
	"fmt"
)

// mapList is a setting whose value is a list of maps: named_api_keys,
// channels.smtp.fallback_relays, channels.twilio.fallback_accounts. In
// YAML it is a list; in the environment, the list as JSON. Errors never
// contain a value (some are secrets).
type mapList[T any] struct {
	// noun names one item ("key"); fields lists an item's keys, for
	// errors ("name, key or key_file, role and systems").
	noun, fields string
	// example is the list in YAML, jsonExample in JSON, for errors.
	example, jsonExample string
	// set sets the item's field to val; errUnknownField if there is no
	// such field. Its errors name the field, not the item.
	set func(item *T, field string, val any) error
}

// errUnknownField is what mapList.set returns for a key items do not have.
var errUnknownField = errors.New("unknown field")

// decode decodes the list from YAML's or JSON's generic form.
func (l mapList[T]) decode(v any) ([]T, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of %ss, e.g. %s", l.noun, l.example)
	}
	var out []T // nil for an empty list, as when the key is unset
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d must be a map with %s", i+1, l.fields)
		}
		var item T
		for _, f := range sortedKeys(m) {
			err := l.set(&item, f, m[f])
			if errors.Is(err, errUnknownField) {
				return nil, fmt.Errorf("item %d: unknown key %q; a %s has %s", i+1, f, l.noun, l.fields)
			}
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
		}
		out = append(out, item)
	}
	return out, nil
}

// parseEnv decodes the environment variable name's value v: the list as
// JSON.
func (l mapList[T]) parseEnv(name, v string) ([]T, error) {
	var raw any
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of %ss, e.g. %s", name, l.noun, l.jsonExample)
	}
	out, err := l.decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// stringField is val as the string field f must be.
func stringField(f string, val any) (string, error) {
	s, ok := val.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string; put it in quotes", f)
	}
	return s, nil
}
