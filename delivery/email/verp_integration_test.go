package email_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/internal/peertest"
)

// TestVERPEnvelopeSenderAgainstSink sends two deliveries through a real
// SMTP server: with a VERP each one's MAIL FROM is its own bounce
// address, whose token decodes to the delivery's ID, while the From
// header stays notifyd's address and no Return-Path header is written by
// notifyd (the sink's own Return-Path is the envelope's); without one,
// MAIL FROM stays the From address.
func TestVERPEnvelopeSenderAgainstSink(t *testing.T) {
	sink := peertest.StartSMTP(t)
	cfg := config.SMTP{Host: sink.Host, Port: sink.Port, TLS: config.TLSStartTLS,
		From: "notifyd <notifyd@example.org>", Timeout: 10 * time.Second}
	verp, err := bounce.NewVERP("", "bounces.example.org", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := email.NewChannel(cfg, "", email.WithRootCAs(sink.CertPool()))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	ch.UseVERP(verp)
	plain, err := email.NewChannel(cfg, "", email.WithRootCAs(sink.CertPool()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	n := &notifyd.Notification{Type: notifyd.TypeShareInvite, Access: "read-write",
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"}}
	ids := []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}
	ctx := context.Background()
	for i, id := range ids {
		req := &delivery.Request{Notification: n, System: "cyrus", Principal: "/dav/principals/user/wilma/",
			Address: []string{"wilma@example.org", "barney@example.org"}[i], Locale: "en", TimeZone: time.UTC, DeliveryID: id}
		if _, err := ch.Send(ctx, req); err != nil {
			t.Fatalf("delivery %s: %v", id, err)
		}
	}
	if _, err := plain.Send(ctx, &delivery.Request{Notification: n, System: "cyrus", Principal: "/p/",
		Address: "betty@example.org", Locale: "en", TimeZone: time.UTC, DeliveryID: "00000000000000000000000000000001"}); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitMessages(t, 3, 10*time.Second)
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	byRcpt := map[string]peertest.ReceivedMessage{}
	for _, m := range got {
		byRcpt[strings.Join(m.RcptTo, ",")] = m
	}
	for i, rcpt := range []string{"wilma@example.org", "barney@example.org"} {
		m, ok := byRcpt[rcpt]
		if !ok {
			t.Fatalf("nothing for %s in %v", rcpt, byRcpt)
		}
		if !strings.HasPrefix(m.MailFrom, "bounces+") || !strings.HasSuffix(m.MailFrom, "@bounces.example.org") {
			t.Errorf("%s: MAIL FROM %q, want bounces+TOKEN@bounces.example.org", rcpt, m.MailFrom)
		}
		id, err := verp.Decode(m.MailFrom)
		if err != nil || id != ids[i] {
			t.Errorf("%s: MAIL FROM %q decodes to %q, %v; want %s", rcpt, m.MailFrom, id, err, ids[i])
		}
		if from := m.Header.Get("From"); !strings.Contains(from, "notifyd@example.org") {
			t.Errorf("%s: From %q, want notifyd's address", rcpt, from)
		}
		if rp := m.Header["Return-Path"]; len(rp) != 1 {
			t.Errorf("%s: Return-Path headers %q: want only the receiving server's", rcpt, rp)
		}
	}
	if m := byRcpt["betty@example.org"]; m.MailFrom != "notifyd@example.org" {
		t.Errorf("without VERP: MAIL FROM %q, want notifyd@example.org", m.MailFrom)
	}
}
