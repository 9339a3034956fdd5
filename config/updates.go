package config

import (
	"log/slog"
	"time"
)

// Bounds of updates.burst_window, checked by Load.
const (
	// minBurstWindow: shorter, a client's save in several requests (an
	// event then its alarm) is two messages.
	minBurstWindow = time.Second
	// maxBurstWindow: longer, news is late news.
	maxBurstWindow = time.Hour
)

// Updates configures the calendar update notifications notifyd derives
// from syncing calendars (event, task and calendar created, modified or
// deleted) for the principals whose subscriptions want them.
// docs/updates.md says what is sent to whom.
type Updates struct {
	// Enabled turns them on (default true). Off, no calendar is synced
	// for them (calendars are still synced for reminders) and nothing is
	// sent; changes seen meanwhile are not sent later.
	Enabled bool `koanf:"enabled"`
	// BurstWindow is how long after the first change to an event, task
	// or calendar notifyd waits before it sends the net change of all the
	// edits made meanwhile (default 2m, between 1s and 1h).
	BurstWindow time.Duration `koanf:"burst_window"`
}

// defaultUpdates returns the updates defaults.
func defaultUpdates() Updates {
	return Updates{Enabled: true, BurstWindow: 2 * time.Minute}
}

// validate checks the updates settings.
func (u *Updates) validate(p *problems) {
	if u.BurstWindow < minBurstWindow || u.BurstWindow > maxBurstWindow {
		p.add("updates.burst_window", "must be between 1s and 1h, e.g. 2m")
	}
}

// summary is the updates settings for the startup log line.
func (u *Updates) summary() slog.Attr {
	if !u.Enabled {
		return slog.Group("updates", "enabled", false)
	}
	return slog.Group("updates", "enabled", true, "burst_window", u.BurstWindow.String())
}
