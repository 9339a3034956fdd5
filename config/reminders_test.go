package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// The bounds of the reminders settings are inclusive: an operator who
// sets exactly the documented minimum or maximum gets it.
func TestRemindersBoundsAccepted(t *testing.T) {
	for name, yaml := range map[string]string{
		"smallest": "reminders:\n  poll_interval: 10s\n  horizon: 1h\n  min_interval: 1m\n  grace: {email: 1m, sms: 1m, im: 1m, webhook: 1m}\n",
		"largest":  "reminders:\n  poll_interval: 719h\n  horizon: 720h\n  min_interval: 720h\n  grace: {email: 168h, sms: 168h, im: 168h, webhook: 168h}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadYAML(t, yaml); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestReminderGraceFor(t *testing.T) {
	g := ReminderGrace{Email: 1, SMS: 2, IM: 3, Webhook: 4}
	for ch, want := range map[notifyd.Channel]time.Duration{
		notifyd.ChannelEmail: 1, notifyd.ChannelSMS: 2, notifyd.ChannelIM: 3, notifyd.ChannelWebhook: 4, "pigeon": 0,
	} {
		if got := g.For(ch); got != want {
			t.Errorf("For(%s) = %v, want %v", ch, got, want)
		}
	}
	// Every channel notifyd has has a grace of its own.
	for _, ch := range notifyd.Channels {
		if Default().Reminders.Grace.For(ch) <= 0 {
			t.Errorf("no default grace for channel %s", ch)
		}
	}
}

// A poll interval that lets reminders slip through is worth a warning,
// unless reminders are off.
func TestRemindersSlowPollWarning(t *testing.T) {
	has := func(c *Config) bool {
		return slices.ContainsFunc(c.Warnings(), func(w string) bool { return strings.HasPrefix(w, "reminders.poll_interval is 10m0s") })
	}
	if has(mustLoad(t, "reminders:\n  poll_interval: 5m\n")) {
		t.Error("warning at 5m")
	}
	if !has(mustLoad(t, "reminders:\n  poll_interval: 10m\n")) {
		t.Error("no warning at 10m")
	}
	if has(mustLoad(t, "reminders:\n  poll_interval: 10m\n  enabled: false\n")) {
		t.Error("warning with reminders off")
	}
}

// The startup line says whether reminders are on, and with what.
func TestRemindersSummary(t *testing.T) {
	line := func(c *Config) map[string]any {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(t.Context(), slog.LevelInfo, "start", c.Summary()...)
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		r, _ := m["reminders"].(map[string]any)
		return r
	}
	got := line(Default())
	want := map[string]any{"enabled": true, "poll_interval": "1m0s", "horizon": "48h0m0s", "min_interval": "5m0s",
		"grace": map[string]any{"email": "2h0m0s", "sms": "15m0s", "im": "15m0s", "webhook": "15m0s"}}
	if b1, b2 := mustJSON(t, got), mustJSON(t, want); b1 != b2 {
		t.Errorf("reminders summary %s, want %s", b1, b2)
	}
	off := Default()
	off.Reminders.Enabled = false
	if got := mustJSON(t, line(off)); got != `{"enabled":false}` {
		t.Errorf("reminders off: summary %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
