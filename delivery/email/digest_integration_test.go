package email_test

import (
	"context"
	"fmt"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/internal/peertest"
)

// Thirty changes to one shared calendar in a digest's window reach a
// real SMTP server (aiosmtpd) as one email that lists each event once,
// in its latest state, with the links to manage notifications and to
// unsubscribe.
func TestDigestAgainstAiosmtpd(t *testing.T) {
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
	team := notifyd.Collection{Href: "/dav/calendars/user/fred/Team/", DisplayName: "Team"}
	base := time.Date(2026, 12, 14, 8, 0, 0, 0, time.UTC)
	d := &delivery.Digest{Since: time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)}
	// Ten meetings, each moved three times by an hour: 30 changes.
	for round := range 3 {
		for i := range 10 {
			uid := fmt.Sprintf("meeting-%d", i)
			from, to := base.Add(time.Duration(24*i+round)*time.Hour), base.Add(time.Duration(24*i+round+1)*time.Hour)
			d.Items = append(d.Items, delivery.DigestItem{DeliveryID: fmt.Sprintf("d%d-%d", round, i), Notification: &notifyd.Notification{
				Type: notifyd.TypeEventModified, Calendar: team, DTStamp: d.Since,
				Event: &notifyd.Event{UID: uid, Summary: fmt.Sprintf("Meeting %d", i), Start: to, End: to.Add(30 * time.Minute)},
				Update: &notifyd.Update{Component: "event", Action: "modified", UID: uid, Fields: []notifyd.FieldChange{
					{Field: notifyd.FieldStart, FromTime: from, ToTime: to},
					{Field: notifyd.FieldEnd, FromTime: from.Add(30 * time.Minute), ToTime: to.Add(30 * time.Minute)}}}}})
		}
	}
	req := &delivery.Request{DeliveryID: "digest-team-1", System: "cyrus", Principal: "/dav/principals/user/wilma/",
		Address: "wilma@example.org", Locale: "en", TimeZone: paris, Digest: d,
		UnsubscribeURL: "https://notifyd.example.org/unsubscribe/tok", PreferencesURL: "https://notifyd.example.org/preferences/tok"}
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	msgs := sink.WaitMessages(t, 1, 10*time.Second)
	m := msgs[0]
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "10 calendar updates in “Team”" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "<https://notifyd.example.org/unsubscribe/tok>" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if !strings.HasPrefix(m.Header.Get("Message-Id"), "<notifyd.digest-team-1@") {
		t.Errorf("Message-ID %q", m.Header.Get("Message-Id"))
	}
	for i := range 10 {
		// Moved from its first time to its last: 09:00 → 12:00 Paris.
		day := base.AddDate(0, 0, i).In(paris)
		for _, part := range []string{m.Text, m.HTML} {
			if n := strings.Count(part, fmt.Sprintf("“Meeting %d”", i)); n != 1 {
				t.Errorf("Meeting %d told %d times, want once", i, n)
			}
		}
		want := fmt.Sprintf("Moved: “Meeting %d”, now %s %d December 2026, 12:00–12:30 CET", i, day.Weekday(), day.Day())
		if !strings.Contains(m.Text, want) || !strings.Contains(m.Text, "09:00 → 12:00 CET") {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"manage your notifications: https://notifyd.example.org/preferences/tok", "unsubscribe with one click"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if !strings.Contains(m.HTML, `href="https://notifyd.example.org/preferences/tok"`) {
		t.Errorf("HTML lacks the preferences link")
	}
	if len(sink.Messages(t)) != 1 {
		t.Errorf("%d messages, want 1", len(sink.Messages(t)))
	}
}
