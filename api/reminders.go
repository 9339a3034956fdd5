package api

import (
	"context"
	"encoding/json"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// ReminderLog lists the alarm instances notifyd scheduled, fired, skipped
// or cancelled; store.DB implements it.
type ReminderLog interface {
	Reminders(ctx context.Context, f store.ReminderFilter) ([]store.ReminderRecord, error)
}

// reminderJSON is an alarm instance as the API shows it.
type reminderJSON struct {
	FireKey      string     `json:"fire_key"`
	System       string     `json:"system"`
	Principal    string     `json:"principal"`
	Calendar     string     `json:"calendar"`
	Object       string     `json:"object"`
	UID          string     `json:"uid"`
	RecurrenceID string     `json:"recurrence_id"`
	AlarmID      string     `json:"alarm_id"`
	Component    string     `json:"component"`
	Action       string     `json:"action"`
	Trigger      time.Time  `json:"trigger"`
	State        string     `json:"state"`
	Reason       string     `json:"reason"`
	FiredAt      *time.Time `json:"fired_at,omitempty"`
	LateSeconds  int64      `json:"late_seconds"`
	Summary      string     `json:"summary"`
}

// timeRange reads the query's from and to (RFC 3339; either may be
// left out) into from and to; when they are not a valid range it has
// answered with a problem and returns false.
func timeRange(c *gin.Context, from, to *time.Time) bool {
	var errs []notifyd.FieldError
	for _, b := range []struct {
		name string
		at   *time.Time
	}{{"from", from}, {"to", to}} {
		v := c.Query(b.name)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			// The contract checked the shape; this is a date that does
			// not exist, such as February 30.
			errs = append(errs, notifyd.FieldError{Field: "query." + b.name, Detail: "is not a date and time that exists (RFC 3339, e.g. 2026-03-01T09:00:00Z)"})
			continue
		}
		*b.at = at
	}
	if len(errs) == 0 && !from.IsZero() && !to.IsZero() && !to.After(*from) {
		errs = append(errs, notifyd.FieldError{Field: "query.to", Detail: "must be later than from"})
	}
	if len(errs) > 0 {
		badRequest(c, "The time range is not valid; see errors.", errs...)
		return false
	}
	return true
}

// maxFireKey is the longest fire key a cursor may carry, in bytes.
const maxFireKey = 256

func (s *Server) listReminders(c *gin.Context) {
	if s.reminders == nil {
		writeError(c, s.log, notifyd.ErrUnavailable)
		return
	}
	f := store.ReminderFilter{State: c.Query("state")}
	var inScope bool
	f.System, f.Systems, inScope = actorOf(c).SystemFilter(c.Query("system"))
	if !timeRange(c, &f.From, &f.To) {
		return
	}
	listPageOf(s, c, fireKeyOK, func(q pageQuery) ([]store.ReminderRecord, error) {
		if !inScope {
			return nil, nil
		}
		f.Principal, f.Limit, f.AfterTime, f.AfterKey = q.Principal, q.Limit, q.AfterTime, q.AfterID
		return s.reminders.Reminders(c.Request.Context(), f)
	}, func(r store.ReminderRecord) (time.Time, string) { return r.TriggerAt, r.FireKey }, s.toReminderJSON)
}

// fireKeyOK reports whether a cursor's ID can be a fire key: printable
// UTF-8 text of at most maxFireKey bytes.
func fireKeyOK(key string) bool {
	if key == "" || len(key) > maxFireKey || !utf8.ValidString(key) {
		return false
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// toReminderJSON is a reminder as the API shows it: the store's columns,
// and what its notification (Details) says of the alarm and its event.
func (s *Server) toReminderJSON(r store.ReminderRecord) reminderJSON {
	out := reminderJSON{
		FireKey: r.FireKey, System: r.System, Principal: r.Principal, Calendar: r.CalendarHref, Object: r.ObjectHref,
		Trigger: r.TriggerAt, State: r.State, Reason: r.Reason,
	}
	if !r.FiredAt.IsZero() {
		fired := r.FiredAt
		out.FiredAt = &fired
		// How late it was handed to its channels (or found too late
		// to send), in whole seconds; under a second is on time.
		if late := r.FiredAt.Sub(r.TriggerAt); late >= time.Second {
			out.LateSeconds = int64(late / time.Second)
		}
	}
	var n notifyd.Notification
	if err := json.Unmarshal(r.Details, &n); err != nil {
		s.log.Warn("reminder details are not a notification; listing it without them", "fire_key", r.FireKey, "err", err)
		return out
	}
	if rm := n.Reminder; rm != nil {
		out.UID, out.RecurrenceID, out.AlarmID = rm.UID, rm.RecurrenceID, rm.AlarmID
		out.Component, out.Action = rm.Component, rm.Action
	}
	out.Summary = n.Summary
	if n.Event != nil && n.Event.Summary != "" {
		out.Summary = n.Event.Summary
	}
	return out
}
