package config

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// systemNameRE is the allowed shape of a system name.
var systemNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// minTokenLen is the minimum length of a ping token.
const minTokenLen = 8

// Validate checks c and returns an *Error listing every problem, or nil.
// Load calls it; call it yourself only for a Config built in code.
func (c *Config) Validate() error {
	p := problems{}
	c.validate(&p)
	return p.err("")
}

func (c *Config) validate(p *problems) {
	// http
	checkHostPort(p, "http.addr", c.HTTP.Addr, false)
	checkPositive(p, "http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	checkPositive(p, "http.read_header_timeout", c.HTTP.ReadHeaderTimeout)
	checkPositive(p, "http.idle_timeout", c.HTTP.IdleTimeout)
	checkPositive(p, "http.write_timeout", c.HTTP.WriteTimeout)
	for i, tp := range c.HTTP.TrustedProxies {
		if !validProxy(tp) {
			p.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an IP address or CIDR range, e.g. 10.0.0.0/8 or 192.0.2.7", tp)
		}
	}
	if c.HTTP.MaxBodyBytes <= 0 {
		p.add("http.max_body_bytes", "must be greater than 0 (bytes), e.g. 1048576")
	}
	if c.HTTP.PublicURL != "" {
		u, err := url.Parse(c.HTTP.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			// Credentials would go into every unsubscribe link sent.
			p.add("http.public_url", "must be an absolute http or https URL without credentials, query or fragment, e.g. https://notifyd.example.org")
		}
	}

	if c.Channels.Twilio.MaxSegments < 1 || c.Channels.Twilio.MaxSegments > 10 {
		p.add("channels.twilio.max_segments", "must be between 1 and 10")
	}

	// jobs
	if c.Jobs.SyncWorkers < 1 || c.Jobs.SyncWorkers > 1000 {
		p.add("jobs.sync_workers", "must be between 1 and 1000")
	}
	if c.Jobs.DeliveryWorkers < 1 || c.Jobs.DeliveryWorkers > 1000 {
		p.add("jobs.delivery_workers", "must be between 1 and 1000")
	}
	if c.Jobs.PollInterval < time.Millisecond {
		p.add("jobs.poll_interval", "must be at least 1ms, e.g. 200ms")
	}
	checkPositive(p, "jobs.retry_base", c.Jobs.RetryBase)
	if c.Jobs.RetryMax < c.Jobs.RetryBase {
		p.add("jobs.retry_max", "must be at least jobs.retry_base")
	}
	if c.Jobs.MaxAttempts < 1 || c.Jobs.MaxAttempts > 1000 {
		p.add("jobs.max_attempts", "must be between 1 and 1000")
	}
	checkPositive(p, "jobs.max_age", c.Jobs.MaxAge)
	checkPositive(p, "jobs.timeout", c.Jobs.Timeout)
	if c.Jobs.RescueAfter <= c.Jobs.Timeout {
		p.add("jobs.rescue_after", "must be longer than jobs.timeout, or jobs still running would be run twice")
	}

	c.Reminders.validate(p)
	c.Updates.validate(p)
	c.PreferencePage.validate(p)
	c.Console.validate(p)
	c.Retention.validate(p)
	if r := c.Retention.Reminders; r != 0 && r <= c.Reminders.PollInterval+time.Minute {
		// A calendar sync works out alarm instances from a poll interval
		// ago: it would schedule again one whose record is gone.
		p.add("retention.reminders", "must be longer than reminders.poll_interval and a minute")
	}

	// database
	if strings.TrimSpace(c.Database.DataDir) == "" {
		p.add("database.data_dir", "must not be empty; it is the directory for notifyd.db, e.g. ./data")
	}
	if c.Database.URL != "" {
		u, err := url.Parse(c.Database.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			p.add("database.url", "must be empty (embedded SQLite in data_dir) or a postgres://user:pass@host/db URL")
		}
	}

	// log
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		p.add("log.level", "must be one of debug, info, warn, error")
	}
	if !oneOf(c.Log.Format, "json", "text") {
		p.add("log.format", "must be json or text")
	}

	// api keys
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k.Reveal()) == "" {
			p.add("api_keys", "entry %d is empty; remove it", i+1)
		}
	}
	c.validateAPIKeys(p)

	// systems
	for _, name := range sortedKeys(c.Systems) {
		c.validateSystem(p, name, c.Systems[name])
	}

	// channels
	ch := &c.Channels
	smtp := &ch.SMTP
	if smtp.Port < 1 || smtp.Port > 65535 {
		p.add("channels.smtp.port", "must be between 1 and 65535 (usually 587 for starttls, 465 for tls)")
	}
	if !oneOf(smtp.TLS, TLSStartTLS, TLSImplicit, TLSNone) {
		p.add("channels.smtp.tls", "must be one of starttls, tls, none")
	}
	checkPositive(p, "channels.smtp.timeout", smtp.Timeout)
	checkRate(p, "channels.smtp", smtp.RateLimit, smtp.Burst)
	validatePacing(p, &smtp.PerDomain)
	validateDKIM(p, smtp)
	validateRelays(p, smtp)
	if smtp.Host != "" {
		if strings.ContainsAny(smtp.Host, ":/ ") {
			p.add("channels.smtp.host", "must be a host name only; put the port in channels.smtp.port")
		}
		if smtp.From == "" {
			p.add("channels.smtp.from", "is required when channels.smtp.host is set: the sender address, e.g. notifyd@example.org")
		} else if _, err := mail.ParseAddress(smtp.From); err != nil {
			p.add("channels.smtp.from", "must be an email address such as notifyd@example.org or \"Notifyd <notifyd@example.org>\"")
		}
		if smtp.Username != "" && smtp.Password == "" {
			p.add("channels.smtp.password", "is required when channels.smtp.username is set (or set password_file)")
		}
		if smtp.Username == "" && smtp.Password != "" {
			p.add("channels.smtp.username", "is required when channels.smtp.password is set")
		}
	}

	if smtp.BounceDomain != "" && !dnsName.MatchString(smtp.BounceDomain) {
		p.add("channels.smtp.bounce_domain", "must be a domain name such as bounces.example.org")
	}
	if smtp.BounceListener.Addr != "" {
		checkHostPort(p, "channels.smtp.bounce_listener.addr", smtp.BounceListener.Addr, false)
		if smtp.BounceDomain == "" {
			p.add("channels.smtp.bounce_listener.addr", "needs channels.smtp.bounce_domain: the listener takes mail for that domain's bounce addresses only")
		}
	}
	checkPositive(p, "channels.smtp.bounce_mailbox.poll_interval", smtp.BounceMailbox.PollInterval)
	if mb := &smtp.BounceMailbox; mb.Addr != "" {
		checkHostPort(p, "channels.smtp.bounce_mailbox.addr", mb.Addr, true)
		if smtp.BounceDomain == "" {
			p.add("channels.smtp.bounce_mailbox.addr", "needs channels.smtp.bounce_domain: only reports to that domain's bounce addresses are read")
		}
		if mb.Username == "" || mb.Password == "" {
			p.add("channels.smtp.bounce_mailbox.username", "and password are required when channels.smtp.bounce_mailbox.addr is set")
		}
		if strings.TrimSpace(mb.Mailbox) == "" || strings.ContainsAny(mb.Mailbox, "\r\n") {
			p.add("channels.smtp.bounce_mailbox.mailbox", "must name a mailbox, e.g. INBOX")
		}
	}

	tw := &ch.Twilio
	checkPositive(p, "channels.twilio.timeout", tw.Timeout)
	checkRate(p, "channels.twilio", tw.RateLimit, tw.Burst)
	checkPositive(p, "channels.twilio.cool_down", tw.CoolDown)
	c.validateTwilioAccounts(p)
	if tw.BaseURL != "" {
		checkHTTPURL(p, "channels.twilio.base_url", tw.BaseURL, false)
	}
	if tw.AccountSID != "" {
		if tw.AuthToken == "" {
			p.add("channels.twilio.auth_token", "is required when channels.twilio.account_sid is set (or set auth_token_file)")
		}
		if tw.From == "" && tw.MessagingServiceSID == "" {
			p.add("channels.twilio.from", "is required when channels.twilio.account_sid is set: a phone number such as \"+15551234567\", or set messaging_service_sid instead")
		}
	}

	x := &ch.XMPP
	if !oneOf(x.TLS, TLSStartTLS, TLSImplicit, TLSNone) {
		p.add("channels.xmpp.tls", "must be one of starttls, tls, none")
	}
	checkRate(p, "channels.xmpp", x.RateLimit, x.Burst)
	if x.Server != "" {
		checkHostPort(p, "channels.xmpp.server", x.Server, true)
	}
	if x.JID != "" {
		local, domain, ok := strings.Cut(x.JID, "@")
		if !ok || local == "" || domain == "" || strings.HasPrefix(domain, "/") || strings.Contains(domain, "@") {
			p.add("channels.xmpp.jid", "must be a bare or full JID such as notifyd@example.org")
		}
		if x.Password == "" {
			p.add("channels.xmpp.password", "is required when channels.xmpp.jid is set (or set password_file)")
		}
	}

	checkPositive(p, "channels.webhook.timeout", ch.Webhook.Timeout)
	checkRate(p, "channels.webhook", ch.Webhook.RateLimit, ch.Webhook.Burst)
}

func (c *Config) validateSystem(p *problems, name string, s *System) {
	key := "systems." + name
	if !systemNameRE.MatchString(name) {
		p.add(key, "invalid system name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if s == nil {
		p.add(key, "has no settings; set at least caldav_url and tokens")
		return
	}
	if len(s.Tokens) == 0 {
		p.add(key+".tokens", "at least one ping token is required; set tokens, tokens_file or %s", systemEnvName(name, systemLeafByKey("tokens")))
	}
	for i, t := range s.Tokens {
		if len(t.Reveal()) < minTokenLen {
			p.add(key+".tokens", "token %d is shorter than %d characters; use a long random value (e.g. openssl rand -hex 32)", i+1, minTokenLen)
		}
	}
	if s.CalDAVURL == "" {
		p.add(key+".caldav_url", "is required: the base URL of the system's CalDAV server, e.g. http://127.0.0.1:8008/")
	} else {
		checkHTTPURL(p, key+".caldav_url", s.CalDAVURL, true)
	}
	if !oneOf(s.AfterDelivery, AfterDeliveryDelete, AfterDeliveryMark, AfterDeliveryKeep) {
		p.add(key+".after_delivery", "must be one of delete, mark, keep")
	}
	if s.PrincipalPrefix != "" && !strings.HasPrefix(s.PrincipalPrefix, "/") {
		p.add(key+".principal_prefix", "must be an absolute path starting with \"/\", e.g. /dav/principals/")
	}
	checkPositive(p, key+".timeout", s.Timeout)
	if s.MaxConnections < 1 || s.MaxConnections > 1000 {
		p.add(key+".max_connections", "must be between 1 and 1000")
	}
	checkPolicy(p, key, s)
	if s.BearerToken != "" && (s.Username != "" || s.Password != "") {
		p.add(key+".bearer_token", "use either bearer_token or username/password, not both")
	} else {
		if s.Username != "" && s.Password == "" {
			p.add(key+".password", "is required when username is set (or set password_file)")
		}
		if s.Username == "" && s.Password != "" {
			p.add(key+".username", "is required when password is set")
		}
	}
}

// systemLeafByKey returns the system leaf with the given key.
func systemLeafByKey(key string) *leaf {
	for _, l := range systemLeaves {
		if l.key == key {
			return l
		}
	}
	panic("config: no system key " + key)
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func checkPositive(p *problems, key string, d time.Duration) {
	if d <= 0 {
		p.add(key, "must be a positive duration such as 30s")
	}
}

func checkRate(p *problems, prefix string, rate float64, burst int) {
	if rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		p.add(prefix+".rate_limit", "must be a finite number >= 0 (messages per second; 0 = unlimited)")
	}
	if burst < 0 {
		p.add(prefix+".burst", "must be >= 0")
	}
}

// dnsName is a domain name: dot-separated labels of letters, digits and
// inner hyphens.
var dnsName = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// checkHostPort checks a host:port address. requireHost demands a
// non-empty host.
func checkHostPort(p *problems, key, addr string, requireHost bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(key, "must be host:port, e.g. 127.0.0.1:8080 or :8080")
		return
	}
	if requireHost && host == "" {
		p.add(key, "must name a host, e.g. xmpp.example.org:5222")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(key, "port must be a number between 0 and 65535")
	}
}

// checkHTTPURL checks an absolute http/https URL; strict additionally
// forbids query, fragment and userinfo.
func checkHTTPURL(p *problems, key, raw string, strict bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		p.add(key, "must be an absolute http or https URL")
		return
	}
	if !strict {
		return
	}
	if u.User != nil {
		p.add(key, "must not contain credentials; set username/password or bearer_token instead")
	}
	if u.RawQuery != "" || u.ForceQuery {
		p.add(key, "must not have a query string")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		p.add(key, "must not have a fragment")
	}
}

// validProxy reports whether s is an IP address or a CIDR range.
func validProxy(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}
