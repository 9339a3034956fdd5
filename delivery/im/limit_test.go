package im

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// hugeText is about n bytes of words that XML escaping expands: quotes,
// ampersands, angle brackets, iCalendar's escaped characters, accented
// letters and emoji.
func hugeText(n int) string {
	const unit = `"Q" & <b>é</b>; 😀, l'été `
	return strings.Repeat(unit, n/len(unit))
}

// oversized lists notifications whose messages would be far over the
// limits.
func oversized() map[string]*notifyd.Notification {
	changes := &notifyd.Notification{Type: notifyd.TypeResourceChange,
		Event: &notifyd.Event{Href: "/c/e.ics", Summary: hugeText(1 << 19), Start: standup.Start}}
	for i := range 3000 {
		changes.Changes = append(changes.Changes, notifyd.Change{Kind: "updated", Href: "/c/e.ics", By: notifyd.Person{CommonName: fmt.Sprint("Person ", i)}})
	}
	fields := map[string]string{}
	for i := range 50 {
		fields[fmt.Sprintf("field%02d", i)] = strings.Repeat(`"`, 1024)
	}
	return map[string]*notifyd.Notification{
		"1 MB event summary and location": {Type: notifyd.TypeReminder, Calendar: notifyd.Collection{DisplayName: "Work"},
			Event: &notifyd.Event{Summary: hugeText(1 << 19), Location: hugeText(1 << 19), Start: standup.Start, End: standup.End}},
		"1 MB comment":        {Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}, Summary: hugeText(1 << 20)},
		"3000 changes":        changes,
		"50 fields of quotes": {Type: notifyd.TypeOther, Status: hugeText(1 << 19), Fields: fields},
	}
}

// TestRenderCapsOversizedNotifications checks that a message, however
// large its notification, has a body of at most maxBodyRunes that ends
// with the shortening note, a valid calendar object when it has one, and
// fits in MaxStanzaBytes as a stanza a client reads back.
func TestRenderCapsOversizedNotifications(t *testing.T) {
	r := newTestRenderer(t)
	for name, n := range oversized() {
		for _, locale := range []string{"en", "fr"} {
			t.Run(name+"/"+locale, func(t *testing.T) {
				m := renderBody(t, r, n, locale)
				note := map[string]string{"en": "(Shortened: the full notification is ", "fr": "(Message raccourci : la notification complète fait "}[locale]
				if c := utf8.RuneCountInString(m.Body); c > maxBodyRunes || !utf8.ValidString(m.Body) || !strings.Contains(m.Body, "\n"+note) {
					t.Errorf("body of %d characters (limit %d), valid UTF-8: %v, ending %q", c, maxBodyRunes, utf8.ValidString(m.Body), m.Body[max(len(m.Body)-200, 0):])
				}
				if n.Event != nil && !n.Event.Start.IsZero() {
					if !strings.HasPrefix(m.Calendar, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(m.Calendar, "END:VCALENDAR\r\n") ||
						len(esc(m.Calendar)) > MaxCalendarBytes || !utf8.ValidString(m.Calendar) {
						t.Errorf("calendar object of %d bytes escaped (limit %d):\n%s", len(esc(m.Calendar)), MaxCalendarBytes, m.Calendar)
					}
				}
				raw := messageStanza(m, hintNoStore)
				if len(raw) > MaxStanzaBytes {
					t.Errorf("stanza of %d bytes, over %d", len(raw), MaxStanzaBytes)
				}
				var st stanza
				if err := xml.Unmarshal([]byte(raw), &st); err != nil {
					t.Fatalf("stanza: %v", err)
				}
				if st.Body != m.Body || st.Calendar.Text != m.Calendar {
					t.Errorf("the stanza does not read back as rendered")
				}
			})
		}
	}
}

// TestRenderShortNotificationHasNoNote checks that only a shortened
// message carries the note.
func TestRenderShortNotificationHasNoNote(t *testing.T) {
	m := renderBody(t, newTestRenderer(t), &notifyd.Notification{Type: notifyd.TypeReminder, Event: standup}, "en")
	if strings.Contains(m.Body, "Shortened") {
		t.Errorf("body %q", m.Body)
	}
}

// TestRenderCalendarWrittenAgainShorter checks that a calendar object over
// MaxCalendarBytes once escaped is written again with fields of
// message.TightFieldRunes characters, and the body says so.
func TestRenderCalendarWrittenAgainShorter(t *testing.T) {
	// 2000 quotes, 10 kB once escaped.
	n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: strings.Repeat(`"`, 3000), Start: standup.Start}}
	m := renderBody(t, newTestRenderer(t), n, "en")
	unfolded := strings.ReplaceAll(m.Calendar, "\r\n ", "")
	if want := "\r\nSUMMARY:" + strings.Repeat(`"`, message.TightFieldRunes-1) + "…\r\n"; !strings.Contains(unfolded, want) {
		t.Errorf("calendar object:\n%s\nwant it to contain %q", m.Calendar, want)
	}
	if !strings.HasSuffix(m.Body, "\n"+message.ShortenedNote("en", message.TextSize(n), "")) {
		t.Errorf("body %q", m.Body)
	}
}
