package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// A spam complaint comes back for an email notifyd sent: Yahoo's feedback
// loop sends an ARF report, about the message as the SMTP sink received
// it (its Return-Path the delivery's bounce address), to
// fbl@<bounce domain> at notifyd's bounce listener. Wilma's address goes
// on the suppression list with reason complaint, the delivery stays
// sent, and the same report sent again changes nothing more. The next
// notification for her is suppressed and, her channel order saying
// email then SMS, goes to her SMS method (Twilio's contract, Prism)
// instead; no second email leaves.
func TestComplaintSuppressesAndFallsBack(t *testing.T) {
	sink := peertest.StartSMTP(t)
	prism := peertest.StartPrism(t)
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  ens:
    caldav_url: http://127.0.0.1:1/
    tokens: [%s]
channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
    bounce_domain: bounces.example.org
    bounce_listener:
      addr: %s
  twilio:
    account_sid: %s
    auth_token: %s
    from: "%s"
    base_url: %s
    timeout: 5s
reminders:
  enabled: false
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, pingToken, sink.Host, sink.Port, ca, listen, smsAccountSID, smsAuthToken, smsFrom, prism.URL))
	nd.start()
	nd.waitLog(t, time.Minute, 0, 1, "bounce listener ready", "fbl@bounces.example.org")
	w := &publishWorld{nd: nd, sink: sink}
	code, body := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "ens", "principal": wilmaPrincipal,
		"time_zone": "Europe/Paris", "methods": []map[string]any{{"channel": "email", "address": wilmaEmail}, {"channel": "sms", "address": smsTo}},
		"preferences": map[string]any{"channel_order": []string{"email", "sms"}}})
	if code != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", code, body)
	}
	change := func(uid string) {
		t.Helper()
		if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
			"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
			"payload": alarmICS(uid, "Planning "+uid)}); code != http.StatusAccepted {
			t.Fatalf("event-create: %d %v", code, body)
		}
	}
	context := func() string { return fmt.Sprintf("\nnotifyd log:\n%s\nPrism log:\n%s", nd.log, prism.Log()) }

	change("c1")
	msgs := sink.Await(t, time.Minute, "the email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	ds := waitFinal(t, time.Minute, 1, func() []map[string]any { return w.deliveries(t) }, context)
	if len(ds) != 1 || ds[0]["channel"] != "email" || ds[0]["status"] != "sent" {
		t.Fatalf("deliveries %v, want the email sent", ds)
	}
	id := ds[0]["id"].(string)
	if !strings.HasPrefix(msgs[0].MailFrom, "bounces+"+id+"-") {
		t.Fatalf("MAIL FROM %q, want the delivery's bounce address", msgs[0].MailFrom)
	}

	arf := yahooComplaint(msgs[0].Raw)
	mark := nd.logMark()
	if err := sendBounce(t, listen, "fbl@bounces.example.org", arf); err != nil {
		t.Fatalf("the complaint was refused: %v", err)
	}
	nd.waitLog(t, time.Minute, mark, 1, "complaint recorded", id, "arf.mail.yahoo.com")
	code, body = nd.api(t, http.MethodGet, "/v1/suppressions?channel=email", nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("suppressions: %d %v, want wilma's complaint", code, body)
	}
	if s := items[0].(map[string]any); s["address"] != wilmaEmail || s["reason"] != "complaint" ||
		s["detail"] != "feedback type abuse from arf.mail.yahoo.com (Yahoo!-Mail-Feedback/2.0)" || s["actor"] != "complaint report" {
		t.Errorf("suppression %v", s)
	}
	// The report again (Yahoo retrying): recorded once.
	if err := sendBounce(t, listen, "fbl@bounces.example.org", arf); err != nil {
		t.Fatalf("the complaint sent again was refused: %v", err)
	}
	nd.waitLog(t, time.Minute, mark, 1, "complaint recorded", id, `"duplicate":true`)
	m, err := scrape(nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	if r, d := m[`notifyd_bounce_reports_total{kind="complaint",outcome="recorded"}`],
		m[`notifyd_bounce_reports_total{kind="complaint",outcome="duplicate"}`]; r != 1 || d != 1 {
		t.Errorf("complaints counted %v recorded, %v duplicate; want 1 and 1", r, d)
	}
	if code, body := nd.api(t, http.MethodGet, "/v1/suppressions?channel=email", nil); code != http.StatusOK || len(body["items"].([]any)) != 1 {
		t.Errorf("suppressions after the second report: %d %v", code, body)
	}
	for _, d := range w.deliveries(t) {
		if d["id"] == id && d["status"] != "sent" {
			t.Errorf("the delivery complained about is %v, want it sent still", d["status"])
		}
	}

	change("c2")
	ds = waitFinal(t, time.Minute, 3, func() []map[string]any { return w.deliveries(t) }, context)
	var suppressed, sms int
	for _, d := range ds {
		switch {
		case d["id"] == id:
		case d["channel"] == "email":
			if d["status"] == "suppressed" && strings.Contains(fmt.Sprint(d["last_error"]), "address suppressed: spam complaint") {
				suppressed++
			} else {
				t.Errorf("next email delivery %v, want suppressed for the complaint", d)
			}
		case d["channel"] == "sms":
			if d["status"] == "sent" {
				sms++
			}
		}
	}
	if suppressed != 1 || sms != 1 {
		t.Errorf("deliveries %v: want the email suppressed and the SMS sent instead%s", ds, context())
	}
	waitIdle(t, nd, time.Minute)
	if n := len(sink.Messages(t)); n != 1 {
		t.Errorf("the sink got %d emails, want only the first", n)
	}
}

// yahooComplaint is a Yahoo-style ARF report (abuse) about original, the
// message as received, sent to the feedback address.
func yahooComplaint(original []byte) string {
	orig := strings.ReplaceAll(strings.ReplaceAll(string(original), "\r\n", "\n"), "\n", "\r\n")
	return "From: feedback@arf.mail.yahoo.com\r\nTo: fbl@bounces.example.org\r\n" +
		"Subject: FW: a notification\r\nDate: Mon, 7 Dec 2026 08:14:22 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf-b1\"\r\n\r\n" +
		"--arf-b1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for an email message received from IP 127.0.0.1.\r\n" +
		"--arf-b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\n" +
		"Version: 0.1\r\nOriginal-Rcpt-To: <" + wilmaEmail + ">\r\nSource-IP: 127.0.0.1\r\nReported-Domain: localhost\r\n\r\n" +
		"--arf-b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + orig + "\r\n--arf-b1--\r\n"
}

// jmrpComplaint is a Microsoft JMRP-style ARF report about the delivery
// whose bounce address is from: the recipient redacted, the reported
// message without Return-Path, the delivery named in Original-Mail-From.
func jmrpComplaint(from string) string {
	return "From: staff@hotmail.com\r\nTo: fbl@bounces.example.org\r\nSubject: complaint about message from 127.0.0.1\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"jmrp\"\r\n\r\n" +
		"--jmrp\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
		"--jmrp\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Hotmail FBL\r\nVersion: 1\r\n" +
		"Original-Mail-From: <" + from + ">\r\nSource-IP: 127.0.0.1\r\n\r\n" +
		"--jmrp\r\nContent-Type: message/rfc822\r\n\r\nX-HmXmrOriginalRecipient: <redacted>\r\nFrom: Calendar <notifyd@localhost>\r\n" +
		"To: <redacted>\r\nSubject: a notification\r\n\r\nredacted\r\n--jmrp--\r\n"
}

// With channels.smtp.bounce_mailbox set, a complaint dropped in the IMAP
// mailbox on Cyrus (a feedback loop registered to that mailbox's
// address) suppresses the address of the delivery it names, though the
// recipient is redacted, and is deleted from the mailbox; a DMARC
// failure report about the same message is deleted without suppressing
// anything.
func TestComplaintMailboxOnCyrus(t *testing.T) {
	cy := peertest.StartCyrus(t, "fbl")
	w := newPublishWorld(t, "NOTIFYD_CHANNELS_SMTP_BOUNCE_DOMAIN=bounces.example.org",
		"NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_ADDR="+cy.IMAPAddr, "NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_USERNAME=fbl",
		"NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_PASSWORD="+cy.Password("fbl"), "NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_POLL_INTERVAL=200ms")
	if code, body := w.publish(t, map[string]any{
		"topic":     "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=complaint-2&aid=alarm-1&comptype=event",
		"principal": wilmaPrincipal, "content_type": "text/calendar", "payload": alarmICS("complaint-2", "Standup"),
	}); code != 202 {
		t.Fatalf("publish: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the alarm's email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	from := msgs[0].MailFrom
	id := strings.TrimPrefix(from[:strings.LastIndexByte(from, '-')], "bounces+")
	mark := w.nd.logMark()
	cy.IMAP(t, "fbl", "SELECT INBOX") // the mailbox exists
	dmarc := strings.Replace(jmrpComplaint(from), "Feedback-Type: abuse", "Feedback-Type: auth-failure", 1)
	appendIMAP(t, cy, "fbl", dmarc)
	w.nd.waitLog(t, time.Minute, mark, 1, "not a report of this notifyd; deleted", "auth-failure")
	appendIMAP(t, cy, "fbl", jmrpComplaint(from))
	w.nd.waitLog(t, time.Minute, mark, 1, "complaint recorded", id, "hotmail.com")
	code, body := w.nd.api(t, http.MethodGet, "/v1/suppressions?channel=email", nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["address"] != wilmaEmail ||
		items[0].(map[string]any)["reason"] != "complaint" {
		t.Fatalf("suppressions: %d %v, want wilma's complaint", code, body)
	}
	waitFor(t, time.Minute, "the reports deleted from the mailbox", func() bool {
		for _, u := range cy.IMAP(t, "fbl", "SELECT INBOX", "UID SEARCH ALL") {
			if rest, ok := strings.CutPrefix(u, "SEARCH"); ok && strings.TrimSpace(rest) != "" {
				return false
			}
		}
		return true
	})
}
