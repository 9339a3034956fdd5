package sms_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/sms"
)

// The token of the preference link is a credential: the test looks for
// it in the logs.
const (
	linkToken = "AQAAAAAAAAAqZ2Fyc2UtdGVzdC1zdWItMDAwMDAwMDFhYmNkZWZnaGlq"
	link      = "https://cal.example/preferences/" + linkToken
)

// A text sent with the preference link ends with it, in the recipient's
// language, single or digest; one that has no room for it in
// max_segments is sent without, and the debug log says so without the
// link.
func TestSendPreferencesLink(t *testing.T) {
	f := newFakeTwilio(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ch, err := sms.NewChannel(twilioConfig(f.srv.URL), callback, sms.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	last := func() string {
		reqs := f.requests()
		return reqs[len(reqs)-1].form.Get("Body")
	}

	req := request()
	req.Locale, req.PreferencesURL = "fr", link
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if body := last(); !strings.HasSuffix(body, "\nGérer les alertes : "+link) || !strings.HasPrefix(body, "Fred a partagé") {
		t.Errorf("single: %q", body)
	}

	req = request()
	req.PreferencesURL, req.Notification = link, nil
	req.Digest = &delivery.Digest{Items: []delivery.DigestItem{{DeliveryID: "d1", Notification: &notifyd.Notification{Type: notifyd.TypeEventDeleted,
		Calendar: notifyd.Collection{Href: "/cal/work/", DisplayName: "Work"},
		Event:    &notifyd.Event{UID: "retro", Summary: "Retro", Start: time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC)},
		Update:   &notifyd.Update{Component: "event", Action: "deleted", UID: "retro"}}}}}
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if body, want := last(), `1 update in "Work": Deleted: "Retro", Wed 9 Dec 2026 09:00 UTC`+"\nManage alerts: "+link; body != want {
		t.Errorf("digest: %q\nwant %q", body, want)
	}
	if logs.Len() != 0 {
		t.Errorf("logged: %s", logs.String())
	}

	// Three segments hold a list of 40 changes only once cut at its
	// end: the link goes, the list is cut as ever.
	req = request()
	req.PreferencesURL = link
	req.Notification = &notifyd.Notification{Type: notifyd.TypeResourceChange}
	for range 40 {
		req.Notification.Changes = append(req.Notification.Changes, notifyd.Change{Kind: "updated", Summary: "Weekly meeting"})
	}
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if body := last(); strings.Contains(body, "preferences") || !strings.HasSuffix(body, "...") {
		t.Errorf("left out: %q", body)
	}
	if l := logs.String(); !strings.Contains(l, "preference link is left out") || !strings.Contains(l, "delivery_id=d1") ||
		strings.Contains(l, linkToken) || strings.Contains(l, "preferences/") {
		t.Errorf("log: %s", l)
	}
}
