package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML writes yaml to a temp file and loads it with env.
func loadYAML(t *testing.T, yaml string, env ...string) (*Config, error) {
	t.Helper()
	path := ""
	if yaml != "" {
		path = writeFile(t, t.TempDir(), "notifyd.yaml", yaml)
	}
	return Load(path, env)
}

func mustLoad(t *testing.T, yaml string, env ...string) *Config {
	t.Helper()
	c, err := loadYAML(t, yaml, env...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// problemsOf returns the problem list of a Load error.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not *config.Error: %v", err, err)
	}
	return ce.Problems
}

// wantProblems checks that err lists, for each want, a problem containing it.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	ps := problemsOf(t, err)
	for _, w := range want {
		if !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem contains %q; got:\n  %s", w, strings.Join(ps, "\n  "))
		}
	}
}

const validSystem = `
systems:
  localBedework:
    caldav_url: http://127.0.0.1:8008/
    tokens: ["token-0123456789"]
`

func TestDefault(t *testing.T) {
	d := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"http.addr", d.HTTP.Addr, "127.0.0.1:8080"},
		{"http.shutdown_timeout", d.HTTP.ShutdownTimeout, 15 * time.Second},
		{"http.read_header_timeout", d.HTTP.ReadHeaderTimeout, 5 * time.Second},
		{"http.idle_timeout", d.HTTP.IdleTimeout, 120 * time.Second},
		{"http.max_body_bytes", d.HTTP.MaxBodyBytes, int64(1048576)},
		{"database.data_dir", d.Database.DataDir, "./data"},
		{"database.url", d.Database.URL, ""},
		{"database kind", d.Database.Kind(), DatabaseSQLite},
		{"sqlite path", d.Database.SQLitePath(), filepath.Join("data", "notifyd.db")},
		{"log.level", d.Log.Level, "info"},
		{"log.format", d.Log.Format, "json"},
		{"api_keys", len(d.APIKeys), 0},
		{"systems", len(d.Systems), 0},
		{"smtp.port", d.Channels.SMTP.Port, 587},
		{"smtp.tls", d.Channels.SMTP.TLS, "starttls"},
		{"smtp.timeout", d.Channels.SMTP.Timeout, 30 * time.Second},
		{"twilio.timeout", d.Channels.Twilio.Timeout, 15 * time.Second},
		{"xmpp.tls", d.Channels.XMPP.TLS, "starttls"},
		{"webhook.timeout", d.Channels.Webhook.Timeout, 10 * time.Second},
		{"webhook.allow_private", d.Channels.Webhook.AllowPrivate, false},
		{"reminders.enabled", d.Reminders.Enabled, true},
		{"reminders.poll_interval", d.Reminders.PollInterval, time.Minute},
		{"reminders.horizon", d.Reminders.Horizon, 48 * time.Hour},
		{"reminders.min_interval", d.Reminders.MinInterval, 5 * time.Minute},
		{"reminders.grace.email", d.Reminders.Grace.Email, 2 * time.Hour},
		{"reminders.grace.sms", d.Reminders.Grace.SMS, 15 * time.Minute},
		{"reminders.grace.im", d.Reminders.Grace.IM, 15 * time.Minute},
		{"reminders.grace.webhook", d.Reminders.Grace.Webhook, 15 * time.Minute},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if d.Systems == nil {
		t.Error("Default().Systems is nil, want an empty map")
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	s := defaultSystem("x")
	if s.AfterDelivery != "keep" || s.Timeout != 30*time.Second || s.InsecureSkipVerify {
		t.Errorf("defaultSystem = %+v", s)
	}
}

func TestLoadNoFileIsDefault(t *testing.T) {
	for _, env := range [][]string{nil, {"PATH=/bin", "HOME=/root", "NOTIFYD_CONFIG=/nowhere"}} {
		c, err := Load("", env)
		if err != nil {
			t.Fatalf("Load(\"\", %q): %v", env, err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Load(\"\", %q) = %+v, want Default()", env, c)
		}
	}
}

func TestLoadEmptyFileIsDefault(t *testing.T) {
	for _, y := range []string{"", "# only a comment\n", "---\n"} {
		p := writeFile(t, t.TempDir(), "c.yaml", y)
		c, err := Load(p, nil)
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("%q: got %+v, want Default()", y, c)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	wantProblems(t, err, "file does not exist")
	if !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestLoadBadYAML(t *testing.T) {
	_, err := loadYAML(t, "http:\n  addr: [unclosed\n")
	wantProblems(t, err, "cannot read or parse as YAML")
	_, err = loadYAML(t, "http:\n  addr: a\n  addr: b\n")
	wantProblems(t, err, "cannot read or parse as YAML")
}

func TestLoadFileAllKeys(t *testing.T) {
	c := mustLoad(t, `
http:
  addr: 0.0.0.0:9090
  shutdown_timeout: 20s
  read_header_timeout: 2s
  idle_timeout: 1m
  max_body_bytes: 2048
database:
  data_dir: /var/lib/notifyd
  url: ""
log:
  level: DEBUG
  format: text
api_keys: ["api-key-0123456789abcdef", "api-key-fedcba9876543210"]
systems:
  localBedework:
    tokens: ["token-0123456789", "token-abcdefghij"]
    caldav_url: https://cal.example.org/ucaldav/
    username: svc
    password: s3cret-pw
    principal_prefix: /ucaldav/principals/
    after_delivery: Delete
    timeout: 45s
    insecure_skip_verify: true
    max_connections: 3
    always_immediate: [reminder, "event-deleted:2h"]
    urgent_within: 30m
  other.sys:
    caldav_url: http://localhost:8080/
    tokens: ["other-token-1"]
    bearer_token: bearer-xyz
channels:
  smtp:
    host: smtp.example.org
    port: 465
    username: mailer
    password: mail-pw
    tls: tls
    from: Notifyd <notifyd@example.org>
    timeout: 10s
    rate_limit: 2.5
    burst: 5
    bounce_domain: bounces.example.org
    bounce_listener:
      addr: ":2525"
    bounce_mailbox:
      addr: imap.example.org:993
      tls: true
      username: bounces
      password: imap-pw
      mailbox: Bounces
      poll_interval: 30s
  twilio:
    account_sid: AC0123
    auth_token: tw-token
    from: "+15551234567"
    messaging_service_sid: MG0123
    base_url: http://127.0.0.1:9999
    timeout: 3s
    rate_limit: 1
  xmpp:
    jid: notifyd@example.org
    password: xmpp-pw
    server: xmpp.example.org:5223
    tls: none
    rate_limit: 0
    burst: 0
  webhook:
    timeout: 4s
    allow_private: true
    rate_limit: 10
    burst: 20
reminders:
  enabled: false
  poll_interval: 30s
  horizon: 72h
  min_interval: 10m
  grace:
    email: 3h
    sms: 5m
    im: 1m
    webhook: 1h
updates:
  enabled: false
  burst_window: 30s
`)
	want := &Config{
		HTTP:     HTTP{Addr: "0.0.0.0:9090", ShutdownTimeout: 20 * time.Second, ReadHeaderTimeout: 2 * time.Second, IdleTimeout: time.Minute, WriteTimeout: 30 * time.Second, MaxBodyBytes: 2048},
		Database: Database{DataDir: "/var/lib/notifyd"},
		Log:      Log{Level: "debug", Format: "text"},
		APIKeys:  []Secret{"api-key-0123456789abcdef", "api-key-fedcba9876543210"},
		Systems: map[string]*System{
			"localBedework": {
				Name: "localBedework", Tokens: []Secret{"token-0123456789", "token-abcdefghij"},
				CalDAVURL: "https://cal.example.org/ucaldav/", Username: "svc", Password: "s3cret-pw",
				PrincipalPrefix: "/ucaldav/principals/", AfterDelivery: "delete", Timeout: 45 * time.Second,
				InsecureSkipVerify: true, MaxConnections: 3,
				AlwaysImmediate: []string{"reminder", "event-deleted:2h"}, UrgentWithin: 30 * time.Minute,
			},
			"other.sys": {
				Name: "other.sys", Tokens: []Secret{"other-token-1"}, CalDAVURL: "http://localhost:8080/",
				BearerToken: "bearer-xyz", AfterDelivery: "keep", Timeout: 30 * time.Second, MaxConnections: 8,
				AlwaysImmediate: defaultAlwaysImmediate(), UrgentWithin: 2 * time.Hour,
			},
		},
		Channels: Channels{
			SMTP: SMTP{Host: "smtp.example.org", Port: 465, Username: "mailer", Password: "mail-pw", TLS: "tls",
				From: "Notifyd <notifyd@example.org>", Timeout: 10 * time.Second, RateLimit: 2.5, Burst: 5,
				BounceDomain: "bounces.example.org", BounceListener: BounceListener{Addr: ":2525"},
				BounceMailbox: BounceMailbox{Addr: "imap.example.org:993", TLS: true, Username: "bounces", Password: "imap-pw",
					Mailbox: "Bounces", PollInterval: 30 * time.Second},
				PerDomain: Default().Channels.SMTP.PerDomain},
			Twilio: Twilio{AccountSID: "AC0123", AuthToken: "tw-token", From: "+15551234567", MessagingServiceSID: "MG0123",
				BaseURL: "http://127.0.0.1:9999", Timeout: 3 * time.Second, RateLimit: 1, Burst: 1, MaxSegments: 3, CoolDown: time.Minute},
			XMPP:    XMPP{JID: "notifyd@example.org", Password: "xmpp-pw", Server: "xmpp.example.org:5223", TLS: "none"},
			Webhook: Webhook{Timeout: 4 * time.Second, AllowPrivate: true, RateLimit: 10, Burst: 20},
		},
		Jobs: Default().Jobs,
		Reminders: Reminders{PollInterval: 30 * time.Second, Horizon: 72 * time.Hour, MinInterval: 10 * time.Minute,
			Grace: ReminderGrace{Email: 3 * time.Hour, SMS: 5 * time.Minute, IM: time.Minute, Webhook: time.Hour}},
		Updates: Updates{BurstWindow: 30 * time.Second},

		PreferencePage: PreferencePage{LinkTTL: 30 * 24 * time.Hour},
		Console:        Console{IdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour},
		Retention:      Default().Retention,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%#v\nwant\n%#v", c, want)
		for name, s := range c.Systems {
			t.Logf("system %s: %#v", name, *s)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	base := `
http:
  addr: 127.0.0.1:1111
  shutdown_timeout: 1s
log:
  level: warn
channels:
  smtp:
    host: file.example.org
    port: 25
    from: a@example.org
` + validSystem
	tests := []struct {
		name  string
		yaml  string
		env   []string
		check func(*Config) any
		want  any
	}{
		{"file value without env", base, nil, func(c *Config) any { return c.HTTP.Addr }, "127.0.0.1:1111"},
		{"env beats file (string)", base, []string{"NOTIFYD_HTTP_ADDR=:2222"}, func(c *Config) any { return c.HTTP.Addr }, ":2222"},
		{"env beats file (duration)", base, []string{"NOTIFYD_HTTP_SHUTDOWN_TIMEOUT=1m30s"}, func(c *Config) any { return c.HTTP.ShutdownTimeout }, 90 * time.Second},
		{"env beats default (duration)", base, []string{"NOTIFYD_HTTP_IDLE_TIMEOUT=3s"}, func(c *Config) any { return c.HTTP.IdleTimeout }, 3 * time.Second},
		{"env beats default (int64)", base, []string{"NOTIFYD_HTTP_MAX_BODY_BYTES=4096"}, func(c *Config) any { return c.HTTP.MaxBodyBytes }, int64(4096)},
		{"env beats file (int)", base, []string{"NOTIFYD_CHANNELS_SMTP_PORT=2525"}, func(c *Config) any { return c.Channels.SMTP.Port }, 2525},
		{"env beats file (enum)", base, []string{"NOTIFYD_LOG_LEVEL=error"}, func(c *Config) any { return c.Log.Level }, "error"},
		{"env nested channel key", base, []string{"NOTIFYD_CHANNELS_SMTP_HOST=env.example.org"}, func(c *Config) any { return c.Channels.SMTP.Host }, "env.example.org"},
		{"env float", base, []string{"NOTIFYD_CHANNELS_WEBHOOK_RATE_LIMIT=0.5"}, func(c *Config) any { return c.Channels.Webhook.RateLimit }, 0.5},
		{"env rate sets burst 1", base, []string{"NOTIFYD_CHANNELS_WEBHOOK_RATE_LIMIT=0.5"}, func(c *Config) any { return c.Channels.Webhook.Burst }, 1},
		{"env string list", base, []string{"NOTIFYD_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.7"}, func(c *Config) any { return c.HTTP.TrustedProxies }, []string{"10.0.0.0/8", "192.0.2.7"}},
		{"env bool", base, []string{"NOTIFYD_CHANNELS_WEBHOOK_ALLOW_PRIVATE=1"}, func(c *Config) any { return c.Channels.Webhook.AllowPrivate }, true},
		{"env secret", base, []string{"NOTIFYD_CHANNELS_TWILIO_AUTH_TOKEN=tok"}, func(c *Config) any { return c.Channels.Twilio.AuthToken.Reveal() }, "tok"},
		{"env api keys comma-separated", base, []string{"NOTIFYD_API_KEYS= k1-0123456789abcdef , k2-0123456789abcdef,,"}, func(c *Config) any { return c.APIKeys }, []Secret{"k1-0123456789abcdef", "k2-0123456789abcdef"}},
		{"env database url", base, []string{"NOTIFYD_DATABASE_URL=postgres://u:p@db/notifyd"}, func(c *Config) any { return c.Database.Kind() }, DatabasePostgres},
		{"empty env var is unset", base, []string{"NOTIFYD_HTTP_ADDR="}, func(c *Config) any { return c.HTTP.Addr }, "127.0.0.1:1111"},
		{"first duplicate wins like os.Getenv", base, []string{"NOTIFYD_HTTP_ADDR=:1", "NOTIFYD_HTTP_ADDR=:2"}, func(c *Config) any { return c.HTTP.Addr }, ":1"},
		{"system field beats file", base, []string{"NOTIFYD_SYSTEMS_LOCALBEDEWORK_CALDAV_URL=https://env.example.org/"}, func(c *Config) any { return c.Systems["localBedework"].CalDAVURL }, "https://env.example.org/"},
		{"system tokens beat file", base, []string{"NOTIFYD_SYSTEMS_LOCALBEDEWORK_TOKENS=abcdefgh,ijklmnop"}, func(c *Config) any { return c.Systems["localBedework"].Tokens }, []Secret{"abcdefgh", "ijklmnop"}},
		{"env without file", "", []string{"NOTIFYD_HTTP_ADDR=:3333"}, func(c *Config) any { return c.HTTP.Addr }, ":3333"},
		{"env reminders bool", base, []string{"NOTIFYD_REMINDERS_ENABLED=false"}, func(c *Config) any { return c.Reminders.Enabled }, false},
		{"env reminders nested duration", base, []string{"NOTIFYD_REMINDERS_GRACE_IM=2m"}, func(c *Config) any { return c.Reminders.Grace }, ReminderGrace{Email: 2 * time.Hour, SMS: 15 * time.Minute, IM: 2 * time.Minute, Webhook: 15 * time.Minute}},
		{"env reminders poll", base, []string{"NOTIFYD_REMINDERS_POLL_INTERVAL=15s"}, func(c *Config) any { return c.Reminders.PollInterval }, 15 * time.Second},
		{"other env untouched", base, []string{"NOTIFYD_LOG_FORMAT=text"}, func(c *Config) any { return c.HTTP.Addr + " " + c.Log.Level }, "127.0.0.1:1111 warn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.yaml, tt.env...)
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDataDirAlias(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     []string
		want    string
		wantErr string
	}{
		{"default", "", nil, "./data", ""},
		{"file", "database:\n  data_dir: /from/file\n", nil, "/from/file", ""},
		{"alias beats file", "database:\n  data_dir: /from/file\n", []string{"NOTIFYD_DATA_DIR=/alias"}, "/alias", ""},
		{"long name", "", []string{"NOTIFYD_DATABASE_DATA_DIR=/long"}, "/long", ""},
		{"both equal", "", []string{"NOTIFYD_DATA_DIR=/same", "NOTIFYD_DATABASE_DATA_DIR=/same"}, "/same", ""},
		{"both different", "", []string{"NOTIFYD_DATA_DIR=/a", "NOTIFYD_DATABASE_DATA_DIR=/b"}, "", "set only one of them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadYAML(t, tt.yaml, tt.env...)
			if tt.wantErr != "" {
				wantProblems(t, err, tt.wantErr, "NOTIFYD_DATA_DIR", "NOTIFYD_DATABASE_DATA_DIR")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Database.DataDir != tt.want {
				t.Errorf("DataDir = %q, want %q", c.Database.DataDir, tt.want)
			}
			if got, want := c.Database.SQLitePath(), filepath.Join(tt.want, "notifyd.db"); got != want {
				t.Errorf("SQLitePath = %q, want %q", got, want)
			}
		})
	}
}

func TestSystemFromEnvOnly(t *testing.T) {
	c := mustLoad(t, "",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_CALDAV_URL=http://127.0.0.1:8008/",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_TOKENS=abc-12345,def-67890",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_USERNAME=admin",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_PASSWORD=bedework",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_AFTER_DELIVERY=mark",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_TIMEOUT=5s",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_INSECURE_SKIP_VERIFY=true",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_PRINCIPAL_PREFIX=/ucaldav/principals/",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_MAX_CONNECTIONS=2",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_ALWAYS_IMMEDIATE=reminder,share-invite",
		"NOTIFYD_SYSTEMS_LOCALBEDEWORK_URGENT_WITHIN=0s",
	)
	want := map[string]*System{"localbedework": {
		Name: "localbedework", Tokens: []Secret{"abc-12345", "def-67890"}, CalDAVURL: "http://127.0.0.1:8008/",
		Username: "admin", Password: "bedework", PrincipalPrefix: "/ucaldav/principals/", AfterDelivery: "mark",
		Timeout: 5 * time.Second, InsecureSkipVerify: true, MaxConnections: 2,
		AlwaysImmediate: []string{"reminder", "share-invite"},
	}}
	if !reflect.DeepEqual(c.Systems, want) {
		t.Errorf("Systems = %#v", c.Systems["localbedework"])
	}
}

func TestSystemEnvNameMatching(t *testing.T) {
	yaml := `
systems:
  local-Bedework:
    caldav_url: http://127.0.0.1:8008/
    tokens: ["token-0123456789"]
  cal.example.org:
    caldav_url: https://cal.example.org/
    tokens: ["token-abcdefghij"]
`
	tests := []struct {
		name     string
		env      string
		system   string
		field    func(*System) any
		want     any
		nSystems int
	}{
		{"non-alnum mapped, case-insensitive", "NOTIFYD_SYSTEMS_LOCAL_BEDEWORK_PRINCIPAL_PREFIX=/p/", "local-Bedework", func(s *System) any { return s.PrincipalPrefix }, "/p/", 2},
		{"lower-case env name matches", "NOTIFYD_SYSTEMS_local_bedework_TIMEOUT=9s", "local-Bedework", func(s *System) any { return s.Timeout }, 9 * time.Second, 2},
		{"dots mapped", "NOTIFYD_SYSTEMS_CAL_EXAMPLE_ORG_AFTER_DELIVERY=delete", "cal.example.org", func(s *System) any { return s.AfterDelivery }, "delete", 2},
		{"unknown name creates lower-cased system", "NOTIFYD_SYSTEMS_NEWONE_TOKENS=abcdefghij", "newone", func(s *System) any { return s.Tokens }, []Secret{"abcdefghij"}, 3},
		{"longest suffix: BEARER_TOKEN_FILE", "NOTIFYD_SYSTEMS_LOCAL_BEDEWORK_BEARER_TOKEN=bt", "local-Bedework", func(s *System) any { return s.BearerToken.Reveal() }, "bt", 2},
		{"name containing a field word", "NOTIFYD_SYSTEMS_MY_TOKENS_TOKENS=abcdefghij", "my_tokens", func(s *System) any { return s.Tokens }, []Secret{"abcdefghij"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{tt.env}
			if tt.nSystems == 3 {
				// a new system also needs its URL to validate
				env = append(env, "NOTIFYD_SYSTEMS_"+strings.ToUpper(tt.system)+"_CALDAV_URL=http://localhost/")
			}
			c := mustLoad(t, yaml, env...)
			if len(c.Systems) != tt.nSystems {
				t.Fatalf("got %d systems (%v), want %d", len(c.Systems), sortedKeys(c.Systems), tt.nSystems)
			}
			s := c.Systems[tt.system]
			if s == nil {
				t.Fatalf("no system %q in %v", tt.system, sortedKeys(c.Systems))
			}
			if s.Name != tt.system {
				t.Errorf("Name = %q, want %q", s.Name, tt.system)
			}
			if got := tt.field(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	t.Run("ambiguous", func(t *testing.T) {
		_, err := loadYAML(t, `
systems:
  a-b: {caldav_url: "http://x/", tokens: ["token-0123456789"]}
  a.b: {caldav_url: "http://y/", tokens: ["token-abcdefghij"]}
`, "NOTIFYD_SYSTEMS_A_B_USERNAME=u")
		wantProblems(t, err, "NOTIFYD_SYSTEMS_A_B_USERNAME: matches several systems (a-b, a.b)")
	})
	t.Run("unknown field", func(t *testing.T) {
		_, err := loadYAML(t, "", "NOTIFYD_SYSTEMS_FOO_TOKEN=abcdefghij")
		wantProblems(t, err, "NOTIFYD_SYSTEMS_FOO_TOKEN: not a system setting", "CALDAV_URL")
	})
	t.Run("missing name", func(t *testing.T) {
		_, err := loadYAML(t, "", "NOTIFYD_SYSTEMS_TOKENS=abcdefghij")
		wantProblems(t, err, "NOTIFYD_SYSTEMS_TOKENS: not a system setting")
	})
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "smtp.pw", "smtp-secret\n")
	writeFile(t, dir, "crlf.pw", "crlf-secret\r\n")
	writeFile(t, dir, "tokens", "# ping tokens\n\ntoken-0123456789\n  token-abcdefghij  \n#old-token-xxxx\n")
	writeFile(t, dir, "apikeys", "key-0123456789abcdef\nkey-fedcba9876543210\n")
	writeFile(t, dir, "empty", "\n")
	abs := func(n string) string { return filepath.Join(dir, n) }

	tests := []struct {
		name    string
		yaml    string
		env     []string
		check   func(*Config) any
		want    any
		wantErr []string
	}{
		{
			name:  "yaml password_file relative to config dir",
			yaml:  "channels:\n  smtp:\n    password_file: smtp.pw\n",
			check: func(c *Config) any { return c.Channels.SMTP.Password.Reveal() }, want: "smtp-secret",
		},
		{
			name:  "crlf trimmed",
			yaml:  "channels:\n  xmpp:\n    password_file: " + abs("crlf.pw") + "\n",
			check: func(c *Config) any { return c.Channels.XMPP.Password.Reveal() }, want: "crlf-secret",
		},
		{
			name:  "preference page settings",
			yaml:  "preference_page:\n  link_ttl: 48h\n  sms_and_im_link: true\n",
			check: func(c *Config) any { return c.PreferencePage },
			want:  PreferencePage{LinkTTL: 48 * time.Hour, SMSAndIMLink: true},
		},
		{
			name:  "console settings",
			yaml:  "console:\n  enabled: true\n  idle_timeout: 10m\n",
			env:   []string{"NOTIFYD_CONSOLE_SESSION_LIFETIME=2h"},
			check: func(c *Config) any { return c.Console },
			want:  Console{Enabled: true, IdleTimeout: 10 * time.Minute, SessionLifetime: 2 * time.Hour},
		},
		{
			name:    "console idle timeout too short",
			env:     []string{"NOTIFYD_CONSOLE_IDLE_TIMEOUT=10s"},
			wantErr: []string{"console.idle_timeout (from NOTIFYD_CONSOLE_IDLE_TIMEOUT): must be between 1m and 24h"},
		},
		{
			name:    "console session shorter than its idle timeout",
			yaml:    "console:\n  idle_timeout: 2h\n  session_lifetime: 1h\n",
			wantErr: []string{"console.session_lifetime: must be at least console.idle_timeout"},
		},
		{
			name:    "preference link lifetime too short",
			env:     []string{"NOTIFYD_PREFERENCE_PAGE_LINK_TTL=10m"},
			wantErr: []string{"preference_page.link_ttl (from NOTIFYD_PREFERENCE_PAGE_LINK_TTL): must be between 1h and 8784h"},
		},
		{
			name:  "yaml tokens_file: comments and blank lines ignored",
			yaml:  "systems:\n  s1:\n    caldav_url: http://localhost/\n    tokens_file: tokens\n",
			check: func(c *Config) any { return c.Systems["s1"].Tokens }, want: []Secret{"token-0123456789", "token-abcdefghij"},
		},
		{
			name:  "env api_keys_file",
			env:   []string{"NOTIFYD_API_KEYS_FILE=" + abs("apikeys")},
			check: func(c *Config) any { return c.APIKeys }, want: []Secret{"key-0123456789abcdef", "key-fedcba9876543210"},
		},
		{
			name:  "env system password_file",
			yaml:  validSystem,
			env:   []string{"NOTIFYD_SYSTEMS_LOCALBEDEWORK_USERNAME=u", "NOTIFYD_SYSTEMS_LOCALBEDEWORK_PASSWORD_FILE=" + abs("smtp.pw")},
			check: func(c *Config) any { return c.Systems["localBedework"].Password.Reveal() }, want: "smtp-secret",
		},
		{
			name:  "env system bearer_token_file",
			yaml:  validSystem,
			env:   []string{"NOTIFYD_SYSTEMS_LOCALBEDEWORK_BEARER_TOKEN_FILE=" + abs("smtp.pw")},
			check: func(c *Config) any { return c.Systems["localBedework"].BearerToken.Reveal() }, want: "smtp-secret",
		},
		{
			name:  "env system tokens_file",
			env:   []string{"NOTIFYD_SYSTEMS_S2_TOKENS_FILE=" + abs("tokens"), "NOTIFYD_SYSTEMS_S2_CALDAV_URL=http://localhost/"},
			check: func(c *Config) any { return c.Systems["s2"].Tokens }, want: []Secret{"token-0123456789", "token-abcdefghij"},
		},
		{
			name:  "env _FILE beats yaml value",
			yaml:  "channels:\n  twilio:\n    auth_token: from-yaml\n",
			env:   []string{"NOTIFYD_CHANNELS_TWILIO_AUTH_TOKEN_FILE=" + abs("smtp.pw")},
			check: func(c *Config) any { return c.Channels.Twilio.AuthToken.Reveal() }, want: "smtp-secret",
		},
		{
			name:  "env value beats yaml _file (file not read)",
			yaml:  "channels:\n  twilio:\n    auth_token_file: /does/not/exist\n",
			env:   []string{"NOTIFYD_CHANNELS_TWILIO_AUTH_TOKEN=from-env"},
			check: func(c *Config) any { return c.Channels.Twilio.AuthToken.Reveal() }, want: "from-env",
		},
		{
			name:    "yaml value and _file both set",
			yaml:    "channels:\n  smtp:\n    password: x\n    password_file: smtp.pw\n",
			wantErr: []string{"channels.smtp.password: also set as channels.smtp.password_file; set only one of them"},
		},
		{
			name:    "env value and _FILE both set",
			env:     []string{"NOTIFYD_CHANNELS_SMTP_PASSWORD=x", "NOTIFYD_CHANNELS_SMTP_PASSWORD_FILE=" + abs("smtp.pw")},
			wantErr: []string{"NOTIFYD_CHANNELS_SMTP_PASSWORD: also set as NOTIFYD_CHANNELS_SMTP_PASSWORD_FILE"},
		},
		{
			name:    "system tokens and tokens_file both set",
			yaml:    "systems:\n  s1:\n    caldav_url: http://localhost/\n    tokens: [token-0123456789]\n    tokens_file: tokens\n",
			wantErr: []string{"systems.s1.tokens: also set as systems.s1.tokens_file"},
		},
		{
			name:    "missing file",
			yaml:    "channels:\n  smtp:\n    password_file: missing.pw\n",
			wantErr: []string{"channels.smtp.password_file: cannot read secret file", "missing.pw"},
		},
		{
			name:    "empty file",
			env:     []string{"NOTIFYD_CHANNELS_XMPP_PASSWORD_FILE=" + abs("empty")},
			wantErr: []string{"NOTIFYD_CHANNELS_XMPP_PASSWORD_FILE: secret file", "is empty"},
		},
		{
			name:    "_file not a string",
			yaml:    "channels:\n  smtp:\n    password_file: 12\n",
			wantErr: []string{"channels.smtp.password_file: must be the path of a file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, dir, "notifyd.yaml", tt.yaml)
			}
			c, err := Load(path, tt.env)
			if tt.wantErr != nil {
				wantProblems(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"top level", "htp:\n  addr: :1\n", []string{`htp: unknown key (did you mean "http"?)`}},
		{"nested", "http:\n  adr: :1\n", []string{`http.adr: unknown key (did you mean "addr"?)`}},
		{"deep", "channels:\n  smtp:\n    hostname: x\n", []string{`channels.smtp.hostname: unknown key (did you mean "host`}},
		{"unknown channel", "channels:\n  slack: {}\n", []string{"channels.slack: unknown key"}},
		{"system key", "systems:\n  s1:\n    caldav_ur: http://x/\n", []string{`systems.s1.caldav_ur: unknown key (did you mean "caldav_url"?)`}},
		{"name is not a key", "systems:\n  s1:\n    name: x\n", []string{"systems.s1.name: unknown key"}},
		{"no _file for non-secret", "http:\n  addr_file: /x\n", []string{"http.addr_file: unknown key"}},
		{"several", "foo: 1\nbar: 2\nlog:\n  lvl: debug\n", []string{"foo: unknown key", "bar: unknown key", "log.lvl: unknown key"}},
		{"group is a scalar", "http: 8080\n", []string{"http: must be a map with keys addr, idle_timeout"}},
		{"systems is a list", "systems: [a, b]\n", []string{"systems: must be a map of system name"}},
		{"system is a scalar", "systems:\n  s1: http://x/\n", []string{"systems.s1: must be a map of settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			wantProblems(t, err, tt.want...)
		})
	}
}

func TestYAMLTypeErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"duration as number", "http:\n  shutdown_timeout: 15\n", `http.shutdown_timeout: must be a duration with a unit, such as "30s"`},
		{"bad duration", "http:\n  idle_timeout: 2 minutes\n", `http.idle_timeout: "2 minutes" is not a duration`},
		{"int as string", "channels:\n  smtp:\n    port: \"587\"\n", "channels.smtp.port: must be a whole number"},
		{"int as fraction", "http:\n  max_body_bytes: 1.5\n", "http.max_body_bytes: must be a whole number"},
		{"float as string", "channels:\n  webhook:\n    rate_limit: fast\n", "channels.webhook.rate_limit: must be a number"},
		{"bool as string", "channels:\n  webhook:\n    allow_private: yes\n", "channels.webhook.allow_private: must be true or false"},
		{"string as number", "channels:\n  twilio:\n    from: +15551234567\n", "channels.twilio.from: must be a string; put the value in quotes"},
		{"secret list as scalar", "api_keys: abcdefghijklmnopq\n", "api_keys: must be a list of strings"},
		{"secret list item", "api_keys: [abcdefghijklmnopq, 12345678901234567]\n", "api_keys: item 1 must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			wantProblems(t, err, tt.want)
		})
	}

	t.Run("secret value never echoed", func(t *testing.T) {
		_, err := loadYAML(t, "channels:\n  smtp:\n    password: 987654321\n")
		wantProblems(t, err, "channels.smtp.password: must be a string")
		if strings.Contains(err.Error(), "987654321") {
			t.Errorf("error reveals the secret: %v", err)
		}
	})
	t.Run("integral float accepted for int", func(t *testing.T) {
		c := mustLoad(t, "http:\n  max_body_bytes: 2e6\n")
		if c.HTTP.MaxBodyBytes != 2000000 {
			t.Errorf("MaxBodyBytes = %d", c.HTTP.MaxBodyBytes)
		}
	})
	t.Run("empty value keeps default", func(t *testing.T) {
		c := mustLoad(t, "http:\n  addr:\nlog:\nsystems:\n")
		if c.HTTP.Addr != "127.0.0.1:8080" {
			t.Errorf("Addr = %q", c.HTTP.Addr)
		}
	})
	t.Run("decode error not reported twice", func(t *testing.T) {
		_, err := loadYAML(t, "systems:\n  s1:\n    caldav_url: 42\n    tokens: [token-0123456789]\n")
		ps := problemsOf(t, err)
		if len(ps) != 1 || !strings.Contains(ps[0], "systems.s1.caldav_url: must be a string") {
			t.Errorf("problems = %q, want only the type error", ps)
		}
	})
}

func TestMalformedEnv(t *testing.T) {
	tests := []struct {
		env  string
		want string
	}{
		{"NOTIFYD_HTTP_SHUTDOWN_TIMEOUT=15", `NOTIFYD_HTTP_SHUTDOWN_TIMEOUT: "15" is not a duration`},
		{"NOTIFYD_HTTP_MAX_BODY_BYTES=1MB", `NOTIFYD_HTTP_MAX_BODY_BYTES: "1MB" is not a whole number`},
		{"NOTIFYD_CHANNELS_SMTP_PORT=99999999999999999999", "NOTIFYD_CHANNELS_SMTP_PORT:"},
		{"NOTIFYD_CHANNELS_TWILIO_RATE_LIMIT=lots", `NOTIFYD_CHANNELS_TWILIO_RATE_LIMIT: "lots" is not a number`},
		{"NOTIFYD_CHANNELS_WEBHOOK_ALLOW_PRIVATE=yes", `NOTIFYD_CHANNELS_WEBHOOK_ALLOW_PRIVATE: "yes" is not a boolean`},
		{"NOTIFYD_SYSTEMS_S1_TIMEOUT=soon", `NOTIFYD_SYSTEMS_S1_TIMEOUT: "soon" is not a duration`},
		{"NOTIFYD_SYSTEMS_S1_INSECURE_SKIP_VERIFY=maybe", `NOTIFYD_SYSTEMS_S1_INSECURE_SKIP_VERIFY: "maybe" is not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, err := loadYAML(t, "", tt.env)
			wantProblems(t, err, tt.want)
		})
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{"bad system name", "systems:\n  -bad:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n", nil,
			[]string{"systems.-bad: invalid system name"}},
		{"system name too long", "systems:\n  " + strings.Repeat("a", 65) + ":\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n", nil,
			[]string{"invalid system name"}},
		{"empty system", "systems:\n  s1:\n", nil,
			[]string{"systems.s1.tokens: at least one ping token is required", "NOTIFYD_SYSTEMS_S1_TOKENS", "systems.s1.caldav_url: is required"}},
		{"short token", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [short, token-0123456789]\n", nil,
			[]string{"systems.s1.tokens: token 1 is shorter than 8 characters"}},
		{"relative caldav_url", "systems:\n  localBedework:\n    caldav_url: /dav/\n    tokens: [token-0123456789]\n", nil,
			[]string{"systems.localBedework.caldav_url: must be an absolute http or https URL"}},
		{"ftp caldav_url", "systems:\n  s1:\n    caldav_url: ftp://x/\n    tokens: [token-0123456789]\n", nil,
			[]string{"systems.s1.caldav_url: must be an absolute http or https URL"}},
		{"caldav_url query, fragment, userinfo", "systems:\n  s1:\n    caldav_url: \"http://u:p@x/?a=b#f\"\n    tokens: [token-0123456789]\n", nil,
			[]string{"must not contain credentials", "must not have a query string", "must not have a fragment"}},
		{"caldav_url from env is named", "", []string{"NOTIFYD_SYSTEMS_S1_CALDAV_URL=nope", "NOTIFYD_SYSTEMS_S1_TOKENS=token-0123456789"},
			[]string{"systems.s1.caldav_url (from NOTIFYD_SYSTEMS_S1_CALDAV_URL): must be an absolute http or https URL"}},
		{"after_delivery", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    after_delivery: archive\n", nil,
			[]string{"systems.s1.after_delivery: must be one of delete, mark, keep"}},
		{"principal_prefix", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    principal_prefix: dav/\n", nil,
			[]string{`systems.s1.principal_prefix: must be an absolute path starting with "/"`}},
		{"system timeout", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    timeout: 0s\n", nil,
			[]string{"systems.s1.timeout: must be a positive duration"}},
		{"system max_connections", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    max_connections: 0\n", nil,
			[]string{"systems.s1.max_connections: must be between 1 and 1000"}},
		{"bearer and basic", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    username: u\n    password: p\n    bearer_token: b\n", nil,
			[]string{"systems.s1.bearer_token: use either bearer_token or username/password"}},
		{"username without password", "systems:\n  s1:\n    caldav_url: http://x/\n    tokens: [token-0123456789]\n    username: u\n", nil,
			[]string{"systems.s1.password: is required when username is set"}},
		{"http.addr", "http:\n  addr: localhost\n", nil, []string{"http.addr: must be host:port"}},
		{"http.addr port", "http:\n  addr: localhost:http\n", nil, []string{"http.addr: port must be a number"}},
		{"http.addr from env", "", []string{"NOTIFYD_HTTP_ADDR=8080"}, []string{"http.addr (from NOTIFYD_HTTP_ADDR): must be host:port"}},
		{"max_body_bytes", "http:\n  max_body_bytes: 0\n", nil, []string{"http.max_body_bytes: must be greater than 0"}},
		{"http timeouts", "http:\n  shutdown_timeout: -1s\n  read_header_timeout: 0s\n  idle_timeout: 0s\n", nil,
			[]string{"http.shutdown_timeout: must be a positive duration", "http.read_header_timeout", "http.idle_timeout"}},
		{"write_timeout", "http:\n  write_timeout: 0s\n", nil, []string{"http.write_timeout: must be a positive duration"}},
		{"trusted_proxies", "http:\n  trusted_proxies: [10.0.0.0/8, proxy.example.org, 10.0.0.1/33]\n", nil,
			[]string{`http.trusted_proxies[1]: "proxy.example.org" is not an IP address or CIDR range`, `http.trusted_proxies[2]: "10.0.0.1/33"`}},
		{"trusted_proxies not a list", "http:\n  trusted_proxies: 10.0.0.0/8\n", nil, []string{"http.trusted_proxies: must be a list of strings"}},
		{"log", "log:\n  level: verbose\n  format: xml\n", nil, []string{"log.level: must be one of debug, info, warn, error", "log.format: must be json or text"}},
		{"database.url", "database:\n  url: mysql://x/db\n", nil, []string{"database.url: must be empty (embedded SQLite in data_dir) or a postgres://"}},
		{"database.data_dir", "database:\n  data_dir: \"\"\n", nil, []string{"database.data_dir: must not be empty"}},
		{"empty api key", "api_keys: [\"\"]\n", nil, []string{"api_keys: entry 1 is empty"}},
		{"smtp tls and port", "channels:\n  smtp:\n    tls: ssl\n    port: 0\n", nil,
			[]string{"channels.smtp.tls: must be one of starttls, tls, none", "channels.smtp.port: must be between 1 and 65535"}},
		{"smtp from required", "channels:\n  smtp:\n    host: smtp.example.org\n", nil, []string{"channels.smtp.from: is required when channels.smtp.host is set"}},
		{"smtp from invalid", "channels:\n  smtp:\n    host: smtp.example.org\n    from: not an address\n", nil, []string{"channels.smtp.from: must be an email address"}},
		{"smtp host with port", "channels:\n  smtp:\n    host: smtp.example.org:25\n    from: a@example.org\n", nil, []string{"channels.smtp.host: must be a host name only"}},
		{"smtp credentials pairing", "channels:\n  smtp:\n    host: h\n    from: a@example.org\n    username: u\n", nil, []string{"channels.smtp.password: is required when channels.smtp.username is set"}},
		{"bounce domain", "channels:\n  smtp:\n    bounce_domain: not a domain\n", nil, []string{"channels.smtp.bounce_domain: must be a domain name"}},
		{"bounce listener without domain", "channels:\n  smtp:\n    bounce_listener:\n      addr: \":2525\"\n", nil,
			[]string{"channels.smtp.bounce_listener.addr: needs channels.smtp.bounce_domain"}},
		{"bounce listener addr", "channels:\n  smtp:\n    bounce_domain: bounces.example.org\n    bounce_listener:\n      addr: \"2525\"\n", nil,
			[]string{"channels.smtp.bounce_listener.addr: must be host:port"}},
		{"bounce mailbox", "channels:\n  smtp:\n    bounce_mailbox:\n      addr: \":143\"\n      poll_interval: 0s\n", nil,
			[]string{"channels.smtp.bounce_mailbox.addr: must name a host", "channels.smtp.bounce_mailbox.addr: needs channels.smtp.bounce_domain",
				"channels.smtp.bounce_mailbox.username: and password are required", "channels.smtp.bounce_mailbox.poll_interval: must be a positive duration"}},
		{"smtp rate", "channels:\n  smtp:\n    rate_limit: -1\n    burst: -2\n", nil, []string{"channels.smtp.rate_limit: must be a finite number >= 0", "channels.smtp.burst: must be >= 0"}},
		{"twilio incomplete", "channels:\n  twilio:\n    account_sid: AC1\n", nil,
			[]string{"channels.twilio.auth_token: is required", "channels.twilio.from: is required when channels.twilio.account_sid is set"}},
		{"twilio base_url", "channels:\n  twilio:\n    base_url: localhost:9999\n", nil, []string{"channels.twilio.base_url: must be an absolute http or https URL"}},
		{"xmpp", "channels:\n  xmpp:\n    jid: notifyd\n    tls: plain\n    server: xmpp.example.org\n", nil,
			[]string{"channels.xmpp.jid: must be a bare or full JID", "channels.xmpp.password: is required", "channels.xmpp.tls: must be one of", "channels.xmpp.server: must be host:port"}},
		{"reminders poll too short", "reminders:\n  poll_interval: 9s\n", nil,
			[]string{"reminders.poll_interval: must be at least 10s"}},
		{"reminders poll from env", "", []string{"NOTIFYD_REMINDERS_POLL_INTERVAL=1s"},
			[]string{"reminders.poll_interval (from NOTIFYD_REMINDERS_POLL_INTERVAL): must be at least 10s"}},
		{"reminders poll not under horizon", "reminders:\n  poll_interval: 2h\n  horizon: 2h\n", nil,
			[]string{"reminders.poll_interval: must be shorter than reminders.horizon"}},
		{"reminders horizon too short", "reminders:\n  horizon: 59m\n  min_interval: 1m\n  poll_interval: 10s\n", nil,
			[]string{"reminders.horizon: must be between 1h and 720h"}},
		{"reminders horizon too long", "reminders:\n  horizon: 721h\n", nil,
			[]string{"reminders.horizon: must be between 1h and 720h"}},
		{"reminders min_interval too short", "reminders:\n  min_interval: 59s\n", nil,
			[]string{"reminders.min_interval: must be at least 1m"}},
		{"reminders min_interval beyond horizon", "reminders:\n  min_interval: 49h\n", nil,
			[]string{"reminders.min_interval: must not exceed reminders.horizon"}},
		{"reminders grace", "reminders:\n  grace:\n    email: 0s\n    sms: -1m\n    im: 30s\n    webhook: 169h\n", nil,
			[]string{"reminders.grace.email: must be between 1m and 168h", "reminders.grace.sms: must be between",
				"reminders.grace.im: must be between", "reminders.grace.webhook: must be between"}},
		{"webhook", "channels:\n  webhook:\n    timeout: 0s\n    rate_limit: .nan\n", nil,
			[]string{"channels.webhook.timeout: must be a positive duration", "channels.webhook.rate_limit: must be a finite number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml, tt.env...)
			wantProblems(t, err, tt.want...)
		})
	}
}

func TestUnconfiguredChannelsAreValid(t *testing.T) {
	c := mustLoad(t, "channels:\n  smtp:\n    host: \"\"\n  twilio: {}\n  xmpp:\n    jid: \"\"\n")
	if c.Channels.SMTP.Host != "" || c.Channels.Twilio.AccountSID != "" || c.Channels.XMPP.JID != "" {
		t.Errorf("channels = %+v", c.Channels)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := loadYAML(t, `
http:
  addr: nope
  max_body_bytes: -1
log:
  level: loud
typo: 1
systems:
  localBedework:
    caldav_url: "ftp://x/"
    tokens: [short]
`, "NOTIFYD_HTTP_IDLE_TIMEOUT=forever")
	ps := problemsOf(t, err)
	want := []string{
		"typo: unknown key",
		`NOTIFYD_HTTP_IDLE_TIMEOUT: "forever" is not a duration`,
		"http.addr: must be host:port",
		"http.max_body_bytes: must be greater than 0",
		"log.level: must be one of",
		"systems.localBedework.caldav_url: must be an absolute http or https URL",
		"systems.localBedework.tokens: token 1 is shorter than 8 characters",
	}
	wantProblems(t, err, want...)
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n  %s", len(ps), len(want), strings.Join(ps, "\n  "))
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "config ") || !strings.Contains(msg, "7 problems:\n  - ") {
		t.Errorf("error message format: %q", msg)
	}
}

func TestErrorMessageSingle(t *testing.T) {
	_, err := loadYAML(t, "", "NOTIFYD_LOG_FORMAT=xml")
	if got, want := err.Error(), "config: log.format (from NOTIFYD_LOG_FORMAT): must be json or text"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEnumsNormalized(t *testing.T) {
	c := mustLoad(t, "log:\n  level: WARN\n  format: Text\nchannels:\n  smtp:\n    tls: NONE\n  xmpp:\n    tls: TLS\n")
	if c.Log.Level != "warn" || c.Log.Format != "text" || c.Channels.SMTP.TLS != "none" || c.Channels.XMPP.TLS != "tls" {
		t.Errorf("not normalized: %+v %+v %+v", c.Log, c.Channels.SMTP, c.Channels.XMPP)
	}
	if c.Log.SlogLevel().String() != "WARN" {
		t.Errorf("SlogLevel = %v", c.Log.SlogLevel())
	}
}

func TestValidateHandBuilt(t *testing.T) {
	c := Default()
	c.Systems["x"] = nil
	c.HTTP.Addr = "bad"
	err := c.Validate()
	wantProblems(t, err, "systems.x: has no settings", "http.addr: must be host:port")
	if strings.HasPrefix(err.Error(), "config :") {
		t.Errorf("unexpected message %q", err)
	}
}

func TestWarnings(t *testing.T) {
	has := func(ws []string, s string) bool {
		return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, s) })
	}
	t.Run("defaults", func(t *testing.T) {
		ws := Default().Warnings()
		for _, want := range []string{
			"no api_keys: the /v1/subscriptions API will refuse every request; set api_keys or NOTIFYD_API_KEYS",
			"no systems: every ping will be refused with 401; declare systems.<name>",
			"channels.smtp.host empty: email delivery is disabled",
			"channels.twilio.account_sid empty: SMS delivery is disabled",
			"channels.xmpp.jid empty",
		} {
			if !has(ws, want) {
				t.Errorf("no warning %q in %q", want, ws)
			}
		}
	})
	t.Run("configured", func(t *testing.T) {
		c := mustLoad(t, `
api_keys: ["short-key"]
database:
  url: postgres://u:pw@db/notifyd
systems:
  a:
    caldav_url: https://cal.example.org/
    tokens: ["change-me-ping-token"]
    insecure_skip_verify: true
  b:
    caldav_url: http://cal.example.org/
    tokens: ["change-me-ping-token"]
    username: u
    password: p
channels:
  smtp: {host: h, from: a@example.org, tls: tls, port: 587}
  webhook: {allow_private: true}
`, "NOTIFYD_HTTP_ADR=:1", "NOTIFYD_SOMETHING_ELSE=1")
		ws := c.Warnings()
		for _, want := range []string{
			"environment variable NOTIFYD_HTTP_ADR is not a notifyd setting and is ignored (did you mean NOTIFYD_HTTP_ADDR?)",
			"environment variable NOTIFYD_SOMETHING_ELSE is not a notifyd setting",
			"database.url: the connection to PostgreSQL at db is not verified TLS",
			"api_keys: key 1 is shorter than 16 characters",
			"systems.a: no username/password or bearer_token",
			"systems.a.insecure_skip_verify is true",
			"systems.a.tokens: token 1 is the example placeholder",
			"systems.b.caldav_url uses plain http to a non-loopback host",
			"systems a and b share a ping token",
			`channels.smtp: tls is "tls" on port 587`,
			"channels.webhook.allow_private is true",
		} {
			if !has(ws, want) {
				t.Errorf("no warning %q in\n  %s", want, strings.Join(ws, "\n  "))
			}
		}
		for _, notWant := range []string{"no api_keys", "no systems", "channels.smtp.host empty", "pw"} {
			if has(ws, notWant) {
				t.Errorf("unexpected warning containing %q", notWant)
			}
		}
	})
}

func TestEnvVarNamesGenerated(t *testing.T) {
	names := envVarNames()
	for _, want := range []string{
		"NOTIFYD_HTTP_ADDR", "NOTIFYD_HTTP_SHUTDOWN_TIMEOUT", "NOTIFYD_HTTP_READ_HEADER_TIMEOUT",
		"NOTIFYD_HTTP_IDLE_TIMEOUT", "NOTIFYD_HTTP_MAX_BODY_BYTES",
		"NOTIFYD_DATABASE_DATA_DIR", "NOTIFYD_DATA_DIR", "NOTIFYD_DATABASE_URL",
		"NOTIFYD_LOG_LEVEL", "NOTIFYD_LOG_FORMAT", "NOTIFYD_API_KEYS", "NOTIFYD_API_KEYS_FILE",
		"NOTIFYD_CHANNELS_SMTP_HOST", "NOTIFYD_CHANNELS_SMTP_PASSWORD_FILE",
		"NOTIFYD_CHANNELS_TWILIO_ACCOUNT_SID", "NOTIFYD_CHANNELS_TWILIO_MESSAGING_SERVICE_SID",
		"NOTIFYD_CHANNELS_TWILIO_AUTH_TOKEN_FILE", "NOTIFYD_CHANNELS_TWILIO_BASE_URL",
		"NOTIFYD_CHANNELS_XMPP_JID", "NOTIFYD_CHANNELS_WEBHOOK_ALLOW_PRIVATE",
		"NOTIFYD_SYSTEMS_<NAME>_CALDAV_URL", "NOTIFYD_SYSTEMS_<NAME>_TOKENS_FILE",
		"NOTIFYD_SYSTEMS_<NAME>_BEARER_TOKEN_FILE", "NOTIFYD_SYSTEMS_<NAME>_INSECURE_SKIP_VERIFY",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("envVarNames lacks %s", want)
		}
	}
	if slices.Contains(names, "NOTIFYD_SYSTEMS_<NAME>_NAME") {
		t.Error("System.Name must not have an env var")
	}
	// Every leaf can be set from the environment and lands in the field.
	for _, l := range globalLeaves {
		if _, ok := globalEnv[l.env]; !ok {
			t.Errorf("leaf %s has no env var", l.key)
		}
	}
}

func TestSystemPolicyValidated(t *testing.T) {
	s := defaultSystem("cal")
	if p := s.Policy(); len(p.AlwaysImmediate) != 6 || p.UrgentWithin != 2*time.Hour {
		t.Fatalf("default policy %+v, want preferences.DefaultPolicy", p)
	}
	var p problems
	s.AlwaysImmediate, s.UrgentWithin = []string{"reminder", "no-such-type", "event-deleted:soon", "reminder"}, -time.Minute
	checkPolicy(&p, "systems.cal", s)
	if got := len(p.list); got != 4 {
		t.Fatalf("%d problems (%v), want 4: unknown type, bad duration, repeated type, negative urgent_within", got, p.list)
	}
}
