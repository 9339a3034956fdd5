package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// icsTime is t as an iCalendar UTC date-time.
func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsObject is a VCALENDAR holding one component of type comp with the
// given content lines (each may hold several, CRLF-separated: a VALARM).
func icsObject(comp string, lines ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd e2e//EN\r\nBEGIN:" + comp + "\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:" + comp + "\r\nEND:VCALENDAR\r\n"
}

// icsEvent is the event uid, an hour from start in Room 4, with more
// lines (properties, VALARMs from icsAlarm).
func icsEvent(uid, summary string, start time.Time, lines ...string) string {
	return icsObject("VEVENT", append([]string{"UID:" + uid, "DTSTAMP:" + icsTime(time.Now()), "DTSTART:" + icsTime(start),
		"DTEND:" + icsTime(start.Add(time.Hour)), "SUMMARY:" + summary, "LOCATION:Room 4"}, lines...)...)
}

// icsTask is the task uid due at due, with no DTSTART, with more lines.
func icsTask(uid, summary string, due time.Time, lines ...string) string {
	return icsObject("VTODO", append([]string{"UID:" + uid, "DTSTAMP:" + icsTime(time.Now()), "DUE:" + icsTime(due),
		"SUMMARY:" + summary}, lines...)...)
}

// icsAlarm is a DISPLAY VALARM with the given UID and TRIGGER line, and
// more lines.
func icsAlarm(uid, trigger string, lines ...string) string {
	return strings.Join(append([]string{"BEGIN:VALARM", "UID:" + uid, "ACTION:DISPLAY", "DESCRIPTION:Reminder", trigger}, lines...), "\r\n") +
		"\r\nEND:VALARM"
}

// reminderPayload is the part of a webhook reminder's body the tests
// read.
type reminderPayload struct {
	Type string `json:"type"`
	Data struct {
		System       string `json:"system"`
		Principal    string `json:"principal"`
		Notification struct {
			Type     string `json:"type"`
			Summary  string `json:"summary"`
			Reminder struct {
				UID       string    `json:"uid"`
				AlarmID   string    `json:"alarm_id"`
				Component string    `json:"component"`
				Trigger   time.Time `json:"trigger"`
			} `json:"reminder"`
		} `json:"notification"`
	} `json:"data"`
}

// decodeReminder decodes a webhook reminder's body.
func decodeReminder(t testing.TB, body []byte) reminderPayload {
	t.Helper()
	var p reminderPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("webhook body: %v\n%s", err, body)
	}
	return p
}
