package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// address is where user's email goes (the SMTP sink takes everything).
func address(user string) string { return user + "@example.org" }

// subscribe subscribes user to every notification by email, through the
// REST API with the admin key.
func (d *demo) subscribe(user string) error {
	body, _ := json.Marshal(map[string]any{
		"system": system, "principal": d.cyrus.PrincipalHref(user), "time_zone": "UTC", "locale": "en",
		"methods": []map[string]any{{"channel": "email", "address": address(user)}},
	})
	status, resp, err := d.api(http.MethodPost, "/v1/subscriptions", body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("subscribing %s: %d %s", user, status, resp)
	}
	return nil
}

// putReminder puts an event with an alarm in wilma's calendar: the alarm
// rings d.reminderIn from now, 5 minutes before the event. Cyrus pings
// notifyd, which reads it and schedules the reminder.
func (d *demo) putReminder() error {
	d.reminder = time.Now().Add(d.reminderIn).Truncate(time.Second)
	start := d.reminder.Add(5 * time.Minute)
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	ics := strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//demo//EN",
		"BEGIN:VEVENT", "UID:notifyd-demo-coffee", "DTSTAMP:" + stamp(time.Now()),
		"DTSTART:" + stamp(start), "DTEND:" + stamp(start.Add(30*time.Minute)),
		"SUMMARY:Coffee with fred", "LOCATION:The usual place",
		"BEGIN:VALARM", "UID:notifyd-demo-alarm", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT5M", "END:VALARM",
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\r\n")
	href := d.cyrus.CalendarHome(sharee) + "Default/notifyd-demo-coffee.ics"
	status, _, resp, err := d.cyrus.Do(sharee, http.MethodPut, href, "text/calendar; charset=utf-8", ics)
	if err != nil {
		return err
	}
	if status != http.StatusCreated && status != http.StatusNoContent {
		return fmt.Errorf("putting wilma's event: %d %s", status, resp)
	}
	return nil
}

// api calls notifyd's REST API with the admin key.
func (d *demo) api(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, d.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}

// printWelcome prints where to look. The lines "Console:", "Sign in:"
// and "Temporary directory:" are read by e2e/demo_test.go.
func (d *demo) printWelcome() {
	w := d.out
	fmt.Fprintf(w, `
notifyd is running, with Cyrus IMAP and an SMTP sink.

  Console:   %s/console/
  Sign in:   %s
             (an admin API key: the REST API at %s/v1/ takes it too, as "Authorization: Bearer …")

fred shared his calendar "Default" with wilma. Cyrus put a sharing invitation
in wilma's notification collection and pinged notifyd, which read it and
emailed %s. In the console, Find a message lists the delivery; its page
shows the email as wilma got it. Every email the SMTP sink received, as
received, is a file in
  %s
`, d.baseURL, d.key, d.baseURL, address(sharee), filepath.Join(d.sink.Maildir(), "new"))
	if !d.reminder.IsZero() {
		fmt.Fprintf(w, `
wilma has "Coffee with fred" in her calendar at %s UTC, with an alarm 5
minutes before: notifyd emails her the reminder at %s UTC.
`, d.reminder.Add(5*time.Minute).UTC().Format("15:04:05"), d.reminder.UTC().Format("15:04:05"))
	}
	fmt.Fprintf(w, `
Try more: Cyrus's CalDAV server is %s (users %s, each with the password
name + "pw", e.g. fredpw); every change there pings notifyd.
notifyd's log: %s

  Temporary directory: %s

Ctrl-C stops notifyd, Cyrus and the sink, and removes that directory.

`, d.cyrus.BaseURL, strings.Join(users, ", "), d.logPath(), d.dir)
}

// watchDeliveries prints each of wilma's deliveries once notifyd has sent
// it, with its page in the console, until ctx ends. notifyd offers no
// event to wait on: the log is asked again every second.
func (d *demo) watchDeliveries(ctx context.Context) {
	seen := map[string]bool{}
	q := url.Values{"system": {system}, "principal": {d.cyrus.PrincipalHref(sharee)}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		status, body, err := d.api(http.MethodGet, "/v1/deliveries?"+q.Encode(), nil)
		if err != nil || status != http.StatusOK {
			continue
		}
		var page struct {
			Items []struct {
				ID           string `json:"id"`
				Status       string `json:"status"`
				Address      string `json:"address"`
				Notification struct {
					Type string `json:"type"`
				} `json:"notification"`
			} `json:"items"`
		}
		if json.Unmarshal(body, &page) != nil {
			continue
		}
		for _, it := range page.Items {
			if seen[it.ID] || (it.Status != "sent" && it.Status != "delivered" && it.Status != "failed") {
				continue
			}
			seen[it.ID] = true
			fmt.Fprintf(d.out, "%s  wilma's %s email to %s: %s\n           see it at %s/console/deliveries/%s\n",
				time.Now().UTC().Format("15:04:05"), it.Notification.Type, it.Address, it.Status, d.baseURL, it.ID)
		}
	}
}
