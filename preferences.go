package notifyd

import "time"

// Preferences say when a subscription's notifications are delivered: at
// once or gathered in digests, outside quiet hours, at most so many per
// period, not while paused, and through which channel first. The zero
// value (no preferences) delivers every notification at once to every
// method, as notifyd always did. Package preferences validates them and
// decides, for one notification and one method, what to do now.
//
// Times of day are "HH:MM" (00:00 to 24:00) in the subscription's time
// zone; durations are Go durations such as "15m" or "1h".
type Preferences struct {
	// Digest is the default cadence of every method; nil is immediate.
	Digest *Digest `json:"digest,omitempty"`
	// QuietHours is a weekly schedule during which nothing is sent
	// (except urgent notifications a method lets through, see
	// ChannelPreferences.QuietHoursBypass); what falls inside is held
	// until it ends or folded into the next digest.
	QuietHours []QuietPeriod `json:"quiet_hours,omitempty"`
	// Throttle caps the messages each method sends per period; nil is no
	// cap.
	Throttle *Throttle `json:"throttle,omitempty"`
	// PausedUntil, when after now, holds every notification until then.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// ChannelOrder, when not empty, makes the methods of these channels a
	// fallback chain in this order: a notification goes to the first of
	// them that wants it, and to the next only if that one cannot deliver
	// it. Methods of other channels each get it, as without preferences.
	ChannelOrder []Channel `json:"channel_order,omitempty"`
	// Channels overrides Digest and Throttle for the methods of one
	// channel, and says which urgent types pass its quiet hours.
	Channels map[Channel]ChannelPreferences `json:"channels,omitempty"`
}

// IsZero reports whether p sets nothing: today's behaviour.
func (p *Preferences) IsZero() bool {
	return p == nil || p.Digest == nil && len(p.QuietHours) == 0 && p.Throttle == nil &&
		p.PausedUntil.IsZero() && len(p.ChannelOrder) == 0 && len(p.Channels) == 0
}

// ChannelPreferences are the preferences of the methods of one channel.
type ChannelPreferences struct {
	// Digest replaces Preferences.Digest for this channel.
	Digest *Digest `json:"digest,omitempty"`
	// Throttle replaces Preferences.Throttle for this channel.
	Throttle *Throttle `json:"throttle,omitempty"`
	// QuietHoursBypass lists the types whose urgent notifications this
	// channel delivers even during quiet hours (an SMS reminder of a
	// meeting in ten minutes).
	QuietHoursBypass []NotificationType `json:"quiet_hours_bypass,omitempty"`
}

// Digest modes.
const (
	// DigestImmediate sends each notification on its own, at once.
	DigestImmediate = "immediate"
	// DigestWindow gathers notifications into one message every Window.
	DigestWindow = "window"
	// DigestDaily gathers notifications into one message a day, at At.
	DigestDaily = "daily"
)

// Digest is how often a method's notifications are gathered into one
// message.
type Digest struct {
	// Mode is DigestImmediate, DigestWindow or DigestDaily.
	Mode string `json:"mode"`
	// Window is the window mode's period, a duration that divides a day
	// evenly ("15m", "1h").
	Window string `json:"window,omitempty"`
	// At is the daily mode's time of day ("08:00").
	At string `json:"at,omitempty"`
}

// QuietPeriod is one period of a weekly quiet-hours schedule.
type QuietPeriod struct {
	// Days are the days the period starts on ("mon" … "sun"); empty
	// means every day.
	Days []string `json:"days,omitempty"`
	// From is the time of day it starts.
	From string `json:"from"`
	// To is the time of day it ends: the next day when not after From
	// ("22:00" to "07:00"); "24:00" is midnight at the end of the day.
	To string `json:"to"`
}

// Throttle caps the messages a method sends in each period.
type Throttle struct {
	// Max is the number of messages allowed per period, at least 1.
	Max int `json:"max"`
	// Per is the period, a duration that divides a day evenly ("1h").
	Per string `json:"per"`
}
