package config

import (
	"log/slog"
	"time"
)

// Bounds of the console's session durations, checked by Load.
const (
	// minConsoleIdle: shorter, an operator reading a long delivery page
	// is signed out before they act.
	minConsoleIdle = time.Minute
	// maxConsoleSession: longer, a session cookie left in a browser keeps
	// its power for more than a working day and night.
	maxConsoleSession = 24 * time.Hour
)

// Console configures the operator console served under /console/
// (docs/console.md).
type Console struct {
	// Enabled serves the console (default false: /console/ answers 404).
	Enabled bool `koanf:"enabled"`
	// IdleTimeout signs an operator out after this long without a request
	// (default 30m; 1m to 24h).
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// SessionLifetime signs an operator out this long after they signed
	// in, active or not (default 12h; at least idle_timeout, at most 24h).
	SessionLifetime time.Duration `koanf:"session_lifetime"`
}

// defaultConsole returns the console defaults.
func defaultConsole() Console {
	return Console{IdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour}
}

// validate checks the console settings.
func (c *Console) validate(p *problems) {
	if c.IdleTimeout < minConsoleIdle || c.IdleTimeout > maxConsoleSession {
		p.add("console.idle_timeout", "must be between 1m and 24h, e.g. 30m")
	}
	if c.SessionLifetime < c.IdleTimeout || c.SessionLifetime > maxConsoleSession {
		p.add("console.session_lifetime", "must be at least console.idle_timeout and at most 24h, e.g. 12h")
	}
}

// summary is the console settings for the startup log line.
func (c *Console) summary() slog.Attr {
	return slog.Group("console", "enabled", c.Enabled, "idle_timeout", c.IdleTimeout.String(),
		"session_lifetime", c.SessionLifetime.String())
}
