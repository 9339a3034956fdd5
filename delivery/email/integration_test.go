package email_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/internal/peertest"
)

// TestAgainstAiosmtpd sends through a real SMTP server (aiosmtpd with
// STARTTLS, storing to a Maildir) and checks what arrived.
func TestAgainstAiosmtpd(t *testing.T) {
	sink := peertest.StartSMTP(t)
	sender, err := email.NewSender(config.SMTP{
		Host: sink.Host, Port: sink.Port, TLS: config.TLSStartTLS,
		From: "notifyd <notifyd@example.org>", Timeout: 10 * time.Second,
	}, email.WithRootCAs(sink.CertPool()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := email.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	renderFor := func(to, deliveryID string, n *notifyd.Notification) *email.Message {
		t.Helper()
		m, err := r.Render(email.RenderInput{
			Notification: n, System: "cyrus", Principal: "/dav/principals/user/wilma/",
			Recipient: to, Locale: "en", TimeZone: paris,
			UnsubscribeURL: "https://notifyd.example.org/unsubscribe/" + deliveryID,
			DeliveryID:     deliveryID, MessageIDDomain: "notifyd.example.org",
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	invite := renderFor("wilma@example.org", "d1", &notifyd.Notification{
		Type: notifyd.TypeShareInvite, Access: "read-write",
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
	})
	change := renderFor("barney@example.org", "d2", &notifyd.Notification{
		Type:     notifyd.TypeResourceChange,
		From:     notifyd.Person{CommonName: "Fred"},
		Calendar: notifyd.Collection{DisplayName: "Work"},
		Event:    &notifyd.Event{Summary: `Review <b>"Q4"</b>`, Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)},
		Changes:  []notifyd.Change{{Kind: "updated", Properties: []string{"DTSTART"}}},
	})
	ctx := context.Background()
	for i, err := range sender.Send(ctx, []*email.Message{invite, change}) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	got := sink.WaitMessages(t, 2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("%d messages in the Maildir, want 2", len(got))
	}
	var dec mime.WordDecoder
	for i, want := range []*email.Message{invite, change} {
		m := got[i]
		h := m.Header
		subject, err := dec.DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if subject != want.Subject {
			t.Errorf("message %d subject %q, want %q", i, subject, want.Subject)
		}
		for k, v := range map[string]string{
			"Message-Id":            want.MessageID,
			"Auto-Submitted":        "auto-generated",
			"List-Unsubscribe":      want.Headers["List-Unsubscribe"],
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"From":                  `"notifyd" <notifyd@example.org>`,
			"To":                    "<" + want.To + ">",
		} {
			if got := h.Get(k); got != v {
				t.Errorf("message %d %s: %q, want %q", i, k, got, v)
			}
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("message %d Date: %v", i, err)
		}
		if m.MailFrom != "notifyd@example.org" || len(m.RcptTo) != 1 || m.RcptTo[0] != want.To {
			t.Errorf("message %d envelope %q → %v", i, m.MailFrom, m.RcptTo)
		}
		if strings.TrimSpace(m.Text) != strings.TrimSpace(want.Text) {
			t.Errorf("message %d text part differs:\n%s\n--- want\n%s", i, m.Text, want.Text)
		}
		if strings.TrimSpace(m.HTML) != strings.TrimSpace(want.HTML) {
			t.Errorf("message %d HTML part differs:\n%s\n--- want\n%s", i, m.HTML, want.HTML)
		}
	}
	if !strings.Contains(got[1].Text, "16:00 CET") || !strings.Contains(got[1].HTML, "Review &lt;b&gt;&#34;Q4&#34;&lt;/b&gt;") {
		t.Errorf("resource change:\n%s\n%s", got[1].Text, got[1].HTML)
	}

	// The sink refuses: 451 the first time for busy@, 550 always for gone@.
	sink.SetRules(t, peertest.Rules{TempFail: map[string]int{"busy@example.org": 1}, PermFail: []string{"gone@example.org"}})
	busy := renderFor("busy@example.org", "d3", &notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance tonight"})
	gone := renderFor("gone@example.org", "d4", &notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance tonight"})
	ok := renderFor("ok@example.org", "d5", &notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance tonight"})
	errs := sender.Send(ctx, []*email.Message{busy, gone, ok})
	var se *email.SMTPError
	if !email.IsTemporary(errs[0]) || !errors.As(errs[0], &se) || se.Code != 451 || se.Enhanced != "4.3.0" ||
		!strings.Contains(se.Message, "mailbox temporarily unavailable") {
		t.Errorf("busy@: %v (%+v), want a temporary 451 with the server's text", errs[0], se)
	}
	se = nil
	if email.IsTemporary(errs[1]) || !errors.As(errs[1], &se) || se.Code != 550 || se.Enhanced != "5.1.1" ||
		!strings.Contains(errs[1].Error(), "recipient address rejected: user unknown") {
		t.Errorf("gone@: %v (%+v), want a permanent 550 with the server's text", errs[1], se)
	}
	if errs[2] != nil {
		t.Errorf("ok@: %v", errs[2])
	}
	// Retried, busy@ is delivered; gone@ is refused again.
	errs = sender.Send(ctx, []*email.Message{busy, gone})
	if errs[0] != nil || email.IsTemporary(errs[1]) || errs[1] == nil {
		t.Errorf("retry: %v, %v", errs[0], errs[1])
	}
	all := sink.WaitMessages(t, 4, 10*time.Second)
	if last := all[len(all)-1]; last.Header.Get("Message-Id") != busy.MessageID {
		t.Errorf("retried message arrived as %q, want %q", last.Header.Get("Message-Id"), busy.MessageID)
	}

	// An outage is temporary; once the server is back, mail goes through.
	sink.SetRules(t, peertest.Rules{})
	sink.Stop(t)
	errs = sender.Send(ctx, []*email.Message{ok})
	if !email.IsTemporary(errs[0]) {
		t.Errorf("server down: %v, want temporary", errs[0])
	}
	sink.Start(t)
	if errs = sender.Send(ctx, []*email.Message{ok}); errs[0] != nil {
		t.Errorf("server back: %v", errs[0])
	}
	sink.WaitMessages(t, 5, 10*time.Second)
}

// TestReminderAgainstAiosmtpd sends a reminder through a real SMTP
// server: it arrives with its text and its .ics attachment, whose event
// is the instance.
func TestReminderAgainstAiosmtpd(t *testing.T) {
	sink := peertest.StartSMTP(t)
	ch, err := email.NewChannel(config.SMTP{
		Host: sink.Host, Port: sink.Port, TLS: config.TLSStartTLS,
		From: "notifyd <notifyd@example.org>", Timeout: 10 * time.Second,
	}, "", email.WithRootCAs(sink.CertPool()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	req := &delivery.Request{DeliveryID: "r1", System: "cyrus", Principal: "/dav/principals/user/wilma/",
		Address: "wilma@example.org", Locale: "fr", TimeZone: paris, CalendarName: "Travail",
		Notification: &notifyd.Notification{Type: notifyd.TypeReminder,
			Event: &notifyd.Event{UID: "budget-1", Summary: "Revue du budget", Location: "Salle 4",
				Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
			Reminder: &notifyd.Reminder{UID: "budget-1", RecurrenceID: "20261201T080000Z", AlarmID: "a1", Component: "event",
				Action: "DISPLAY", Text: "Apporter les chiffres", Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC)}}}
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	m := sink.WaitMessages(t, 1, 10*time.Second)[0]
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "Rappel : Revue du budget à 09:00" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	for _, want := range []string{"Rappel : « Revue du budget » dans « Travail ».", "mardi 1er décembre 2026, de 09:00 à 10:00 (CET)",
		"Salle 4", "Note : Apporter les chiffres"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	ics := attachment(t, m.Raw, "text/calendar")
	for _, want := range []string{"METHOD:PUBLISH\r\n", "BEGIN:VEVENT\r\n", "UID:budget-1\r\n", "RECURRENCE-ID:20261201T080000Z\r\n",
		"DTSTART:20261201T080000Z\r\n", "DTEND:20261201T090000Z\r\n", "SUMMARY:Revue du budget\r\n"} {
		if !strings.Contains(ics, want) {
			t.Errorf("the .ics lacks %q:\n%s", want, ics)
		}
	}
}

// attachment returns the decoded body of the first part of raw (a stored
// message) of media type mt that is an attachment.
func attachment(t *testing.T, raw []byte, mt string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var find func(h textproto.MIMEHeader, body io.Reader) string
	find = func(h textproto.MIMEHeader, body io.Reader) string {
		typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
		}
		if strings.HasPrefix(typ, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return ""
				}
				if s := find(p.Header, p); s != "" {
					return s
				}
			}
		}
		if typ != mt || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
			return ""
		}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	s := find(textproto.MIMEHeader(msg.Header), msg.Body)
	if s == "" {
		t.Fatalf("no %s attachment in:\n%s", mt, raw)
	}
	return s
}
