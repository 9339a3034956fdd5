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
// database.url and channels.twilio.base_url, plain strings, carry secrets
// in their user info and query.
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
  twilio: {account_sid: AC1, auth_token: "`+plain+`-tw", from: "+15550000000",
    base_url: "https://`+plain+`-twuser:`+plain+`-twpw@mock.example.org/twilio?token=`+plain+`-twq&x=`+plain+`-twx#`+plain+`-twf"}
  xmpp: {jid: a@example.org, password: "`+plain+`-xmpp"}
`, "NOTIFYD_DATABASE_URL=postgres://user:"+plain+"-dbpw@db/notifyd?sslmode=verify-full&password="+plain+"-dbq&sslpassword="+plain+"-dbssl")
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
	// The structs holding URLs still print as themselves.
	for name, want := range map[string]string{
		"%+v":          "Database:{DataDir:./data URL:postgres://user:[redacted]@db/notifyd?sslmode=verify-full&password=[redacted]&sslpassword=[redacted]}",
		"%#v":          `Database:config.Database{DataDir:"./data", URL:"postgres://user:[redacted]@db/notifyd?`,
		"channels %+v": "Twilio:{AccountSID:AC1 AuthToken:[redacted] From:+15550000000",
		"json":         `"Database":{"DataDir":"./data","URL":"postgres://user:[redacted]@db/notifyd?`,
	} {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("%s output lacks %s:\n%s", name, want, outputs[name])
		}
	}
	if got := fmt.Sprintf("%#v", c.Channels.Twilio); !strings.HasPrefix(got, "config.Twilio{") {
		t.Errorf("%%#v of Twilio = %s", got)
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
	if want := "postgres://user:[redacted]@db/notifyd?sslmode=verify-full&password=[redacted]&sslpassword=[redacted]"; got.Database.Kind != "postgres" || got.Database.URL != want {
		t.Errorf("database = %+v, want url %s", got.Database, want)
	}
	if want := "https://[redacted]@mock.example.org/twilio?token=[redacted]&x=[redacted]#[redacted]"; got.Channels["twilio"]["base_url"] != want {
		t.Errorf("twilio base_url = %v, want %s", got.Channels["twilio"]["base_url"], want)
	}
	if strings.Contains(buf.String(), plain) {
		t.Errorf("the summary reveals a secret: %s", buf.Bytes())
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

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"postgres://notifyd:s3cret@db.example.org:5432/notifyd?sslmode=verify-full",
			"postgres://notifyd:[redacted]@db.example.org:5432/notifyd?sslmode=verify-full"},
		{"postgres://notifyd@db/notifyd", "postgres://notifyd@db/notifyd"},
		{"postgresql://db/notifyd?user=notifyd&password=s3cret&application_name=notifyd&SSLPassword=s3cret",
			"postgresql://db/notifyd?user=[redacted]&password=[redacted]&application_name=notifyd&SSLPassword=[redacted]"},
		{"postgres://u:p%40ss@db/x?pass%77ord=s3cret&sslkey=/etc/key.pem", "postgres://u:[redacted]@db/x?pass%77ord=[redacted]&sslkey=/etc/key.pem"},
		// Any other scheme: the whole user info, which may be a token.
		{"https://AC123:s3cret@mock.example.org/base/", "https://[redacted]@mock.example.org/base/"},
		{"https://s3cret@mock.example.org", "https://[redacted]@mock.example.org"},
		{"https://mock.example.org/?sig=s3cret&region=s3cret&s3cret", "https://mock.example.org/?sig=[redacted]&region=[redacted]&[redacted]"},
		{"https://mock.example.org/p%2Fq?#s3cret", "https://mock.example.org/p%2Fq?#[redacted]"},
		{"https://notifyd.example.org", "https://notifyd.example.org"},
		// Not a URL that can be taken apart: nothing of it is shown.
		{"postgres:s3cret@db", "postgres:[redacted]"},
		{"host=db password=s3cret", "[not an absolute URL; redacted]"},
		{"://s3cret", "[not an absolute URL; redacted]"},
		{"postgres://u:s3cret@db:port/x", "[not an absolute URL; redacted]"},
	}
	for _, tt := range tests {
		got := RedactURL(tt.in)
		if got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("RedactURL(%q) reveals the secret: %q", tt.in, got)
		}
	}
}

func TestPublicURLWithCredentialsRefused(t *testing.T) {
	// Credentials in http.public_url would be in every unsubscribe link
	// sent, and in the log.
	_, err := loadYAML(t, "http:\n  public_url: https://user:s3cret@notifyd.example.org\n")
	wantProblems(t, err, "http.public_url: must be an absolute http or https URL without credentials")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error reveals the secret: %v", err)
	}
}
