package im

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

var newYork, _ = time.LoadLocation("America/New_York")

func newTestRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var standup = &notifyd.Event{
	Href:     "/dav/calendars/user/fred/Work/standup.ics",
	Summary:  "Stand-up",
	Location: "Room 4",
	Start:    time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC),
	End:      time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC),
}

func input(n *notifyd.Notification, locale string) RenderInput {
	return RenderInput{
		Notification: n, System: "cal", Principal: "/dav/principals/user/wilma/", Recipient: "wilma@example.org",
		Locale: locale, TimeZone: paris, DeliveryID: "d1", Now: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
	}
}

func renderBody(t *testing.T, r *Renderer, n *notifyd.Notification, locale string) *Message {
	t.Helper()
	m, err := r.Render(input(n, locale))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRenderReminder(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: standup, Calendar: notifyd.Collection{DisplayName: "Work"}}
	for locale, want := range map[string]string{
		"en":    "Reminder: “Stand-up” in “Work”\nWhen: Tuesday 1 December 2026, 16:00–16:30 CET\nWhere: Room 4",
		"en-US": "Reminder: “Stand-up” in “Work”\nWhen: Tuesday, December 1, 2026, 4:00 PM–4:30 PM CET\nWhere: Room 4",
		"fr":    "Rappel : « Stand-up » dans « Work »\nQuand : mardi 1er décembre 2026, de 16:00 à 16:30 (CET)\nOù : Room 4",
		"fr-CA": "Rappel : « Stand-up » dans « Work »\nQuand : mardi 1er décembre 2026, de 16:00 à 16:30 (CET)\nOù : Room 4",
		"de":    "Reminder: “Stand-up” in “Work”\nWhen: Tuesday 1 December 2026, 16:00–16:30 CET\nWhere: Room 4",
	} {
		m := renderBody(t, r, n, locale)
		if m.Body != want {
			t.Errorf("%s:\n%s\nwant:\n%s", locale, m.Body, want)
		}
		wantLang := "en"
		if strings.HasPrefix(locale, "fr") {
			wantLang = "fr"
		}
		if m.Lang != wantLang || m.ID != "notifyd-d1" || m.To != "wilma@example.org" {
			t.Errorf("%s: %+v", locale, m)
		}
	}
	m := renderBody(t, r, n, "en")
	want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd//notifyd instant messages//EN\r\nBEGIN:VEVENT\r\n" +
		"UID:standup\r\nDTSTAMP:20261130T080000Z\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T153000Z\r\n" +
		"SUMMARY:Stand-up\r\nLOCATION:Room 4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if m.Calendar != want {
		t.Errorf("calendar:\n%q\nwant\n%q", m.Calendar, want)
	}
	// The time zone is the recipient's.
	in := input(n, "en")
	in.TimeZone = newYork
	if m, _ := r.Render(in); !strings.Contains(m.Body, "10:00–10:30 EST") || !strings.Contains(m.Calendar, "DTSTART:20261201T150000Z") {
		t.Errorf("New York:\n%s\n%s", m.Body, m.Calendar)
	}
}

func TestRenderCalendarDetails(t *testing.T) {
	r := newTestRenderer(t)
	t.Run("all day, with UID and DTSTAMP from the notification", func(t *testing.T) {
		n := &notifyd.Notification{Type: notifyd.TypeEventRegRegistered, DTStamp: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
			Event: &notifyd.Event{UID: "conf-2026", Summary: "Conference", AllDay: true,
				Start: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}}
		m := renderBody(t, r, n, "en")
		for _, want := range []string{"UID:conf-2026\r\n", "DTSTAMP:20261102T090000Z\r\n", "DTSTART;VALUE=DATE:20261203\r\n", "DTEND;VALUE=DATE:20261205\r\n"} {
			if !strings.Contains(m.Calendar, want) {
				t.Errorf("lacks %q:\n%s", want, m.Calendar)
			}
		}
		if !strings.Contains(m.Body, "Thursday 3 December 2026 – Friday 4 December 2026") {
			t.Errorf("body:\n%s", m.Body)
		}
	})
	t.Run("escaping and folding", func(t *testing.T) {
		long := "Budget review; Q1, Q2 \\ Q3 — " + strings.Repeat("très long titre ", 8)
		n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: long, Start: standup.Start}}
		m := renderBody(t, r, n, "en")
		for _, l := range strings.Split(strings.TrimSuffix(m.Calendar, "\r\n"), "\r\n") {
			if len(l) > 75 || !utf8.ValidString(l) {
				t.Errorf("line of %d octets (or cut inside a character): %q", len(l), l)
			}
		}
		unfolded := strings.ReplaceAll(m.Calendar, "\r\n ", "")
		if !strings.Contains(unfolded, "SUMMARY:Budget review\\; Q1\\, Q2 \\\\ Q3 — très long titre") {
			t.Errorf("summary not escaped:\n%s", unfolded)
		}
		if strings.Contains(m.Calendar, "DTEND") || strings.Contains(m.Calendar, "LOCATION") {
			t.Errorf("empty properties written:\n%s", m.Calendar)
		}
	})
	t.Run("deleted event is cancelled", func(t *testing.T) {
		n := &notifyd.Notification{Type: notifyd.TypeResourceChange, Event: standup,
			Changes: []notifyd.Change{{Kind: "deleted", Href: standup.Href, By: notifyd.Person{CommonName: "Fred"}}}}
		m := renderBody(t, r, n, "en")
		if !strings.Contains(m.Calendar, "STATUS:CANCELLED\r\n") || !strings.HasPrefix(m.Body, "Fred removed “Stand-up”.") {
			t.Errorf("%s\n%s", m.Body, m.Calendar)
		}
		n.Changes[0].Kind = "updated"
		if m := renderBody(t, r, n, "en"); strings.Contains(m.Calendar, "CANCELLED") {
			t.Errorf("updated event cancelled:\n%s", m.Calendar)
		}
	})
	t.Run("no event, or no start: no calendar", func(t *testing.T) {
		for _, n := range []*notifyd.Notification{
			{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}},
			{Type: notifyd.TypeReminder, Summary: "Call the bank"},
			{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Undated"}},
		} {
			if m := renderBody(t, r, n, "fr"); m.Calendar != "" {
				t.Errorf("%s: calendar %q", n.Type, m.Calendar)
			}
		}
	})
}

func TestRenderEveryType(t *testing.T) {
	r := newTestRenderer(t)
	for _, typ := range notifyd.NotificationTypes {
		for _, lang := range []string{"en", "fr"} {
			in := sampleInput
			n := *sampleInput.Notification
			n.Type = typ
			// A calendar update's sample carries its Update.
			if s := message.Sample(typ); s.Update != nil {
				n.Update, n.Event, n.DTStamp = s.Update, s.Event, s.DTStamp
			}
			in.Notification, in.Locale = &n, lang
			m, err := r.Render(in)
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, typ, err)
			}
			if m.Body == "" || strings.Contains(m.Body, "<no value>") || strings.Contains(m.Body, "{{") || m.Lang != lang {
				t.Errorf("%s/%s: %+v", lang, typ, m)
			}
			if lines := strings.Count(m.Body, "\n") + 1; lines > 8 {
				t.Errorf("%s/%s: %d lines is not a pop-up:\n%s", lang, typ, lines, m.Body)
			}
			// A calendar's creation, change or deletion concerns no event.
			if calendarUpdate := strings.HasPrefix(string(typ), "calendar-"); calendarUpdate != (m.Calendar == "") {
				t.Errorf("%s/%s: calendar object %q", lang, typ, m.Calendar)
			} else if !calendarUpdate && !strings.HasPrefix(m.Calendar, "BEGIN:VCALENDAR\r\n") {
				t.Errorf("%s/%s: the sample event has no calendar object", lang, typ)
			}
			if lang == "fr" && m.Body == renderBody(t, r, &n, "en").Body {
				t.Errorf("%s: French body is the English one", typ)
			}
		}
	}
}

func TestRenderTypes(t *testing.T) {
	r := newTestRenderer(t)
	fred := notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"}
	work := notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Work"}
	for _, tc := range []struct {
		n      notifyd.Notification
		locale string
		want   string
	}{
		{notifyd.Notification{Type: notifyd.TypeShareInvite, From: fred, Calendar: work, Access: "read", Summary: "For the team"}, "en",
			"Fred shared the calendar “Work” with you (read-only).\n“For the team”\nOpen your calendar app to accept or decline."},
		{notifyd.Notification{Type: notifyd.TypeShareInvite, From: fred, Calendar: work, Status: "deleted"}, "fr",
			"Fred a cessé de partager le calendrier « Work » avec vous."},
		{notifyd.Notification{Type: notifyd.TypeShareReply, From: fred, Calendar: work, Status: "declined"}, "en",
			"Fred declined your invitation to share the calendar “Work”."},
		{notifyd.Notification{Type: notifyd.TypeResourceChange, Calendar: work, Changes: []notifyd.Change{
			{Kind: "created", Summary: "A", By: fred}, {Kind: "deleted", Summary: "B", By: fred}}}, "en",
			"Fred made 2 changes in “Work”:\n- added: “A”\n- removed: “B”"},
		{notifyd.Notification{Type: notifyd.TypeResourceChange, Calendar: work, Event: standup, Changes: []notifyd.Change{
			{Kind: "updated", Properties: []string{"DTSTART", "LOCATION"}}}}, "fr",
			"« Stand-up » a été modifié dans « Work ».\nModifié : heure de début, lieu\nQuand : mardi 1er décembre 2026, de 16:00 à 16:30 (CET)\nOù : Room 4"},
		{notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance tonight"}, "en",
			"Calendar service notice (cal): Maintenance tonight"},
		{notifyd.Notification{Type: notifyd.TypeQuotaStatus, Status: "95% used"}, "fr",
			"Stockage de votre calendrier : 95% used"},
		{notifyd.Notification{Type: notifyd.TypeEventRegCancelled, Event: &notifyd.Event{Summary: "Gala"}}, "en",
			"Cancelled: “Gala”, which you registered for."},
		{notifyd.Notification{Type: notifyd.TypeSuggest, From: fred, Calendar: work, Event: &notifyd.Event{Summary: "Lunch"}}, "en",
			"Fred suggested “Lunch” for “Work”.\nOpen your calendar app to accept or decline."},
		{notifyd.Notification{Type: notifyd.TypeApprovalResponse, From: fred, Status: "approved", Event: &notifyd.Event{Summary: "Fair"}}, "fr",
			"Votre événement « Fair » a été approuvé par Fred."},
		{notifyd.Notification{Type: notifyd.TypeOther, Summary: "Something\u202e odd\nhappened", Fields: map[string]string{"numTickets": "3"}}, "en",
			"New calendar notification: Something odd happened\nNum tickets: 3"},
	} {
		if m := renderBody(t, r, &tc.n, tc.locale); m.Body != tc.want {
			t.Errorf("%s/%s:\n%s\nwant:\n%s", tc.locale, tc.n.Type, m.Body, tc.want)
		}
	}
}

func TestRenderLimits(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeOther, Fields: map[string]string{}}
	for i := 0; i < 100; i++ {
		n.Fields[strings.Repeat("f", i+1)] = strings.Repeat("value ", 10)
	}
	m := renderBody(t, r, n, "en")
	if c := utf8.RuneCountInString(m.Body); c > maxBodyRunes || !strings.HasSuffix(m.Body, "…\n"+message.ShortenedNote("en", message.TextSize(n), "")) {
		t.Errorf("body of %d characters, ending %q", c, m.Body[len(m.Body)-100:])
	}
	if _, err := r.Render(RenderInput{Recipient: "wilma@example.org"}); err == nil {
		t.Error("no notification: no error")
	}
	if _, err := r.Render(RenderInput{Notification: n, Recipient: "wilma"}); err == nil {
		t.Error("bad JID: no error")
	}
	in := input(n, "en")
	in.DeliveryID = ""
	a, _ := r.Render(in)
	b, _ := r.Render(in)
	if a.ID == b.ID || !strings.HasPrefix(a.ID, "notifyd-") {
		t.Errorf("random IDs %q %q", a.ID, b.ID)
	}
}

// The stanza carries any text safely, and a client reads back the body
// and the calendar object.
func TestMessageStanza(t *testing.T) {
	r := newTestRenderer(t)
	n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: `<b>"Tom" & 'Jerry'</b>` + "\x01", Start: standup.Start},
		Calendar: notifyd.Collection{DisplayName: "]]>"}}
	m := renderBody(t, r, n, "fr")
	raw := messageStanza(m, "no-store")
	var st stanza
	if err := xml.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if st.Body != m.Body || st.Calendar.Text != m.Calendar || st.Calendar.Type != "text/calendar" || st.Lang != "fr" ||
		st.Type != "chat" || st.To != "wilma@example.org" || st.NoStore == nil {
		t.Errorf("read back %+v\nfrom %s", st, raw)
	}
	if !strings.Contains(st.Body, `« <b>"Tom" & 'Jerry'</b> »`) {
		t.Errorf("body %q", st.Body)
	}
	if s := messageStanza(&Message{To: "a@b", ID: "x", Body: "hi"}, ""); s != "<message type='chat' to='a@b' id='x'><body>hi</body></message>" {
		t.Errorf("minimal stanza %s", s)
	}
}

func TestParseJID(t *testing.T) {
	for in, want := range map[string]string{
		"wilma@example.org":          "wilma@example.org",
		" wilma@example.org ":        "wilma@example.org",
		"wilma@example.org/laptop 2": "",
		"wilma@example.org/laptop":   "wilma@example.org",
		"":                           "",
		"wilma":                      "",
		"@example.org":               "",
		"wilma@":                     "",
		"a@b@c":                      "",
		"wil<ma@example.org":         "",
	} {
		bare, _, err := parseJID(in)
		if (err == nil) != (want != "") || bare != want {
			t.Errorf("parseJID(%q) = %q, %v; want %q", in, bare, err, want)
		}
	}
	if bareKey("Wilma@Example.ORG/Phone") != "wilma@example.org" || domainOf("wilma@example.org/x") != "example.org" {
		t.Error("bareKey or domainOf")
	}
}

func TestParseRoster(t *testing.T) {
	// As go-xmpp hands a roster result over: the query re-marshalled,
	// with its xmlns twice.
	items, ok, err := parseRoster([]byte(`<query xmlns="jabber:iq:roster" xmlns="jabber:iq:roster" ver="3">` +
		`<item jid="wilma@example.org" subscription="both" name="W"><group>x</group></item>` +
		`<item jid="fred@example.org" subscription="none" ask="subscribe"/></query>`))
	if err != nil || !ok || len(items) != 2 || items[0] != (rosterItem{"wilma@example.org", "both", false}) ||
		items[1] != (rosterItem{"fred@example.org", "none", true}) {
		t.Fatalf("%+v %v %v", items, ok, err)
	}
	if _, ok, _ := parseRoster([]byte(`<query xmlns="http://jabber.org/protocol/disco#info"/>`)); ok {
		t.Error("a disco query read as a roster")
	}
}

func TestTidyCalendar(t *testing.T) {
	if s, err := tidyCalendar("\n  \n"); s != "" || err != nil {
		t.Errorf("blank: %q %v", s, err)
	}
	for _, bad := range []string{"BEGIN:VEVENT\nEND:VEVENT", "BEGIN:VCALENDAR\nnonsense\nEND:VCALENDAR"} {
		if _, err := tidyCalendar(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := message.ICalText("a,b;c\\d\ne\x00"); got != `a\,b\;c\\d\ne` {
		t.Errorf("icalText %q", got)
	}
}
