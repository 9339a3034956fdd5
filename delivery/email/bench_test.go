package email

import (
	"testing"

	"github.com/notifyd/notifyd"
)

// BenchmarkRender renders a resource change (three changes, an event) in
// English: subject, text and HTML.
func BenchmarkRender(b *testing.B) {
	r := newTestRenderer(b)
	n := &notifyd.Notification{
		Type:     notifyd.TypeResourceChange,
		From:     notifyd.Person{CommonName: "Fred"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
		Event:    workEvent,
		Changes: []notifyd.Change{
			{Kind: "updated", Href: workEvent.Href, Properties: []string{"DTSTART", "LOCATION"}},
			{Kind: "created", Summary: "Lunch"},
			{Kind: "deleted", Summary: "Old meeting"},
		},
	}
	in := input(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderShareInvite renders the most common, short message.
func BenchmarkRenderShareInvite(b *testing.B) {
	r := newTestRenderer(b)
	in := input(&notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
		Access:   "read-write",
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRenderer loads and parses every built-in template.
func BenchmarkNewRenderer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRenderer(""); err != nil {
			b.Fatal(err)
		}
	}
}
