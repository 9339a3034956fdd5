package sms

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// hugeText is about n bytes of words, in and outside the GSM-7 alphabet.
func hugeText(n int) string {
	const unit = `"Q" & <b>é</b> 😀 l'été `
	return strings.Repeat(unit, n/len(unit))
}

// oversized lists notifications whose texts would be far over any SMS.
func oversized() map[string]*notifyd.Notification {
	changes := &notifyd.Notification{Type: notifyd.TypeResourceChange, Event: &notifyd.Event{Href: "/c/e.ics", Summary: hugeText(1 << 19)}}
	for i := range 3000 {
		changes.Changes = append(changes.Changes, notifyd.Change{Kind: "updated", Href: "/c/e.ics", By: notifyd.Person{CommonName: fmt.Sprint("Person ", i)}})
	}
	return map[string]*notifyd.Notification{
		"1 MB status and sender": {Type: notifyd.TypeOther, Status: hugeText(1 << 20), From: notifyd.Person{CommonName: hugeText(1 << 19)}},
		"1 MB comment":           {Type: notifyd.TypeShareReply, Status: "accepted", Summary: hugeText(1 << 20), From: notifyd.Person{CommonName: hugeText(1 << 19)}},
		"3000 changes":           changes,
	}
}

// TestRenderCapsOversizedNotifications checks that a text stays within
// MaxRenderBytes, valid UTF-8, and that the channel's Shorten then ends it
// with an ellipsis within the segments allowed.
func TestRenderCapsOversizedNotifications(t *testing.T) {
	r := mustRenderer(t)
	for name, n := range oversized() {
		for _, locale := range []string{"en", "fr"} {
			text, err := r.Render(RenderInput{Notification: n, Locale: locale})
			if err != nil {
				t.Fatalf("%s/%s: %v", name, locale, err)
			}
			if len(text) > MaxRenderBytes || !utf8.ValidString(text) {
				t.Errorf("%s/%s: %d bytes (limit %d), valid UTF-8: %v", name, locale, len(text), MaxRenderBytes, utf8.ValidString(text))
			}
			for _, segments := range []int{1, 3, 10} {
				short := Shorten(text, segments)
				if _, n := Segments(short); n > segments || !utf8.ValidString(short) ||
					!(strings.HasSuffix(short, ellipsisGSM) || strings.HasSuffix(short, ellipsisUCS2)) {
					t.Errorf("%s/%s: shortened to %d segments (want %d at most), ending %q", name, locale, n, segments, short[max(len(short)-20, 0):])
				}
			}
		}
	}
}

// TestRenderMarksACutText checks that a text cut at MaxRenderBytes ends
// with an ellipsis even when tidying leaves it short enough to send whole.
func TestRenderMarksACutText(t *testing.T) {
	// A word, then blank lines that tidying takes away, then an end that
	// does not fit.
	r, err := newRenderer(mapFS(map[string]string{"en/generic.tmpl": "Start{{range 100000}}\n{{end}}end"}))
	if err != nil {
		t.Fatal(err)
	}
	text, err := r.Render(RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeOther}})
	if err != nil {
		t.Fatal(err)
	}
	if text != "Start"+ellipsisGSM {
		t.Errorf("text %q", text)
	}
}
