package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const plain = "hunter2-very-secret"

func TestSecretNeverPrinted(t *testing.T) {
	s := Secret(plain)
	if s.Reveal() != plain {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	outputs := map[string]string{
		"String":     s.String(),
		"GoString":   s.GoString(),
		"%v":         fmt.Sprintf("%v", s),
		"%+v":        fmt.Sprintf("%+v", s),
		"%#v":        fmt.Sprintf("%#v", s),
		"%s":         fmt.Sprintf("%s", s),
		"%q":         fmt.Sprintf("%q", s),
		"%x":         fmt.Sprintf("%x", s),
		"%X":         fmt.Sprintf("%X", s),
		"%d":         fmt.Sprintf("%d", s),
		"%10s":       fmt.Sprintf("%10s", s),
		"Sprint":     fmt.Sprint(s),
		"Sprintln":   fmt.Sprintln(s),
		"slice %v":   fmt.Sprintf("%v", []Secret{s, s}),
		"slice %#v":  fmt.Sprintf("%#v", []Secret{s}),
		"ptr %v":     fmt.Sprintf("%v", &s),
		"struct %+v": fmt.Sprintf("%+v", struct{ P Secret }{s}),
		"any %v":     fmt.Sprintf("%v", any(s)),
	}
	for name, out := range outputs {
		if strings.Contains(out, plain) || strings.Contains(out, fmt.Sprintf("%x", plain)) {
			t.Errorf("%s reveals the secret: %q", name, out)
		}
	}
	if got := fmt.Sprintf("%v|%s|%q", s, s, s); got != `[redacted]|[redacted]|"[redacted]"` {
		t.Errorf("formatting = %q", got)
	}
	if got := fmt.Sprintf("%#v", s); got != `config.Secret("[redacted]")` {
		t.Errorf("%%#v = %q", got)
	}
	var empty Secret
	if empty.String() != "" || fmt.Sprint(empty) != "" {
		t.Errorf("empty secret prints %q", empty.String())
	}
	if b, _ := json.Marshal(empty); string(b) != `""` {
		t.Errorf("empty JSON = %s", b)
	}
	if b, _ := json.Marshal(s); string(b) != `"[redacted]"` {
		t.Errorf("JSON = %s", b)
	}
	if b, _ := s.MarshalText(); string(b) != "[redacted]" {
		t.Errorf("MarshalText = %s", b)
	}
	if v := s.LogValue(); v.String() != "[redacted]" {
		t.Errorf("LogValue = %v", v)
	}
}

// secretConfig returns a loaded config with a secret in every Secret field.
// (database.url is a plain string; Summary redacts its password.)
func secretConfig(t *testing.T) *Config {
	t.Helper()
	return mustLoad(t, `
api_keys: ["`+plain+`-api"]
systems:
  s1:
    caldav_url: https://cal.example.org/
    tokens: ["`+plain+`-token"]
    username: svc
    password: "`+plain+`-pw"
  s2:
    caldav_url: https://cal2.example.org/
    tokens: ["`+plain+`-token2"]
    bearer_token: "`+plain+`-bearer"
channels:
  smtp: {host: smtp.example.org, from: a@example.org, username: u, password: "`+plain+`-smtp"}
  twilio: {account_sid: AC1, auth_token: "`+plain+`-tw", from: "+15550000000"}
  xmpp: {jid: a@example.org, password: "`+plain+`-xmpp"}
`, "NOTIFYD_DATABASE_URL=postgres://user:dbpw-in-url@db/notifyd")
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c := secretConfig(t)
	if c.Systems["s1"].Password.Reveal() != plain+"-pw" {
		t.Fatal("secret not loaded")
	}
	outputs := map[string]string{
		"%v":           fmt.Sprintf("%v", *c),
		"%+v":          fmt.Sprintf("%+v", *c),
		"%#v":          fmt.Sprintf("%#v", *c),
		"system %+v":   fmt.Sprintf("%+v", *c.Systems["s1"]) + fmt.Sprintf("%+v", *c.Systems["s2"]),
		"channels %+v": fmt.Sprintf("%+v", c.Channels),
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(b)

	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"slog json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"slog text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		var buf bytes.Buffer
		log := slog.New(h.new(&buf))
		log.Info("config", "config", c)
		log.LogAttrs(t.Context(), slog.LevelInfo, "summary", c.Summary()...)
		log.Info("direct", "pw", c.Systems["s1"].Password, "tokens", c.Systems["s1"].Tokens, "smtp", c.Channels.SMTP)
		log.Info("warnings", "w", c.Warnings())
		outputs[h.name] = buf.String()
	}
	for name, out := range outputs {
		if strings.Contains(out, plain) {
			t.Errorf("%s reveals a secret:\n%s", name, out)
		}
	}
	if !strings.Contains(outputs["%+v"], "[redacted]") {
		t.Errorf("%%+v output has no [redacted] marker: %s", outputs["%+v"])
	}
}

func TestSummary(t *testing.T) {
	c := secretConfig(t)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(t.Context(), slog.LevelInfo, "start", c.Summary()...)
	var got struct {
		HTTPAddr string `json:"http_addr"`
		Database struct {
			Kind, URL string
		} `json:"database"`
		APIKeys     int `json:"api_keys"`
		SystemCount int `json:"system_count"`
		Systems     map[string]struct {
			CalDAVHost    string `json:"caldav_host"`
			Tokens        int    `json:"tokens"`
			Auth          string `json:"auth"`
			AfterDelivery string `json:"after_delivery"`
		} `json:"systems"`
		Channels map[string]map[string]any `json:"channels"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if got.HTTPAddr != "127.0.0.1:8080" || got.APIKeys != 1 || got.SystemCount != 2 {
		t.Errorf("summary = %s", buf.Bytes())
	}
	if got.Database.Kind != "postgres" || !strings.Contains(got.Database.URL, "xxxxx") || strings.Contains(buf.String(), "dbpw-in-url") {
		t.Errorf("database = %+v", got.Database)
	}
	s1 := got.Systems["s1"]
	if s1.CalDAVHost != "cal.example.org" || s1.Tokens != 1 || s1.Auth != "basic" || s1.AfterDelivery != "keep" {
		t.Errorf("s1 = %+v", s1)
	}
	if got.Systems["s2"].Auth != "bearer" {
		t.Errorf("s2 = %+v", got.Systems["s2"])
	}
	for _, ch := range []string{"smtp", "twilio", "xmpp", "webhook"} {
		if got.Channels[ch]["enabled"] != true {
			t.Errorf("channel %s not enabled in %s", ch, buf.Bytes())
		}
	}

	d := Default()
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", d)
	for _, want := range []string{`"kind":"sqlite"`, `"path":"data/notifyd.db"`, `"api_keys":0`, `"smtp":{"enabled":false}`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("default summary lacks %s: %s", want, buf.String())
		}
	}
}
