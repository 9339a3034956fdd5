package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
)

// placeholderPrefix starts the placeholder secrets of notifyd.example.yaml;
// Warnings flags secrets that still carry it.
const placeholderPrefix = "change-me"

// minAPIKeyLen is the API key length below which Warnings complains.
const minAPIKeyLen = 16

// Summary describes the configuration in use for a startup log line: the
// database, HTTP address, number of API keys, systems (name, CalDAV host,
// token count, auth kind, after_delivery policy) and which channels are
// enabled. It never contains a secret value.
func (c *Config) Summary() []slog.Attr {
	var db slog.Attr
	if c.Database.Kind() == DatabaseSQLite {
		db = slog.Group("database", "kind", DatabaseSQLite, "path", c.Database.SQLitePath())
	} else {
		db = slog.Group("database", "kind", c.Database.Kind(), "url", RedactURL(c.Database.URL))
	}

	var systems []any
	for _, name := range sortedKeys(c.Systems) {
		s := c.Systems[name]
		if s == nil {
			continue
		}
		systems = append(systems, slog.Group(name,
			"caldav_host", urlHost(s.CalDAVURL),
			"tokens", len(s.Tokens),
			"auth", s.authKind(),
			"after_delivery", s.AfterDelivery,
		))
	}

	smtp, tw, x, wh := &c.Channels.SMTP, &c.Channels.Twilio, &c.Channels.XMPP, &c.Channels.Webhook
	smtpAttrs := []any{"enabled", smtp.Host != ""}
	if smtp.Host != "" {
		smtpAttrs = append(smtpAttrs, "host", smtp.Host, "port", smtp.Port, "tls", smtp.TLS, "auth", smtp.Username != "",
			"dkim", smtp.DKIM.Enabled())
	}
	twAttrs := []any{"enabled", tw.AccountSID != ""}
	if len(tw.FallbackAccounts) > 0 {
		twAttrs = append(twAttrs, "fallback_accounts", len(tw.FallbackAccounts))
	}
	if tw.BaseURL != "" {
		twAttrs = append(twAttrs, "base_url", RedactURL(tw.BaseURL))
	}
	xAttrs := []any{"enabled", x.JID != ""}
	if x.JID != "" {
		server := x.Server
		if server == "" {
			server = "(from JID)"
		}
		xAttrs = append(xAttrs, "server", server, "tls", x.TLS)
	}

	return []slog.Attr{
		slog.String("http_addr", c.HTTP.Addr),
		db,
		slog.Group("log", "level", c.Log.Level, "format", c.Log.Format),
		slog.Int("api_keys", len(c.APIKeys)),
		slog.Int("named_api_keys", len(c.NamedAPIKeys)),
		slog.Int("system_count", len(c.Systems)),
		slog.Group("systems", systems...),
		slog.Group("channels",
			slog.Group("smtp", smtpAttrs...),
			slog.Group("twilio", twAttrs...),
			slog.Group("xmpp", xAttrs...),
			slog.Group("webhook", "enabled", true, "allow_private", wh.AllowPrivate),
		),
		c.Reminders.summary(),
		c.Updates.summary(),
		c.PreferencePage.summary(),
		c.Console.summary(),
		c.Retention.summary(),
	}
}

// LogValue implements slog.LogValuer: logging a *Config logs its Summary,
// never its secrets.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(c.Summary()...)
}

// Warnings returns human advice about what is missing or risky in a valid
// configuration: no API keys, no systems, disabled channels, unknown
// NOTIFYD_* environment variables and similar. Log them at startup.
func (c *Config) Warnings() []string {
	var w []string
	add := func(format string, args ...any) { w = append(w, fmt.Sprintf(format, args...)) }

	for _, name := range c.unknownEnv {
		add("environment variable %s is not a notifyd setting and is ignored%s", name, suggestEnv(name))
	}

	if c.Database.Kind() == DatabasePostgres {
		if u, err := url.Parse(c.Database.URL); err == nil && !isLoopback(u.Hostname()) &&
			!strings.HasPrefix(u.Query().Get("sslmode"), "verify-") {
			add("database.url: the connection to PostgreSQL at %s is not verified TLS (sslmode=%q): the password and every notification travel unprotected; add sslmode=verify-full to the URL",
				u.Hostname(), u.Query().Get("sslmode"))
		}
	}

	if len(c.APIKeys) == 0 && len(c.NamedAPIKeys) == 0 {
		add("no api_keys: the /v1/subscriptions API will refuse every request; set api_keys or NOTIFYD_API_KEYS")
	}
	for i, k := range c.APIKeys {
		switch v := k.Reveal(); {
		case strings.HasPrefix(v, placeholderPrefix):
			add("api_keys: key %d is the example placeholder; replace it with a random value (e.g. openssl rand -hex 32)", i+1)
		case len(v) < minAPIKeyLen:
			add("api_keys: key %d is shorter than %d characters; use a long random value (e.g. openssl rand -hex 32)", i+1, minAPIKeyLen)
		}
	}
	for _, k := range c.NamedAPIKeys {
		if v := k.Key.Reveal(); v != "" && len(v) < minAPIKeyLen {
			add("named_api_keys[%s]: the key is shorter than %d characters; use a long random value (e.g. openssl rand -hex 32)", k.Name, minAPIKeyLen)
		}
	}

	if len(c.Systems) == 0 {
		add("no systems: every ping will be refused with 401; declare systems.<name> with caldav_url and tokens (or NOTIFYD_SYSTEMS_<NAME>_CALDAV_URL and NOTIFYD_SYSTEMS_<NAME>_TOKENS)")
	}
	tokenOwner := map[string]string{}
	for _, name := range sortedKeys(c.Systems) {
		s := c.Systems[name]
		if s == nil {
			continue
		}
		key := "systems." + name
		if s.authKind() == "none" {
			add("%s: no username/password or bearer_token: notifyd will read the CalDAV server anonymously", key)
		}
		if u, err := url.Parse(s.CalDAVURL); err == nil && u.Scheme == "http" && s.authKind() != "none" && !isLoopback(u.Hostname()) {
			add("%s.caldav_url uses plain http to a non-loopback host: credentials travel in clear text; use https", key)
		}
		if s.InsecureSkipVerify {
			add("%s.insecure_skip_verify is true: the CalDAV server's TLS certificate is not verified", key)
		}
		for i, t := range s.Tokens {
			v := t.Reveal()
			if strings.HasPrefix(v, placeholderPrefix) {
				add("%s.tokens: token %d is the example placeholder; replace it with a random value (e.g. openssl rand -hex 32)", key, i+1)
			}
			if other, ok := tokenOwner[v]; ok && other != name {
				add("systems %s and %s share a ping token; give every system its own tokens", other, name)
			}
			tokenOwner[v] = name
		}
	}

	smtp := &c.Channels.SMTP
	if smtp.Host == "" {
		add("channels.smtp.host empty: email delivery is disabled")
	} else {
		if smtp.TLS == TLSNone && smtp.Password != "" {
			add("channels.smtp.tls is none: the SMTP password travels in clear text")
		}
		if smtp.TLS == TLSImplicit && smtp.Port == 587 {
			add("channels.smtp: tls is \"tls\" on port 587, which usually expects starttls (implicit TLS is usually port 465)")
		}
		if smtp.TLS == TLSStartTLS && smtp.Port == 465 {
			add("channels.smtp: tls is \"starttls\" on port 465, which usually expects tls (implicit TLS)")
		}
	}
	if c.Channels.Twilio.AccountSID == "" {
		add("channels.twilio.account_sid empty: SMS delivery is disabled")
	}
	x := &c.Channels.XMPP
	if x.JID == "" {
		add("channels.xmpp.jid empty: XMPP instant-message delivery is disabled")
	} else if x.TLS == TLSNone {
		add("channels.xmpp.tls is none: the XMPP password travels in clear text")
	}
	if c.Channels.Webhook.AllowPrivate {
		add("channels.webhook.allow_private is true: webhooks may reach loopback and private networks (SSRF risk); enable only for testing")
	}
	if r := &c.Reminders; r.Enabled && r.PollInterval > slowReminderPoll {
		add("reminders.poll_interval is %s: an alarm set less than that ahead of its time may be seen only once it has passed, and then never fires, unless the CalDAV server pings notifyd when calendars change; see docs/reminders.md", r.PollInterval)
	}
	return w
}

// authKind returns how notifyd authenticates to the system's CalDAV
// server: "bearer", "basic" or "none".
func (s *System) authKind() string {
	switch {
	case s.BearerToken != "":
		return "bearer"
	case s.Username != "" || s.Password != "":
		return "basic"
	}
	return "none"
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// suggestEnv returns ` (did you mean X?)` for the closest known variable.
func suggestEnv(name string) string {
	best, bestD := "", 1<<30
	for _, k := range envVarNames() {
		if strings.Contains(k, "<NAME>") {
			continue
		}
		if d := levenshtein(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= 3 {
		return " (did you mean " + best + "?)"
	}
	return ""
}
