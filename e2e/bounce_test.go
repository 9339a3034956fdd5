package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/notifyd/notifyd/internal/peertest"
)

// With channels.smtp.bounce_domain set, the email of a delivery leaves
// with MAIL FROM bounces+<its delivery ID>-<MAC>@<domain> (the SMTP sink
// records it and answers 250); a bounce report sent later to that
// address at notifyd's bounce listener marks the delivery bounced and
// puts the address on the suppression list, so the next notification for
// it is suppressed, not sent. The same address with its MAC altered and
// any other recipient get 550.
func TestBounceAddressAndListener(t *testing.T) {
	listen := freeAddr(t)
	w := newPublishWorld(t, "NOTIFYD_CHANNELS_SMTP_BOUNCE_DOMAIN=bounces.example.org",
		"NOTIFYD_CHANNELS_SMTP_BOUNCE_LISTENER_ADDR="+listen)
	w.nd.waitLog(t, time.Minute, 0, 1, "bounce listener ready")
	if code, body := w.publish(t, map[string]any{
		"topic":     "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=bounce-1&aid=alarm-1&comptype=event",
		"principal": wilmaPrincipal, "content_type": "text/calendar", "payload": alarmICS("bounce-1", "Standup"),
	}); code != 202 {
		t.Fatalf("publish: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the alarm's email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	waitIdle(t, w.nd, time.Minute)
	ds := w.deliveries(t)
	if len(ds) != 1 {
		t.Fatalf("deliveries: %v", ds)
	}
	id := ds[0]["id"].(string)
	from := msgs[0].MailFrom
	if !strings.HasPrefix(from, "bounces+"+id+"-") || !strings.HasSuffix(from, "@bounces.example.org") {
		t.Fatalf("MAIL FROM %q, want bounces+%s-MAC@bounces.example.org", from, id)
	}
	if h := msgs[0].Header.Get("From"); !strings.Contains(h, "notifyd@localhost") {
		t.Errorf("From header %q changed", h)
	}

	dsn := dsnFor(from, wilmaEmail)
	mark := w.nd.logMark()
	if err := sendBounce(t, listen, from, dsn); err != nil {
		t.Fatalf("the bounce report was refused: %v", err)
	}
	w.nd.waitLog(t, time.Minute, mark, 1, "bounce report recorded", id, "hard")
	waitBounced(t, w, id)
	// The report sent again (a sender retrying) changes nothing more.
	if err := sendBounce(t, listen, from, dsn); err != nil {
		t.Fatalf("the bounce report sent again was refused: %v", err)
	}
	if code, body := w.nd.api(t, http.MethodGet, "/v1/suppressions?channel=email", nil); code != http.StatusOK ||
		len(body["items"].([]any)) != 1 || body["items"].([]any)[0].(map[string]any)["reason"] != "hard_bounce" {
		t.Fatalf("suppressions: %d %v, want wilma's hard bounce", code, body)
	}

	// The next notification for wilma is suppressed, not sent.
	if code, body := w.publish(t, map[string]any{
		"topic":     "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=bounce-1b&aid=alarm-1&comptype=event",
		"principal": wilmaPrincipal, "content_type": "text/calendar", "payload": alarmICS("bounce-1b", "Review"),
	}); code != 202 {
		t.Fatalf("publish: %d %v", code, body)
	}
	waitFor(t, time.Minute, "the next delivery suppressed", func() bool {
		for _, d := range w.deliveries(t) {
			if d["id"] != id && d["status"] == "suppressed" {
				return true
			}
		}
		return false
	})
	if n := len(w.sink.Messages(t)); n != 1 {
		t.Errorf("the sink got %d emails, want only the first", n)
	}

	at := strings.IndexByte(from, '@')
	flip := byte('0')
	if from[at-1] == '0' {
		flip = '1'
	}
	forged := from[:at-1] + string(flip) + from[at:]
	for _, rcpt := range []string{forged, "postmaster@bounces.example.org", "someone@example.net"} {
		var se *smtp.SMTPError
		if err := sendBounce(t, listen, rcpt, dsn); !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("report to %s: %v, want 550", rcpt, err)
		}
	}
}

// waitBounced waits for delivery id to be bounced, with the report's
// diagnostic, and wilma's address to be suppressed for it.
func waitBounced(t *testing.T, w *publishWorld, id string) {
	t.Helper()
	var bounced map[string]any
	waitFor(t, time.Minute, "the delivery bounced", func() bool {
		for _, d := range w.deliveries(t) {
			if d["id"] == id && d["status"] == "bounced" {
				bounced = d
				return true
			}
		}
		return false
	})
	if !strings.Contains(fmt.Sprint(bounced["last_error"]), "5.1.1") {
		t.Errorf("bounced delivery %v, want the diagnostic in last_error", bounced)
	}
	code, body := w.nd.api(t, http.MethodGet, "/v1/suppressions?channel=email&address_prefix=wilma", nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["address"] != wilmaEmail {
		t.Errorf("suppressions: %d %v, want %s", code, body, wilmaEmail)
	}
}

// dsnFor is an RFC 3464 report, sent to the bounce address to, that
// rcpt does not exist.
func dsnFor(to, rcpt string) string {
	return "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: " + to + "\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <" + rcpt + ">: user unknown\r\n--b1--\r\n"
}

// With channels.smtp.bounce_mailbox set, notifyd reads the reports
// dropped in an IMAP mailbox on Cyrus: a report for a delivery's bounce
// address is logged with the delivery and deleted from the mailbox.
func TestBounceMailboxOnCyrus(t *testing.T) {
	cy := peertest.StartCyrus(t, "bounces")
	w := newPublishWorld(t, "NOTIFYD_CHANNELS_SMTP_BOUNCE_DOMAIN=bounces.example.org",
		"NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_ADDR="+cy.IMAPAddr, "NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_USERNAME=bounces",
		"NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_PASSWORD="+cy.Password("bounces"), "NOTIFYD_CHANNELS_SMTP_BOUNCE_MAILBOX_POLL_INTERVAL=200ms")
	if code, body := w.publish(t, map[string]any{
		"topic":     "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=bounce-2&aid=alarm-1&comptype=event",
		"principal": wilmaPrincipal, "content_type": "text/calendar", "payload": alarmICS("bounce-2", "Standup"),
	}); code != 202 {
		t.Fatalf("publish: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the alarm's email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	from := msgs[0].MailFrom
	id := strings.TrimPrefix(from[:strings.LastIndexByte(from, '-')], "bounces+")
	mark := w.nd.logMark()
	cy.IMAP(t, "bounces", "SELECT INBOX") // the mailbox exists
	appendIMAP(t, cy, "bounces", dsnFor(from, wilmaEmail))
	w.nd.waitLog(t, time.Minute, mark, 1, "bounce report recorded", id, "hard")
	waitBounced(t, w, id)
	waitFor(t, time.Minute, "the report deleted from the mailbox", func() bool {
		for _, u := range cy.IMAP(t, "bounces", "SELECT INBOX", "UID SEARCH ALL") {
			if rest, ok := strings.CutPrefix(u, "SEARCH"); ok && strings.TrimSpace(rest) != "" {
				return false
			}
		}
		return true
	})
}

// appendIMAP puts raw into user's INBOX on cy (IMAP APPEND).
func appendIMAP(t *testing.T, cy *peertest.Cyrus, user, raw string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", cy.IMAPAddr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
			if !strings.HasPrefix(line, "* ") {
				t.Fatalf("IMAP: %q, waiting for %q", line, prefix)
			}
		}
	}
	expect("* OK")
	fmt.Fprintf(conn, "a0 LOGIN %s %s\r\n", user, cy.Password(user))
	expect("a0 OK")
	fmt.Fprintf(conn, "a1 APPEND INBOX {%d}\r\n", len(raw))
	expect("+")
	io.WriteString(conn, raw+"\r\n")
	expect("a1 OK")
}

// sendBounce sends raw from the null sender to rcpt at addr.
func sendBounce(t *testing.T, addr, rcpt, raw string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write([]byte(raw)); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}
