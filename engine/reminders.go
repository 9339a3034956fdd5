package engine

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/calendar/alarm"
	"github.com/notifyd/notifyd/store"
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
// at once: River's most. Waiting costs a goroutine and about 10 KB, so
// that the reminders due within reminderLead of each other (everyone's
// 9:00 meeting) wait together and ring in the same batches (see ringer),
// up to 10,000 of them: with 500, those beyond waited for a worker, and
// rang seconds late.
const reminderWorkers = 10000

// objectAlarms parses a calendar object and works out its alarm
// instances between now (less a poll interval, for a trigger that passed
// between the object's writing and this sync) and the horizon, for the
// principal whose calendar user addresses are addrs (its declined
// instances, and EMAIL alarms for others only, are skipped). It returns
// the object with no instances, and the error, when the data cannot be
// parsed: its earlier instances are then cancelled, not rung from a
// version that no longer exists.
func (e *Engine) objectAlarms(log *slog.Logger, key store.PrincipalKey, calHref, calName string, obj store.CalendarObject,
	zone *time.Location, addrs []string, now time.Time) (store.ObjectAlarms, error) {
	o := e.o.Reminders
	slack := o.PollInterval + time.Minute
	oa := store.ObjectAlarms{Object: obj, From: now.Add(-slack)}
	parsed, err := calendar.Parse(obj.Data, calendar.ParseOptions{DefaultLocation: zone})
	if err != nil {
		return oa, err
	}
	oa.Object.UID = parsed.UID
	res := alarm.Compute(parsed, oa.From, now.Add(o.Horizon), alarm.Options{
		// The object may have been written up to a poll before it was
		// first seen.
		WrittenAt:   obj.FirstSeenAt.Add(-slack),
		MinInterval: o.MinInterval,
		Principal:   addrs,
	})
	for _, w := range res.Warnings {
		log.Debug("calendar object read with a guess", "object", obj.Href, "warning", w.Code, "detail", w.Detail)
	}
	if res.Truncated {
		log.Warn("calendar object recurs too often to expand whole; some of its reminders are left out", "object", obj.Href)
	}
	for _, in := range res.Instances {
		r, err := reminderOf(key, calHref, calName, obj.Href, in)
		if err != nil {
			return oa, err
		}
		oa.Reminders = append(oa.Reminders, r)
	}
	if parsed.Recurring() || (parsed.Master != nil && parsed.Master.Start.After(now)) {
		oa.Object.ExpandAt = now.Add(o.Horizon / 2)
	}
	return oa, nil
}

// reminderOf is the stored form of alarm instance in.
func reminderOf(key store.PrincipalKey, calHref, calName, objHref string, in alarm.Instance) (store.ReminderRecord, error) {
	n := notifyd.Notification{
		Type:     notifyd.TypeReminder,
		Element:  "VALARM",
		UID:      in.UID,
		Summary:  in.Summary,
		Calendar: notifyd.Collection{Href: calHref, DisplayName: calName},
		Event: &notifyd.Event{Href: objHref, UID: in.UID, Summary: in.Summary, Location: in.Location,
			Start: in.Start, End: in.End, AllDay: in.AllDay},
		Reminder: &notifyd.Reminder{Calendar: calHref, Object: objHref, UID: in.UID, RecurrenceID: in.RecurrenceID,
			AlarmID: in.AlarmID, Component: string(in.Kind), Action: string(in.Action), Text: in.Text,
			Description: in.Description, Trigger: in.Trigger, TimeZone: in.Zone, Snooze: in.Snooze},
	}
	if in.Kind == calendar.KindTask {
		n.Reminder.Due = in.End
	}
	details, err := json.Marshal(n)
	r := store.ReminderRecord{FireKey: digest(key.System, key.Principal, in.Key), TriggerAt: in.Trigger, Details: details}
	if in.Skip != "" {
		r.State, r.Reason = store.ReminderSkipped, string(in.Skip)
	}
	return r, err
}
