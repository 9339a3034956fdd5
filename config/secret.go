package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// redacted is what a non-empty Secret prints as.
const redacted = "[redacted]"

// Secret is a string that never prints its value: String, Format (every fmt
// verb), LogValue, MarshalJSON and MarshalText all yield "[redacted]", or ""
// when the secret is empty. Use Reveal to get the value.
type Secret string

// Reveal returns the secret value. Call it only where the value is used,
// never to log it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// Format implements fmt.Formatter so that every verb (%v, %s, %q, %x, %d,
// %#v ...) prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// redactedPlaceholderURL is what RedactURL returns for a value that is not
// an absolute URL: it cannot be taken apart, so nothing of it is shown.
const redactedPlaceholderURL = "[not an absolute URL; redacted]"

// publicQueryParams are the query parameters whose values RedactURL shows:
// PostgreSQL and pgx connection settings that are not secret and help to
// diagnose a connection (sslkey and sslcert are paths, not keys). Every
// other parameter's value is redacted, whatever its name, since a URL in
// the configuration may carry a token under any name.
var publicQueryParams = map[string]bool{
	"sslmode": true, "sslrootcert": true, "sslcert": true, "sslkey": true, "sslsni": true,
	"sslnegotiation": true, "application_name": true, "connect_timeout": true,
	"target_session_attrs": true, "search_path": true, "timezone": true,
	"pool_max_conns": true, "pool_min_conns": true, "pool_min_idle_conns": true,
	"pool_max_conn_lifetime": true, "pool_max_conn_lifetime_jitter": true,
	"pool_max_conn_idle_time": true, "pool_health_check_period": true,
	"default_query_exec_mode": true, "statement_cache_capacity": true,
	"description_cache_capacity": true,
}

// RedactURL returns raw, a URL from the configuration (database.url,
// channels.twilio.base_url, http.public_url...), in a form fit for logs
// and error messages: the password of its userinfo is replaced by
// "[redacted]" (for a postgres:// URL the user name, a role name, is kept;
// for any other scheme the whole userinfo is replaced, as a user name
// alone may be a token), so is the value of every query parameter except
// the non-secret connection settings of PostgreSQL (sslmode,
// application_name...), and so is a fragment. Scheme, host, port and path
// are kept. A value that is not an absolute URL is replaced entirely.
// Every place that logs or prints a URL from the configuration goes
// through RedactURL.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// url.Parse's error quotes the URL: never show it.
		return redactedPlaceholderURL
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString(":")
	if u.Opaque != "" {
		// scheme:anything, which may be user:password@host.
		b.WriteString(redacted)
		return b.String()
	}
	b.WriteString("//")
	if u.User != nil {
		scheme := strings.ToLower(u.Scheme)
		if scheme == "postgres" || scheme == "postgresql" {
			b.WriteString(url.User(u.User.Username()).String())
			if _, ok := u.User.Password(); ok {
				b.WriteString(":" + redacted)
			}
		} else {
			b.WriteString(redacted)
		}
		b.WriteString("@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?")
		b.WriteString(redactQuery(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + redacted)
	}
	return b.String()
}

// redactQuery redacts the values of a raw query string, keeping its
// parameter names and the values of publicQueryParams.
func redactQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if p == "" {
			continue
		}
		name, _, hasValue := strings.Cut(p, "=")
		if !hasValue {
			// A bare element ("?abc123") may itself be the token.
			parts[i] = redacted
			continue
		}
		if n, err := url.QueryUnescape(name); err == nil && publicQueryParams[strings.ToLower(n)] {
			continue
		}
		parts[i] = name + "=" + redacted
	}
	return strings.Join(parts, "&")
}

// Database and Twilio hold URLs that may carry credentials (database.url,
// channels.twilio.base_url). Like a Secret, they never print them: with
// every fmt verb and in JSON the URL shows through RedactURL.

// databaseFields is Database without its methods, for printing.
type databaseFields Database

// twilioFields is Twilio without its methods, for printing.
type twilioFields Twilio

// Format implements fmt.Formatter: every verb prints d with its URL
// redacted.
func (d Database) Format(f fmt.State, verb rune) {
	p := databaseFields(d)
	p.URL = RedactURL(d.URL)
	formatAs(f, verb, p, "databaseFields", "Database")
}

// MarshalJSON implements json.Marshaler, with the URL redacted.
func (d Database) MarshalJSON() ([]byte, error) {
	p := databaseFields(d)
	p.URL = RedactURL(d.URL)
	return json.Marshal(p)
}

// Format implements fmt.Formatter: every verb prints t with its auth token
// and base URL redacted.
func (t Twilio) Format(f fmt.State, verb rune) {
	p := twilioFields(t)
	p.BaseURL = RedactURL(t.BaseURL)
	formatAs(f, verb, p, "twilioFields", "Twilio")
}

// MarshalJSON implements json.Marshaler, with the auth token and base URL
// redacted.
func (t Twilio) MarshalJSON() ([]byte, error) {
	p := twilioFields(t)
	p.BaseURL = RedactURL(t.BaseURL)
	return json.Marshal(p)
}

// formatAs prints v, a method-less copy of a configuration struct, as the
// directive of f and verb asks; %#v names the struct by its own name.
func formatAs(f fmt.State, verb rune, v any, copyName, name string) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), v)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "config."+copyName, "config."+name, 1)
	}
	_, _ = io.WriteString(f, s)
}
