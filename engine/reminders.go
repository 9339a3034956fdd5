package engine

import (
	"time"

	"github.com/notifyd/notifyd"
)

// ReminderOptions configure reminders: the calendar alarms notifyd works
// out from the principals' calendars and rings itself.
type ReminderOptions struct {
	// Enabled turns reminders on.
	Enabled bool
	// PollInterval is how often each principal's calendars are synced when
	// no ping asks for it (default 1m).
	PollInterval time.Duration
	// Horizon is how far ahead alarm instances are scheduled (default
	// 48h); the objects are worked out again as it rolls on.
	Horizon time.Duration
	// MinInterval thins recurrences closer together than this: one
	// reminder per interval at most (default 5m).
	MinInterval time.Duration
	// Grace is, per channel, how late a reminder may still be sent after
	// downtime (default 15m; email 2h); a later one is skipped as late.
	Grace map[notifyd.Channel]time.Duration
}

// Default reminder settings.
const (
	defaultReminderPoll    = time.Minute
	defaultReminderHorizon = 48 * time.Hour
	defaultReminderGrace   = 15 * time.Minute
	defaultEmailGrace      = 2 * time.Hour
)

// withDefaults returns o with its zero settings set to the defaults.
func (o ReminderOptions) withDefaults() ReminderOptions {
	if o.PollInterval <= 0 {
		o.PollInterval = defaultReminderPoll
	}
	if o.Horizon <= 0 {
		o.Horizon = defaultReminderHorizon
	}
	grace := make(map[notifyd.Channel]time.Duration, len(notifyd.Channels))
	for _, ch := range notifyd.Channels {
		grace[ch] = defaultReminderGrace
		if ch == notifyd.ChannelEmail {
			grace[ch] = defaultEmailGrace
		}
		if g, ok := o.Grace[ch]; ok && g > 0 {
			grace[ch] = g
		}
	}
	o.Grace = grace
	return o
}

// grace is how late a reminder may still be sent on ch.
func (o ReminderOptions) grace(ch notifyd.Channel) time.Duration { return o.Grace[ch] }

// reminderWorkers is how many reminders wait for their trigger, or ring,
// at once. Waiting costs a goroutine and a timer.
const reminderWorkers = 500
