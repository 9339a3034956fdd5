// Package config loads and validates the notifyd configuration.
//
// The configuration is one YAML file (passed with -config or NOTIFYD_CONFIG)
// whose every key can be overridden by an environment variable. Without a
// file, [Load] returns the defaults (embedded SQLite in ./data) plus whatever
// the environment sets. Precedence is: environment, then file, then defaults.
//
// Environment variable names are generated from the koanf struct tags of
// [Config]: a key such as channels.smtp.host maps to
// NOTIFYD_CHANNELS_SMTP_HOST. Every [Secret] key x also accepts x_file
// (NOTIFYD_..._X_FILE) naming a file that holds the value. Systems are
// configured through NOTIFYD_SYSTEMS_<NAME>_<FIELD>. docs/configuration.md is
// the operator reference; the tests keep it in sync with the structs below.
package config

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/notifyd/notifyd/preferences"
)

// Config is the complete notifyd configuration.
type Config struct {
	// HTTP configures the HTTP listener of the REST API and ping endpoint.
	HTTP HTTP `koanf:"http"`
	// Database selects where notifyd keeps its state.
	Database Database `koanf:"database"`
	// Log configures the process logger.
	Log Log `koanf:"log"`
	// APIKeys are the operator keys accepted by the REST API. In the
	// environment NOTIFYD_API_KEYS is comma-separated; api_keys_file holds
	// one key per line.
	APIKeys []Secret `koanf:"api_keys"`
	// NamedAPIKeys are API keys with a name, a role and optionally a
	// scope of systems (see APIKey). In the environment,
	// NOTIFYD_NAMED_API_KEYS is the list as JSON.
	NamedAPIKeys []APIKey `koanf:"named_api_keys"`
	// apiKeysFile is the api_keys_file the keys were read from, if any.
	apiKeysFile string
	// Systems are the CalDAV servers allowed to ping notifyd, keyed by
	// system name (for example "localBedework"). System.Name is filled
	// from the key.
	Systems map[string]*System `koanf:"systems"`
	// Channels configures the delivery channels.
	Channels Channels `koanf:"channels"`
	// Jobs configures the workers that sync principals and deliver.
	Jobs Jobs `koanf:"jobs"`
	// Reminders configures the calendar alarms notifyd fires.
	Reminders Reminders `koanf:"reminders"`
	// Updates configures the calendar update notifications.
	Updates Updates `koanf:"updates"`
	// PreferencePage configures the preference page and its links.
	PreferencePage PreferencePage `koanf:"preference_page"`
	// Console configures the operator console under /console/.
	Console Console `koanf:"console"`
	// Retention configures how long history is kept.
	Retention Retention `koanf:"retention"`

	// unknownEnv lists NOTIFYD_* variables that matched no setting; they
	// are reported by Warnings.
	unknownEnv []string
}

// HTTP configures the HTTP server.
type HTTP struct {
	// Addr is the host:port to listen on (default "127.0.0.1:8080").
	Addr string `koanf:"addr"`
	// ShutdownTimeout bounds graceful shutdown (default 15s).
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// ReadHeaderTimeout bounds reading request headers (default 5s).
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// IdleTimeout bounds idle keep-alive connections (default 120s).
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// WriteTimeout bounds writing a response (default 30s), so that a
	// client that does not read cannot hold the server's memory.
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For and X-Real-IP headers name the client. Empty
	// (the default): no proxy is trusted, the client is the peer address.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// MaxBodyBytes is the largest accepted request body (default 1048576).
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// PublicURL is the base URL at which people reach notifyd, used for
	// links in messages (one-click unsubscribe). Empty: http://Addr.
	PublicURL string `koanf:"public_url"`
}

// Database selects the storage backend.
type Database struct {
	// DataDir is the directory for the embedded SQLite database (default
	// "./data"). Besides NOTIFYD_DATABASE_DATA_DIR it can be set with the
	// short alias NOTIFYD_DATA_DIR.
	DataDir string `koanf:"data_dir" envalias:"NOTIFYD_DATA_DIR"`
	// URL is a database URL. Empty means embedded SQLite in
	// DataDir/notifyd.db; "postgres://user:password@host:port/db?…" is a
	// PostgreSQL database that several replicas share (the password can
	// also come from PGPASSWORD or ~/.pgpass).
	URL string `koanf:"url"`
}

// Database kinds returned by [Database.Kind].
const (
	// DatabaseSQLite is the embedded SQLite database in DataDir.
	DatabaseSQLite = "sqlite"
	// DatabasePostgres is a PostgreSQL database given by URL.
	DatabasePostgres = "postgres"
)

// SQLitePath returns the path of the embedded SQLite database file,
// DataDir/notifyd.db.
func (d Database) SQLitePath() string {
	return filepath.Join(d.DataDir, "notifyd.db")
}

// Kind returns DatabaseSQLite when URL is empty and DatabasePostgres when it
// is a postgres:// or postgresql:// URL.
func (d Database) Kind() string {
	if d.URL == "" {
		return DatabaseSQLite
	}
	return DatabasePostgres
}

// Log configures logging.
type Log struct {
	// Level is one of debug, info, warn, error (default "info").
	Level string `koanf:"level"`
	// Format is json or text (default "json").
	Format string `koanf:"format"`
}

// SlogLevel returns Level as a slog.Level (info when Level is unknown).
func (l Log) SlogLevel() slog.Level {
	switch strings.ToLower(l.Level) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// After-delivery policies for System.AfterDelivery.
const (
	// AfterDeliveryDelete deletes the notification from the CalDAV server.
	AfterDeliveryDelete = "delete"
	// AfterDeliveryMark marks the notification as handled.
	AfterDeliveryMark = "mark"
	// AfterDeliveryKeep leaves the notification untouched (default).
	AfterDeliveryKeep = "keep"
)

// System is one CalDAV server allowed to ping notifyd.
type System struct {
	// Name is the system's key in Config.Systems; it is not read from YAML.
	Name string `koanf:"-"`
	// Tokens are the ping tokens this system authenticates with (at least
	// one, each at least 8 characters). tokens_file holds one per line.
	Tokens []Secret `koanf:"tokens"`
	// CalDAVURL is the base URL of the system's CalDAV server (absolute
	// http or https, required).
	CalDAVURL string `koanf:"caldav_url"`
	// Username is the service account used to read notification
	// collections.
	Username string `koanf:"username"`
	// Password is the service account's password (password_file too).
	Password Secret `koanf:"password"`
	// BearerToken is an alternative to Username/Password
	// (bearer_token_file too).
	BearerToken Secret `koanf:"bearer_token"`
	// PrincipalPrefix, if set, is the path prefix every pinged principal
	// href must start with, e.g. "/dav/principals/".
	PrincipalPrefix string `koanf:"principal_prefix"`
	// AfterDelivery is what happens to a delivered notification on the
	// CalDAV server: delete, mark or keep (default "keep").
	AfterDelivery string `koanf:"after_delivery"`
	// Timeout bounds each CalDAV request (default 30s).
	Timeout time.Duration `koanf:"timeout"`
	// InsecureSkipVerify disables TLS certificate verification (default
	// false).
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
	// MaxConnections caps the connections open to the CalDAV server at
	// once (default 8); requests beyond it wait for a free one. Servers
	// such as Cyrus run a process per connection, so this bounds the
	// load notifyd puts on them, whatever the number of workers.
	MaxConnections int `koanf:"max_connections"`
	// AlwaysImmediate lists the notification types no subscriber's digest
	// or throttle delays (quiet hours and a pause still hold them): each a
	// type, or a type, ":" and a duration to limit it to events starting
	// within that long ("event-deleted:24h"). Default: the policy of
	// preferences.DefaultPolicy.
	AlwaysImmediate []string `koanf:"always_immediate"`
	// UrgentWithin makes a notification about an event starting within
	// this long urgent: a method may let it through quiet hours (default
	// 2h; 0 turns it off).
	UrgentWithin time.Duration `koanf:"urgent_within"`
}

// Channels configures the delivery channels. A channel left unconfigured
// (for example an empty SMTP host) is disabled, which is not an error.
type Channels struct {
	// SMTP configures email delivery.
	SMTP SMTP `koanf:"smtp"`
	// Twilio configures SMS delivery.
	Twilio Twilio `koanf:"twilio"`
	// XMPP configures instant-message delivery.
	XMPP XMPP `koanf:"xmpp"`
	// Webhook configures webhook delivery.
	Webhook Webhook `koanf:"webhook"`
}

// TLS modes for SMTP.TLS and XMPP.TLS.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS (default).
	TLSStartTLS = "starttls"
	// TLSImplicit connects with TLS from the first byte.
	TLSImplicit = "tls"
	// TLSNone uses no TLS at all.
	TLSNone = "none"
)

// SMTP configures the email channel; it is enabled when Host is set.
type SMTP struct {
	// Host is the SMTP server host name; empty disables email.
	Host string `koanf:"host"`
	// Port is the SMTP server port (default 587).
	Port int `koanf:"port"`
	// Username is the SMTP AUTH user; empty means no authentication.
	Username string `koanf:"username"`
	// Password is the SMTP AUTH password (password_file too).
	Password Secret `koanf:"password"`
	// TLS is starttls, tls or none (default "starttls").
	TLS string `koanf:"tls"`
	// CAFile is a PEM file of CA certificates to trust for the SMTP
	// server's certificate, besides the system's (an internal relay).
	CAFile string `koanf:"ca_file"`
	// TemplatesDir, if set, holds templates overriding the built-in ones
	// file by file (see delivery/email).
	TemplatesDir string `koanf:"templates_dir"`
	// From is the sender address, required when Host is set.
	From string `koanf:"from"`
	// Timeout bounds one SMTP session (default 30s).
	Timeout time.Duration `koanf:"timeout"`
	// RateLimit is the maximum messages per second; 0 means unlimited.
	RateLimit float64 `koanf:"rate_limit"`
	// Burst is the rate limiter's burst; Load sets it to 1 when RateLimit
	// is positive and Burst is 0.
	Burst int `koanf:"burst"`
	// BounceDomain, when set, gives every email its own envelope sender
	// (VERP), bounces+TOKEN@BounceDomain, so that a bounce report names
	// its delivery; the domain's MX must lead to BounceListener (or to a
	// mailbox notifyd reads). Empty keeps the From address as envelope
	// sender.
	BounceDomain string `koanf:"bounce_domain"`
	// BounceListener is notifyd's inbound SMTP server for bounce reports.
	BounceListener BounceListener `koanf:"bounce_listener"`
	// BounceMailbox is an IMAP mailbox notifyd reads bounce reports from.
	BounceMailbox BounceMailbox `koanf:"bounce_mailbox"`
	// DKIM, when its key file is set, makes notifyd sign each message.
	DKIM DKIM `koanf:"dkim"`
	// FallbackRelays are tried in order after the primary relay (Host)
	// when it is down or refusing for now; see delivery/email. In the
	// environment, NOTIFYD_CHANNELS_SMTP_FALLBACK_RELAYS holds the list as
	// JSON.
	FallbackRelays []SMTPRelay `koanf:"fallback_relays"`
	// PerDomain paces the messages to each recipient domain.
	PerDomain PerDomain `koanf:"per_domain"`
}

// PerDomain paces email per recipient domain (the part of the address
// after @, lower-cased), on top of the channel's rate_limit: mailbox
// providers defer a sender that bursts at them, so a burst to one domain
// goes at its pace while the other domains keep theirs.
type PerDomain struct {
	// Rate is the messages per second to one domain; 0 means unlimited.
	Rate float64 `koanf:"rate"`
	// Burst is how many messages may go to one domain at once before Rate
	// applies (at least 1).
	Burst int `koanf:"burst"`
	// Concurrency caps the sends to one domain in progress at once; 0
	// means no cap.
	Concurrency int `koanf:"concurrency"`
	// Providers group the domains of large mailbox providers, each group
	// paced as one with its own figures (Rate, Burst and Concurrency
	// above apply to every other domain). Unset, DefaultPaceGroups; an
	// empty list turns provider pacing off. In the environment,
	// NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS holds the list as JSON.
	Providers []PaceGroup `koanf:"providers"`
	// BackOff is how long a domain (or provider) is slowed after a rate
	// refusal; it doubles, up to five times BackOff, while the refusals
	// go on.
	BackOff time.Duration `koanf:"back_off"`
}

// BounceMailbox configures reading bounce reports from an IMAP mailbox
// (where the bounce domain's mail is delivered).
type BounceMailbox struct {
	// Addr is the IMAP server's host:port; empty means no polling.
	Addr string `koanf:"addr"`
	// TLS connects with TLS from the first byte (port 993); false means
	// plain text, for a server on the same host only.
	TLS bool `koanf:"tls"`
	// Username and Password log in.
	Username string `koanf:"username"`
	// Password is the IMAP password (password_file too).
	Password Secret `koanf:"password"`
	// Mailbox is the mailbox read (default INBOX).
	Mailbox string `koanf:"mailbox"`
	// PollInterval is the time between two reads (default 1m).
	PollInterval time.Duration `koanf:"poll_interval"`
}

// BounceListener configures the inbound SMTP server that takes bounce
// reports for SMTP.BounceDomain's addresses.
type BounceListener struct {
	// Addr is host:port to listen on (":25"); empty means no listener.
	Addr string `koanf:"addr"`
}

// Twilio configures the SMS channel; it is enabled when AccountSID is set.
type Twilio struct {
	// AccountSID is the Twilio account SID; empty disables SMS.
	AccountSID string `koanf:"account_sid"`
	// AuthToken is the Twilio auth token (auth_token_file too).
	AuthToken Secret `koanf:"auth_token"`
	// From is the sending phone number; From or MessagingServiceSID is
	// required when AccountSID is set.
	From string `koanf:"from"`
	// MessagingServiceSID is the Twilio messaging service to send through.
	MessagingServiceSID string `koanf:"messaging_service_sid"`
	// MaxSegments caps an SMS's length in segments (default 3): a longer
	// text is shortened at a word with an ellipsis.
	MaxSegments int `koanf:"max_segments"`
	// BaseURL overrides the Twilio API base URL (empty means Twilio's own);
	// used to point at a mock.
	BaseURL string `koanf:"base_url"`
	// Timeout bounds one API request (default 15s).
	Timeout time.Duration `koanf:"timeout"`
	// RateLimit is the maximum messages per second; 0 means unlimited.
	RateLimit float64 `koanf:"rate_limit"`
	// Burst is the rate limiter's burst; Load sets it to 1 when RateLimit
	// is positive and Burst is 0.
	Burst int `koanf:"burst"`
	// FallbackAccounts are further accounts or messaging services, tried in
	// order when the ones before them are down.
	FallbackAccounts []TwilioAccount `koanf:"fallback_accounts"`
	// CoolDown is how long an account found down is skipped (default 1m).
	CoolDown time.Duration `koanf:"cool_down"`
}

// XMPP configures the instant-message channel; it is enabled when JID is
// set.
type XMPP struct {
	// JID is the account notifyd sends from (user@domain); empty disables
	// XMPP.
	JID string `koanf:"jid"`
	// Password is the account password (password_file too).
	Password Secret `koanf:"password"`
	// Server is host:port of the XMPP server; empty means derive it from
	// the JID.
	Server string `koanf:"server"`
	// TLS is starttls, tls or none (default "starttls").
	TLS string `koanf:"tls"`
	// CAFile is a PEM file of CA certificates to trust for the XMPP
	// server's certificate, besides the system's.
	CAFile string `koanf:"ca_file"`
	// RateLimit is the maximum messages per second; 0 means unlimited.
	RateLimit float64 `koanf:"rate_limit"`
	// Burst is the rate limiter's burst; Load sets it to 1 when RateLimit
	// is positive and Burst is 0.
	Burst int `koanf:"burst"`
}

// Webhook configures the webhook channel, which is always enabled (the
// target URLs come from subscriptions).
type Webhook struct {
	// Timeout bounds one webhook request (default 10s).
	Timeout time.Duration `koanf:"timeout"`
	// AllowPrivate permits webhook targets on loopback, private and
	// link-local addresses (default false).
	AllowPrivate bool `koanf:"allow_private"`
	// RateLimit is the maximum requests per second; 0 means unlimited.
	RateLimit float64 `koanf:"rate_limit"`
	// Burst is the rate limiter's burst; Load sets it to 1 when RateLimit
	// is positive and Burst is 0.
	Burst int `koanf:"burst"`
}

// Jobs configures the job workers and their retry policy.
type Jobs struct {
	// Run is false for a process that only takes pings and API calls and
	// leaves the jobs to other processes (default true).
	Run bool `koanf:"run"`
	// SyncWorkers is how many principals are synced at once (default 8).
	SyncWorkers int `koanf:"sync_workers"`
	// DeliveryWorkers is how many messages each channel sends at once
	// (default 16: a delivery mostly waits on the provider and the disk).
	DeliveryWorkers int `koanf:"delivery_workers"`
	// PollInterval is how often idle workers look for new jobs (default
	// 200ms).
	PollInterval time.Duration `koanf:"poll_interval"`
	// RetryBase and RetryMax bound the exponential backoff (with full
	// jitter) between attempts (defaults 1s and 5m).
	RetryBase time.Duration `koanf:"retry_base"`
	RetryMax  time.Duration `koanf:"retry_max"`
	// MaxAttempts is how many times a sync or delivery is tried before it
	// is given up (default 25).
	MaxAttempts int `koanf:"max_attempts"`
	// MaxAge is how old a delivery may get while it is retried; older, it
	// is given up (a dead letter) rather than sent late (default 24h).
	MaxAge time.Duration `koanf:"max_age"`
	// Timeout bounds one run of a job (a sync or a delivery); a run that
	// takes longer is cancelled and retried (default 5m).
	Timeout time.Duration `koanf:"timeout"`
	// RescueAfter is how long a job may stay running before it is taken
	// to belong to a process that died (a replica killed mid-job) and is
	// run again; it must exceed Timeout (default 10m).
	RescueAfter time.Duration `koanf:"rescue_after"`
}

// Default returns a Config with all defaults: listen on 127.0.0.1:8080,
// embedded SQLite in ./data, info-level JSON logs, no API keys, no systems,
// no channel configured except webhooks, and reminders on.
func Default() *Config {
	return &Config{
		HTTP: HTTP{
			Addr:              "127.0.0.1:8080",
			ShutdownTimeout:   15 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       120 * time.Second,
			WriteTimeout:      30 * time.Second,
			MaxBodyBytes:      1 << 20,
		},
		Database: Database{DataDir: "./data"},
		Log:      Log{Level: "info", Format: "json"},
		Systems:  map[string]*System{},
		Channels: Channels{
			SMTP: SMTP{Port: 587, TLS: TLSStartTLS, Timeout: 30 * time.Second,
				BounceMailbox: BounceMailbox{Mailbox: "INBOX", PollInterval: time.Minute},
				PerDomain:     PerDomain{Burst: 10, BackOff: time.Minute, Providers: DefaultPaceGroups()}},
			Twilio:  Twilio{Timeout: 15 * time.Second, MaxSegments: 3, CoolDown: time.Minute},
			XMPP:    XMPP{TLS: TLSStartTLS},
			Webhook: Webhook{Timeout: 10 * time.Second},
		},
		Jobs: Jobs{Run: true, SyncWorkers: 8, DeliveryWorkers: 16, PollInterval: 200 * time.Millisecond,
			RetryBase: time.Second, RetryMax: 5 * time.Minute, MaxAttempts: 25, MaxAge: 24 * time.Hour,
			Timeout: 5 * time.Minute, RescueAfter: 10 * time.Minute},
		Reminders: defaultReminders(),
		Updates:   defaultUpdates(),

		PreferencePage: defaultPreferencePage(),
		Console:        defaultConsole(),
		Retention:      defaultRetention(),
	}
}

// defaultSystem returns a System with its defaults.
func defaultSystem(name string) *System {
	return &System{Name: name, AfterDelivery: AfterDeliveryKeep, Timeout: 30 * time.Second, MaxConnections: 8,
		AlwaysImmediate: defaultAlwaysImmediate(), UrgentWithin: preferences.DefaultPolicy().UrgentWithin}
}
