package config

import (
	"strings"
	"testing"
)

// Retention settings out of bounds are refused with the key named;
// 0 (keep for ever) and the bounds themselves are accepted.
func TestRetentionValidation(t *testing.T) {
	for yaml, key := range map[string]string{
		"retention:\n  deliveries: 1h\n":        "retention.deliveries",
		"retention:\n  audit: 23h\n":            "retention.audit",
		"retention:\n  published_events: 10m\n": "retention.published_events",
		"retention:\n  pending_updates: 1s\n":   "retention.pending_updates",
		"retention:\n  interval: 30s\n":         "retention.interval",
		"retention:\n  interval: 25h\n":         "retention.interval",
		"retention:\n  batch: 99\n":             "retention.batch",
		"retention:\n  batch: 10001\n":          "retention.batch",
		"retention:\n  reminders: 48h\nreminders:\n  poll_interval: 48h\n  horizon: 72h\n": "retention.reminders",
	} {
		_, err := loadYAML(t, yaml)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: err = %v, want one naming %s", yaml, err, key)
		}
	}
	for _, yaml := range []string{
		"retention:\n  deliveries: 0s\n  reminders: 0s\n  published_events: 0s\n  pending_updates: 0s\n  audit: 0s\n",
		"retention:\n  deliveries: 24h\n  reminders: 24h\n  interval: 1m\n  batch: 100\n",
		"retention:\n  interval: 24h\n  batch: 10000\n",
	} {
		if _, err := loadYAML(t, yaml); err != nil {
			t.Errorf("%q: %v", yaml, err)
		}
	}
}
