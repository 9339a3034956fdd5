package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

var (
	paris, _    = time.LoadLocation("Europe/Paris")
	newYork, _  = time.LoadLocation("America/New_York")
	auckland, _ = time.LoadLocation("Pacific/Auckland")
)

func newTestRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// input returns a RenderInput for n with the usual test values.
func input(n *notifyd.Notification) RenderInput {
	return RenderInput{
		Notification:    n,
		System:          "localBedework",
		Principal:       "/dav/principals/user/wilma/",
		Recipient:       "wilma@example.org",
		Locale:          "en",
		TimeZone:        paris,
		UnsubscribeURL:  "https://notifyd.example.org/unsubscribe/tok123",
		MessageIDDomain: "notifyd.example.org",
		DeliveryID:      "0190f3c2-7d4e-7b1a-9c1e-2f3a4b5c6d7e",
	}
}

func render(t *testing.T, r *Renderer, in RenderInput) *Message {
	t.Helper()
	m, err := r.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func lacks(t *testing.T, what, s string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			t.Errorf("%s contains %q:\n%s", what, w, s)
		}
	}
}

var workEvent = &notifyd.Event{
	Href:     "/dav/calendars/user/fred/Work/standup.ics",
	Summary:  "Stand-up",
	Location: "Room 4",
	Start:    time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC),
	End:      time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC),
}

func TestRenderShareInviteNames(t *testing.T) {
	r := newTestRenderer(t)
	cal := notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Fred's work"}
	for _, tc := range []struct {
		name     string
		from     notifyd.Person
		cal      notifyd.Collection
		calName  string
		access   string
		status   string
		want     string
		wantText string
	}{
		{"common name and engine's calendar name", notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred Flintstone"}, cal, "Work", "read-write", "",
			"Fred Flintstone shared the calendar “Work” with you (read-write)", "Fred Flintstone <fred@example.org> shared the calendar “Work” with you, with read-write access. You can see and change its events."},
		{"mailto address, notification's display name", notifyd.Person{Href: "mailto:fred@example.org"}, cal, "", "read", "",
			"fred@example.org shared the calendar “Fred's work” with you (read-only)", "You can see its events."},
		{"principal segment, href segment", notifyd.Person{Href: "/dav/principals/user/fred/"}, notifyd.Collection{Href: "/dav/calendars/user/fred/Team%20Work/"}, "", "admin", "",
			"fred shared the calendar “Team Work” with you (admin)", "manage who it is shared with"},
		{"nobody known", notifyd.Person{}, notifyd.Collection{}, "", "", "",
			"Someone shared a calendar with you", "Someone shared a calendar with you."},
		{"share withdrawn", notifyd.Person{CommonName: "Fred"}, cal, "Work", "read", "deleted",
			"Fred stopped sharing the calendar “Work” with you", "Fred stopped sharing the calendar “Work” with you."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input(&notifyd.Notification{Type: notifyd.TypeShareInvite, From: tc.from, Calendar: tc.cal, Access: tc.access, Status: tc.status})
			in.CalendarName = tc.calName
			m := render(t, r, in)
			if m.Subject != tc.want {
				t.Errorf("subject\n got %q\nwant %q", m.Subject, tc.want)
			}
			contains(t, "text", m.Text, tc.wantText)
		})
	}
}

func TestRenderShareReply(t *testing.T) {
	r := newTestRenderer(t)
	for status, want := range map[string]string{
		"accepted":   "Wilma accepted your invitation to “Work”",
		"declined":   "Wilma declined your invitation to “Work”",
		"noresponse": "Wilma replied to your invitation to “Work”",
	} {
		n := &notifyd.Notification{Type: notifyd.TypeShareReply, From: notifyd.Person{Href: "/dav/principals/user/wilma/", CommonName: "Wilma"},
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"}, Status: status, Summary: "Thanks!"}
		m := render(t, r, input(n))
		if m.Subject != want {
			t.Errorf("%s: subject %q, want %q", status, m.Subject, want)
		}
		contains(t, "text", m.Text, "Their message: “Thanks!”")
	}
}

func TestRenderResourceChangeTimes(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{
		Type:     notifyd.TypeResourceChange,
		From:     notifyd.Person{CommonName: "Fred"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
		Event:    workEvent,
		Changes:  []notifyd.Change{{Kind: "updated", Href: workEvent.Href, Properties: []string{"DTSTART", "LOCATION"}}},
	}
	for _, tc := range []struct {
		locale string
		tz     *time.Location
		subj   string
		when   string
	}{
		{"en", paris, "Fred changed “Stand-up” in “Work”", "Tuesday 1 December 2026, 16:00–16:30 CET"},
		{"en-GB", time.UTC, "Fred changed “Stand-up” in “Work”", "Tuesday 1 December 2026, 15:00–15:30 UTC"},
		{"en-US", newYork, "Fred changed “Stand-up” in “Work”", "Tuesday, December 1, 2026, 10:00 AM–10:30 AM EST"},
		{"fr-FR", paris, "Fred a modifié « Stand-up » dans « Work »", "mardi 1er décembre 2026, de 16:00 à 16:30 (CET)"},
		{"en", auckland, "Fred changed “Stand-up” in “Work”", "Wednesday 2 December 2026, 04:00–04:30 NZDT"},
	} {
		in := input(n)
		in.Locale, in.TimeZone = tc.locale, tc.tz
		m := render(t, r, in)
		if m.Subject != tc.subj {
			t.Errorf("%s: subject %q, want %q", tc.locale, m.Subject, tc.subj)
		}
		contains(t, tc.locale+" text", m.Text, tc.when)
		contains(t, tc.locale+" html", m.HTML, tc.when)
	}
	in := input(n)
	m := render(t, r, in)
	contains(t, "text", m.Text, "Changed: Stand-up (start time, location)", "Room 4", "Changed by Fred.")

	// Several changes by several people.
	n2 := *n
	n2.From = notifyd.Person{}
	n2.Changes = []notifyd.Change{
		{Kind: "updated", Href: workEvent.Href, By: notifyd.Person{CommonName: "Fred"}},
		{Kind: "created", Summary: "Lunch", By: notifyd.Person{Href: "mailto:barney@example.org"}},
		{Kind: "deleted", Summary: "Old meeting"},
	}
	m = render(t, r, input(&n2))
	if want := "3 changes in “Work”"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	contains(t, "text", m.Text, "- Changed: Stand-up, by Fred", "16:00–16:30 CET", "- Added: Lunch, by barney@example.org", "- Removed: Old meeting")
	// One person, several changes.
	n2.Changes[1].By, n2.Changes[2].By = n2.Changes[0].By, n2.Changes[0].By
	m = render(t, r, input(&n2))
	if want := "Fred made 3 changes in “Work”"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
}

func TestRenderAllDayKeepsItsDate(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeEventRegCancelled, Event: &notifyd.Event{
		Summary: "Fair", AllDay: true,
		Start: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 26, 0, 0, 0, 0, time.UTC),
	}}
	for _, tz := range []*time.Location{newYork, auckland} {
		in := input(n)
		in.TimeZone = tz
		m := render(t, r, in)
		if want := "Cancelled: “Fair”, Thursday 24 December 2026 – Friday 25 December 2026"; m.Subject != want {
			t.Errorf("%s: subject %q, want %q", tz, m.Subject, want)
		}
	}
}

func TestRenderEveryType(t *testing.T) {
	r := newTestRenderer(t)
	fred := notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"}
	pub := notifyd.Collection{DisplayName: "Public events"}
	for _, tc := range []struct {
		n        notifyd.Notification
		subject  string
		inText   []string
		wantType string // template file expected ("" = own)
	}{
		{notifyd.Notification{Type: notifyd.TypeSystemStatus, Status: "high", Summary: "Maintenance on Saturday from 10:00"},
			"Calendar service notice: Maintenance on Saturday from 10:00", []string{"Your calendar service has a notice for you (localBedework)", "Status: high"}, ""},
		{notifyd.Notification{Type: notifyd.TypeQuotaStatus, Status: "95% of your storage is used"},
			"Your calendar storage: 95% of your storage is used", []string{"storage space of your calendar account “wilma”", "95% of your storage is used"}, ""},
		{notifyd.Notification{Type: notifyd.TypeEventRegRegistered, Event: workEvent, Fields: map[string]string{"numTickets": "2"}},
			"You are registered for “Stand-up”, Tuesday 1 December 2026, 16:00–16:30 CET", []string{"When:  Tuesday 1 December 2026, 16:00–16:30 CET", "Num tickets: 2"}, ""},
		{notifyd.Notification{Type: notifyd.TypeEventRegCancelled, Event: workEvent},
			"Cancelled: “Stand-up”, Tuesday 1 December 2026, 16:00–16:30 CET", []string{"“Stand-up”, which you registered for, has been cancelled."}, ""},
		{notifyd.Notification{Type: notifyd.TypeSuggest, From: fred, Calendar: pub, Event: workEvent, Summary: "Worth listing"},
			"Fred suggested “Stand-up” for “Public events”", []string{"Fred <fred@example.org> suggested", "Their message: “Worth listing”"}, ""},
		{notifyd.Notification{Type: notifyd.TypeSuggestReply, From: fred, Calendar: pub, Event: workEvent, Status: "rejected"},
			"Your suggestion “Stand-up” was declined for “Public events”", []string{"was declined for the calendar “Public events” by Fred."}, ""},
		{notifyd.Notification{Type: notifyd.TypeAwaitingApproval, From: fred, Calendar: pub, Event: workEvent},
			"“Stand-up” is awaiting your approval for “Public events”", []string{"Fred <fred@example.org> submitted “Stand-up” to the calendar “Public events”. It waits for your approval."}, ""},
		{notifyd.Notification{Type: notifyd.TypeApprovalResponse, Calendar: pub, Event: workEvent, Status: "approved"},
			"“Stand-up” was approved for “Public events”", []string{"It is now published."}, ""},
		{notifyd.Notification{Type: notifyd.TypeApprovalResponse, Event: workEvent, Status: "rejected", Summary: "Duplicate"},
			"“Stand-up” was not approved", []string{"Their message: “Duplicate”"}, ""},
		{notifyd.Notification{Type: notifyd.TypeReminder, Event: workEvent},
			"Reminder: “Stand-up”, Tuesday 1 December 2026, 16:00–16:30 CET", []string{"Where: Room 4"}, ""},
		{update(notifyd.TypeEventCreated), "New event: “Stand-up”, Tuesday 1 December 2026, 16:00–16:30 CET",
			[]string{"A new event was added to the calendar “Work” by Fred.", "  Where: Room 4"}, ""},
		{update(notifyd.TypeEventModified), "New time: “Stand-up”, now Tuesday 1 December 2026, 16:00–16:30 CET",
			[]string{"Start: Tuesday 1 December 2026, 15:00 → 16:00 CET"}, ""},
		{update(notifyd.TypeEventDeleted), "Deleted: “Stand-up”, Tuesday 1 December 2026, 16:00–16:30 CET",
			[]string{"The event “Stand-up” was deleted from the calendar “Work” by Fred."}, ""},
		{update(notifyd.TypeTodoCreated), "New task: “Stand-up”", []string{"A new task was added to the calendar “Work” by Fred."}, ""},
		{update(notifyd.TypeTodoModified), "New start: “Stand-up”, now Tuesday 1 December 2026, 16:00 CET", []string{"Start: Tuesday 1 December 2026, 15:00 → 16:00 CET"}, ""},
		{update(notifyd.TypeTodoDeleted), "Task deleted: “Stand-up”", []string{"The task “Stand-up” was deleted from the calendar “Work” by Fred."}, ""},
		{update(notifyd.TypeCalendarCreated), "New calendar: “Work”", []string{"A new calendar, “Work”, was created by Fred."}, ""},
		{update(notifyd.TypeCalendarModified), "Calendar changed: “Work” (start)", []string{"The calendar “Work” was changed by Fred:"}, ""},
		{update(notifyd.TypeCalendarDeleted), "Calendar deleted: “Work”", []string{"The calendar “Work” was deleted by Fred."}, ""},
		{notifyd.Notification{Type: notifyd.TypeOther, Element: "{urn:x}thing", Fields: map[string]string{"max-size": "10 MB", "colour": "blue"}},
			"New calendar notification", []string{"Details:\n  Colour: blue\n  Max size: 10 MB\n"}, message.Generic},
		{notifyd.Notification{Type: "brand-new-type", Summary: "Something new"},
			"New calendar notification: Something new", []string{"  Something new"}, message.Generic},
	} {
		t.Run(string(tc.n.Type), func(t *testing.T) {
			m := render(t, r, input(&tc.n))
			if m.Subject != tc.subject {
				t.Errorf("subject\n got %q\nwant %q", m.Subject, tc.subject)
			}
			contains(t, "text", m.Text, tc.inText...)
			contains(t, "html", m.HTML, "<!DOCTYPE html>", "</html>")
		})
	}
}

// update is a calendar update of type typ about workEvent in "Work" by
// Fred, whose start moved an hour later when it is a modification.
func update(typ notifyd.NotificationType) notifyd.Notification {
	return notifyd.Notification{Type: typ, Calendar: notifyd.Collection{DisplayName: "Work"}, Event: workEvent,
		Update: &notifyd.Update{By: notifyd.Person{CommonName: "Fred"},
			Fields: []notifyd.FieldChange{{Field: notifyd.FieldStart, FromTime: workEvent.Start.Add(-time.Hour), ToTime: workEvent.Start}}}}
}

func TestRenderHTMLEscapes(t *testing.T) {
	r := newTestRenderer(t)
	hostile := `<script>alert("x")</script> & "quotes" 'single'`
	n := &notifyd.Notification{
		Type:     notifyd.TypeSuggest,
		From:     notifyd.Person{CommonName: `<img src="https://evil.example/p.png">`},
		Calendar: notifyd.Collection{DisplayName: `Work"><b>`},
		Event:    &notifyd.Event{Summary: hostile, Location: "<i>Room</i>", Start: workEvent.Start},
		Summary:  hostile,
		Fields:   map[string]string{"x": "<u>y</u>"},
	}
	in := input(n)
	in.UnsubscribeURL = `https://notifyd.example.org/u?a=1&b=%22x%22`
	m := render(t, r, in)
	lacks(t, "html", m.HTML, "<script", "<img", "<i>", "<u>", `"quotes"`, `Work"><b>`, "evil.example/p.png\"", "&b=")
	contains(t, "html", m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;single&#39;",
		"&lt;img src=&#34;https://evil.example/p.png&#34;&gt;", `href="https://notifyd.example.org/u?a=1&amp;b=%22x%22"`)
	// The text part is plain text: values as they are.
	contains(t, "text", m.Text, hostile)
	// The subject is one line of plain text too.
	contains(t, "subject", m.Subject, "suggested “"+hostile+"”")
}

func TestRenderNoRemoteContent(t *testing.T) {
	r := newTestRenderer(t)
	for _, typ := range notifyd.NotificationTypes {
		n := &notifyd.Notification{Type: typ, From: notifyd.Person{CommonName: "Fred"}, Event: workEvent, Summary: "s", Status: "accepted",
			Changes: []notifyd.Change{{Kind: "updated"}}, Fields: map[string]string{"a": "b"}}
		for _, locale := range []string{"en", "fr"} {
			in := input(n)
			in.Locale = locale
			m := render(t, r, in)
			lacks(t, string(typ)+" html", m.HTML, "<img", "src=", "<link", "<script", "url(", "@import")
			// The only link is the unsubscribe one.
			if c := strings.Count(m.HTML, "href="); c != 1 {
				t.Errorf("%s/%s: %d links, want 1 (unsubscribe)", locale, typ, c)
			}
			contains(t, string(typ)+" text", m.Text, "\n-- \n", "wilma@example.org", in.UnsubscribeURL)
		}
	}
}

func TestRenderFooter(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}}
	in := input(n)
	m := render(t, r, in)
	contains(t, "text", m.Text, "You receive this email because notifications from your calendar account “wilma” (localBedework) are sent to wilma@example.org.",
		"unsubscribe with one click: https://notifyd.example.org/unsubscribe/tok123")
	contains(t, "html", m.HTML, `<a href="https://notifyd.example.org/unsubscribe/tok123"`)
	in.UnsubscribeURL = ""
	m = render(t, r, in)
	lacks(t, "text", m.Text, "unsubscribe")
	lacks(t, "html", m.HTML, "Unsubscribe", "href=")
	if _, ok := m.Headers["List-Unsubscribe"]; ok {
		t.Error("List-Unsubscribe without an unsubscribe URL")
	}
}

func TestRenderHeaders(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeShareInvite}
	in := input(n)
	m := render(t, r, in)
	want := map[string]string{
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
		"List-Unsubscribe":         "<https://notifyd.example.org/unsubscribe/tok123>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
	}
	for k, v := range want {
		if m.Headers[k] != v {
			t.Errorf("%s: %q, want %q", k, m.Headers[k], v)
		}
	}
	if len(m.Headers) != len(want) {
		t.Errorf("headers %v, want %v", m.Headers, want)
	}
	if want := "<notifyd.0190f3c2-7d4e-7b1a-9c1e-2f3a4b5c6d7e@notifyd.example.org>"; m.MessageID != want {
		t.Errorf("Message-ID %q, want %q", m.MessageID, want)
	}
	if m.To != "wilma@example.org" {
		t.Errorf("To %q", m.To)
	}
	// Deterministic: the same delivery renders the same Message-ID.
	if again := render(t, r, in); again.MessageID != m.MessageID {
		t.Errorf("Message-ID changed: %q then %q", m.MessageID, again.MessageID)
	}
	in.MessageIDDomain = ""
	if m := render(t, r, in); m.MessageID != "<notifyd.0190f3c2-7d4e-7b1a-9c1e-2f3a4b5c6d7e>" {
		t.Errorf("Message-ID without domain %q", m.MessageID)
	}
	in.DeliveryID = ""
	if m := render(t, r, in); m.MessageID != "" {
		t.Errorf("Message-ID without delivery ID %q", m.MessageID)
	}
}

func TestRenderRefusesHeaderInjection(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeShareInvite}
	for name, mutate := range map[string]func(*RenderInput){
		"recipient":         func(in *RenderInput) { in.Recipient = "wilma@example.org\r\nBcc: victim@example.net" },
		"recipient LF":      func(in *RenderInput) { in.Recipient = "wilma@example.org\nBcc: victim@example.net" },
		"unsubscribe URL":   func(in *RenderInput) { in.UnsubscribeURL = "https://x.example/u\r\nBcc: victim@example.net" },
		"delivery ID":       func(in *RenderInput) { in.DeliveryID = "abc\r\nBcc: victim@example.net" },
		"Message-ID domain": func(in *RenderInput) { in.MessageIDDomain = "x.example\nBcc: victim@example.net" },
	} {
		in := input(n)
		mutate(&in)
		if _, err := r.Render(in); !errors.Is(err, errInjection) {
			t.Errorf("%s: err %v, want header injection refused", name, err)
		}
	}
	for name, mutate := range map[string]func(*RenderInput){
		"bad recipient":       func(in *RenderInput) { in.Recipient = "not an address" },
		"no recipient":        func(in *RenderInput) { in.Recipient = "" },
		"javascript URL":      func(in *RenderInput) { in.UnsubscribeURL = "javascript:alert(1)" },
		"URL with a space":    func(in *RenderInput) { in.UnsubscribeURL = "https://x.example/u v" },
		"URL with >":          func(in *RenderInput) { in.UnsubscribeURL = "https://x.example/u>, <mailto:x@y>" },
		"delivery ID with @":  func(in *RenderInput) { in.DeliveryID = "a@b" },
		"Message-ID domain >": func(in *RenderInput) { in.MessageIDDomain = "x.example>" },
		"no notification":     func(in *RenderInput) { in.Notification = nil },
	} {
		in := input(n)
		mutate(&in)
		if _, err := r.Render(in); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}

	// Hostile values in notification fields end up on one line: the
	// subject cannot carry a header.
	n = &notifyd.Notification{Type: notifyd.TypeShareInvite,
		From:     notifyd.Person{CommonName: "Fred\r\nBcc: victim@example.net"},
		Calendar: notifyd.Collection{DisplayName: "Work\u2028X-Evil: 1\u202e"}}
	m := render(t, r, input(n))
	if strings.ContainsAny(m.Subject, "\r\n\u2028\u202e") {
		t.Errorf("subject %q holds a line break or bidi override", m.Subject)
	}
	if want := "Fred Bcc: victim@example.net shared the calendar “Work X-Evil: 1” with you"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}

	// A Message built by hand is checked too.
	bad := &Message{To: "a@example.org", Subject: "hi", Text: "x", Headers: map[string]string{"X-Note": "a\r\nBcc: victim@example.net"}}
	if err := bad.check(); !errors.Is(err, errInjection) {
		t.Errorf("header value: %v", err)
	}
	bad = &Message{To: "a@example.org", Subject: "hi\nBcc: victim@example.net", Text: "x"}
	if err := bad.check(); !errors.Is(err, errInjection) {
		t.Errorf("subject: %v", err)
	}
	for _, h := range []string{"Bcc", "content-type", "X Bad", "X:Bad", ""} {
		bad = &Message{To: "a@example.org", Subject: "hi", Text: "x", Headers: map[string]string{h: "v"}}
		if err := bad.check(); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
}

func TestRenderLocale(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeShareReply, From: notifyd.Person{CommonName: "Wilma"},
		Calendar: notifyd.Collection{DisplayName: "Work"}, Status: "accepted"}
	en := "Wilma accepted your invitation to “Work”"
	fr := "Wilma a accepté votre invitation à « Work »"
	for locale, want := range map[string]string{
		"":        en,
		"en":      en,
		"en-US":   en,
		"de-DE":   en,
		"zz":      en,
		"fr":      fr,
		"fr-CA":   fr,
		"FR_be":   fr,
		"fr-Latn": fr,
	} {
		in := input(n)
		in.Locale = locale
		m := render(t, r, in)
		if m.Subject != want {
			t.Errorf("locale %q: subject %q, want %q", locale, m.Subject, want)
		}
	}
	in := input(n)
	in.Locale = "fr"
	m := render(t, r, in)
	contains(t, "fr html", m.HTML, `<html lang="fr">`, "Se désabonner en un clic")
	contains(t, "fr text", m.Text, "désabonnez-vous en un clic")
}

func TestRendererOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Override only the English share-invite subject: text and html come
	// from generic.tmpl.
	write("en/share-invite.tmpl", `{{define "subject"}}[{{.System}}] Invitation from {{.From}} to {{.Calendar}}
{{end}}`)
	// A new language with its own generic file; shared definitions come
	// from English.
	write("de/generic.tmpl", `{{define "subject"}}Neue Kalenderbenachrichtigung{{end}}
{{define "text"}}Hallo.{{template "footer-text" .}}{{end}}
{{define "html"}}<p>Hallo {{.Recipient}}</p>{{end}}`)
	write("README.txt", "ignored")
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}, Calendar: notifyd.Collection{DisplayName: "Work"}}
	m := render(t, r, input(n))
	if want := "[localBedework] Invitation from Fred to Work"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	contains(t, "text", m.Text, "You have a new notification from your calendar, from Fred in “Work”.")
	// Other types keep the built-in templates.
	m = render(t, r, input(&notifyd.Notification{Type: notifyd.TypeShareReply, From: notifyd.Person{CommonName: "Fred"}, Status: "accepted"}))
	if want := "Fred accepted your invitation to share a calendar"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	in := input(n)
	in.Locale = "de-AT"
	in.Recipient = "a&b@example.org"
	m = render(t, r, in)
	if m.Subject != "Neue Kalenderbenachrichtigung" {
		t.Errorf("de subject %q", m.Subject)
	}
	contains(t, "de text", m.Text, "Hallo.", "You receive this email")
	contains(t, "de html", m.HTML, "<p>Hallo a&amp;b@example.org</p>")

	// Broken overrides are refused when loading.
	for name, files := range map[string]map[string]string{
		"syntax error":      {"en/share-invite.tmpl": `{{define "subject"}}{{.From}{{end}}`},
		"no generic":        {"it/share-invite.tmpl": `{{define "subject"}}x{{end}}`},
		"generic lacks one": {"es/generic.tmpl": `{{define "subject"}}x{{end}}{{define "text"}}y{{end}}`},
	} {
		dir = t.TempDir()
		for f, body := range files {
			write(f, body)
		}
		if _, err := NewRenderer(dir); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := NewRenderer(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing directory: loaded")
	}
}

func TestOneLineAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "plain",
		"  a \t b\r\n c  ":       "a b c",
		"x\u202ey\u200bz\u2028w": "xyz w",
		"nul\x00byte":            "nul byte",
		"bad\xffutf8":            "badutf8",
		"":                       "",
	} {
		if got := message.OneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("word ", 60)
	got := message.Truncate(long, 50)
	if n := len([]rune(got)); n > 50 || !strings.HasSuffix(got, "word…") {
		t.Errorf("truncate: %q (%d runes)", got, n)
	}
	if got := message.Truncate("short", 50); got != "short" {
		t.Errorf("truncate short: %q", got)
	}
	r := newTestRenderer(t)
	m := render(t, r, input(&notifyd.Notification{Type: notifyd.TypeOther, Summary: strings.Repeat("é", 500)}))
	if n := len([]rune(m.Subject)); n > maxSubjectRunes {
		t.Errorf("subject of %d runes", n)
	}
}

func TestRendererRefusesTemplatesThatCannotRun(t *testing.T) {
	for name, body := range map[string]string{
		"branches end in different contexts": `{{define "html"}}{{if .Subject}}<a href="{{end}}x">{{end}}`,
		"undefined template called":          `{{define "text"}}{{template "nowhere" .}}{{end}}`,
		"unknown field":                      `{{define "subject"}}{{.NoSuchField}}{{end}}`,
	} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "en", "share-invite.tmpl"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := NewRenderer(dir); err == nil {
			t.Errorf("%s: loaded", name)
		} else if !strings.Contains(err.Error(), "share-invite") {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
}

func TestRenderConcurrently(t *testing.T) {
	r := newTestRenderer(t)
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func(i int) {
			var err error
			for j := 0; j < 20 && err == nil; j++ {
				typ := notifyd.NotificationTypes[(i+j)%len(notifyd.NotificationTypes)]
				in := input(&notifyd.Notification{Type: typ, Event: workEvent, From: notifyd.Person{CommonName: "Fred"}})
				in.Locale = []string{"en", "fr"}[j%2]
				_, err = r.Render(in)
			}
			done <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
