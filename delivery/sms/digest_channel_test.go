package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// A digest is one text message; one whose changes all cancelled out is
// not sent, and says why.
func TestSendDigest(t *testing.T) {
	f := newFakeTwilio(t)
	ch := newChannel(t, twilioConfig(f.srv.URL))
	cal := notifyd.Collection{Href: "/cal/work/", DisplayName: "Work"}
	update := func(typ notifyd.NotificationType, uid string) delivery.DigestItem {
		_, action, _ := strings.Cut(string(typ), "-")
		return delivery.DigestItem{DeliveryID: uid + string(typ), Notification: &notifyd.Notification{Type: typ, Calendar: cal,
			Event:  &notifyd.Event{UID: uid, Summary: strings.ToUpper(uid[:1]) + uid[1:], Start: time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC)},
			Update: &notifyd.Update{Component: "event", Action: action, UID: uid}}}
	}
	req := request()
	req.Notification = nil
	req.Digest = &delivery.Digest{Items: []delivery.DigestItem{update(notifyd.TypeEventCreated, "draft"),
		update(notifyd.TypeEventDeleted, "retro"), update(notifyd.TypeEventDeleted, "draft")}}
	res, err := ch.Send(context.Background(), req)
	if err != nil || res.ProviderID != testMsgSID {
		t.Fatalf("%+v, %v", res, err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if body := reqs[0].form.Get("Body"); body != `1 update in "Work": Deleted: "Retro", Wed 9 Dec 2026 09:00 UTC` {
		t.Errorf("body %q", body)
	}

	req.Digest.Items = []delivery.DigestItem{update(notifyd.TypeEventCreated, "draft"), update(notifyd.TypeEventDeleted, "draft")}
	res, err = ch.Send(context.Background(), req)
	if err != nil || !strings.Contains(res.Skipped, "every change in the digest was undone") {
		t.Errorf("%+v, %v", res, err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want still 1", n)
	}
}
