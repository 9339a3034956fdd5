package config

import (
	"log/slog"
	"time"

	"github.com/notifyd/notifyd"
)

// Bounds of the reminders settings, checked by Load. They keep the work of
// one poll and of one expansion bounded, whatever the calendars hold.
const (
	// minReminderPoll is the shortest reminders.poll_interval: a poll
	// costs CalDAV requests per calendar, and pings (not polls) are how a
	// server reports its changes at once.
	minReminderPoll = 10 * time.Second
	// minReminderHorizon and maxReminderHorizon bound reminders.horizon.
	minReminderHorizon = time.Hour
	maxReminderHorizon = 30 * 24 * time.Hour
	// minReminderInterval is the smallest reminders.min_interval: it caps
	// the instances of one alarm in the horizon (2,880 in 48 h), so an
	// RRULE of FREQ=SECONDLY cannot flood the database or the channels.
	minReminderInterval = time.Minute
	// minReminderGrace and maxReminderGrace bound every reminders.grace.*:
	// below a minute, an ordinary hiccup would turn reminders into
	// skipped ones; beyond a week, a reminder is news of the past.
	minReminderGrace = time.Minute
	maxReminderGrace = 7 * 24 * time.Hour
	// slowReminderPoll is the reminders.poll_interval beyond which
	// Warnings says which reminders may be missed.
	slowReminderPoll = 5 * time.Minute
)

// Reminders configures the calendar alarms (VALARM) notifyd fires for the
// principals whose subscriptions want reminders. docs/reminders.md says
// what fires and when.
type Reminders struct {
	// Enabled turns reminders on (default true). Off, notifyd reads no
	// calendars and fires no alarms; the reminders recorded stay listed.
	Enabled bool `koanf:"enabled"`
	// PollInterval is how often each subscribed principal's calendars are
	// synced when no ping names them (default 1m, at least 10s, less than
	// Horizon). An alarm set less than PollInterval ahead of its trigger
	// may be seen only once it has passed, and is then not fired.
	PollInterval time.Duration `koanf:"poll_interval"`
	// Horizon is how far ahead alarm instances are expanded, scheduled
	// and listed (default 48h, between 1h and 30 days). It rolls forward
	// as time passes.
	Horizon time.Duration `koanf:"horizon"`
	// MinInterval is the shortest time between two reminders of one alarm
	// of a recurring event or task (default 5m, at least 1m, at most
	// Horizon): the instances of a rule closer than that get at most one
	// reminder per MinInterval.
	MinInterval time.Duration `koanf:"min_interval"`
	// Grace is, per channel, how late a reminder may still be sent (after
	// downtime); a reminder later than that is skipped as late, never
	// sent.
	Grace ReminderGrace `koanf:"grace"`
}

// ReminderGrace is how late a reminder may be sent, per channel (each
// between 1m and 7 days). A reminder is late when it is handed to its
// channel after its trigger (because notifyd was down, for instance);
// within the grace it is sent marked late, beyond it it is recorded as
// skipped (reason "late") and not sent.
type ReminderGrace struct {
	// Email is the grace of email reminders (default 2h): a late email
	// is still worth reading before the event.
	Email time.Duration `koanf:"email"`
	// SMS is the grace of SMS reminders (default 15m).
	SMS time.Duration `koanf:"sms"`
	// IM is the grace of instant-message pop-ups (default 15m): a stale
	// pop-up is noise.
	IM time.Duration `koanf:"im"`
	// Webhook is the grace of webhook reminders (default 15m).
	Webhook time.Duration `koanf:"webhook"`
}

// For returns the grace of channel ch; 0 for a channel notifyd does not
// know.
func (g ReminderGrace) For(ch notifyd.Channel) time.Duration {
	switch ch {
	case notifyd.ChannelEmail:
		return g.Email
	case notifyd.ChannelSMS:
		return g.SMS
	case notifyd.ChannelIM:
		return g.IM
	case notifyd.ChannelWebhook:
		return g.Webhook
	}
	return 0
}

// defaultReminders returns the reminders defaults.
func defaultReminders() Reminders {
	return Reminders{
		Enabled:      true,
		PollInterval: time.Minute,
		Horizon:      48 * time.Hour,
		MinInterval:  5 * time.Minute,
		Grace: ReminderGrace{
			Email:   2 * time.Hour,
			SMS:     15 * time.Minute,
			IM:      15 * time.Minute,
			Webhook: 15 * time.Minute,
		},
	}
}

// validate checks the reminders settings.
func (r *Reminders) validate(p *problems) {
	switch {
	case r.PollInterval < minReminderPoll:
		p.add("reminders.poll_interval", "must be at least %s, e.g. 1m; a ping from the CalDAV server syncs at once", minReminderPoll)
	case r.PollInterval >= r.Horizon:
		p.add("reminders.poll_interval", "must be shorter than reminders.horizon, e.g. 1m")
	}
	if r.Horizon < minReminderHorizon || r.Horizon > maxReminderHorizon {
		p.add("reminders.horizon", "must be between 1h and 720h (30 days), e.g. 48h")
	}
	switch {
	case r.MinInterval < minReminderInterval:
		p.add("reminders.min_interval", "must be at least %s, e.g. 5m; it bounds the reminders of a rule that recurs more often", minReminderInterval)
	case r.MinInterval > r.Horizon:
		p.add("reminders.min_interval", "must not exceed reminders.horizon")
	}
	for _, g := range []struct {
		key string
		d   time.Duration
	}{
		{"reminders.grace.email", r.Grace.Email}, {"reminders.grace.sms", r.Grace.SMS},
		{"reminders.grace.im", r.Grace.IM}, {"reminders.grace.webhook", r.Grace.Webhook},
	} {
		if g.d < minReminderGrace || g.d > maxReminderGrace {
			p.add(g.key, "must be between 1m and 168h (7 days), e.g. 15m")
		}
	}
}

// summary is the reminders settings for the startup log line.
func (r *Reminders) summary() slog.Attr {
	if !r.Enabled {
		return slog.Group("reminders", "enabled", false)
	}
	return slog.Group("reminders", "enabled", true, "poll_interval", r.PollInterval.String(),
		"horizon", r.Horizon.String(), "min_interval", r.MinInterval.String(),
		slog.Group("grace", "email", r.Grace.Email.String(), "sms", r.Grace.SMS.String(),
			"im", r.Grace.IM.String(), "webhook", r.Grace.Webhook.String()))
}
