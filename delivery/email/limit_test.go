package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient/notification"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/message"
)

// maxWireBytes is what the package documentation promises of a whole
// message once encoded for SMTP.
const maxWireBytes = 512 << 10

// hugeText is about n bytes of words that HTML escaping and
// quoted-printable encoding both expand: quotes, ampersands, angle
// brackets, accented letters and emoji.
func hugeText(n int) string {
	const unit = `"Q" & <b>é</b> 😀 l'été `
	return strings.Repeat(unit, n/len(unit))
}

// amplifiedChange is the notification that produced a 12.5 MB email: a
// resource change whose deleted event's 480 KB summary is repeated for
// each of its changes (each names the same event and has no summary of
// its own), in the text and the HTML part, where each quote becomes
// "&#34;". Its XML is under the 1 MiB limit.
func amplifiedChange(t testing.TB) *notifyd.Notification {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><CS:notification xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">` +
		`<CS:dtstamp>20261121T165114Z</CS:dtstamp><CS:resource-change>` +
		`<CS:deleted><D:href>/c/e.ics</D:href><CS:deleted-details><CS:deleted-summary>` +
		strings.Repeat(`"Q" `, 120000) + `</CS:deleted-summary></CS:deleted-details></CS:deleted>`)
	for range 12 {
		b.WriteString(`<CS:updated><D:href>/c/e.ics</D:href></CS:updated>`)
	}
	b.WriteString(`</CS:resource-change></CS:notification>`)
	if b.Len() > notification.MaxSize {
		t.Fatalf("the XML is %d bytes, over the limit", b.Len())
	}
	n, err := notification.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// oversized lists notifications, all within what the parser accepts,
// whose messages would be far over the limits.
func oversized(t testing.TB) map[string]*notifyd.Notification {
	manyChanges := &notifyd.Notification{Type: notifyd.TypeResourceChange, Calendar: notifyd.Collection{DisplayName: "Imported"}}
	for i := range 3000 {
		manyChanges.Changes = append(manyChanges.Changes, notifyd.Change{Kind: "created", Href: fmt.Sprintf("/c/%d.ics", i),
			Summary: fmt.Sprintf("Imported event number %d", i), By: notifyd.Person{CommonName: "Fred"}})
	}
	fields := map[string]string{}
	for i := range 50 {
		fields[fmt.Sprintf("field%02d", i)] = strings.Repeat(`"`, 1024)
	}
	manyUpdates := &notifyd.Notification{Type: notifyd.TypeEventModified, Calendar: notifyd.Collection{DisplayName: hugeText(1 << 14)},
		Event: &notifyd.Event{Summary: hugeText(1 << 17), Location: hugeText(1 << 16), Start: workEvent.Start, End: workEvent.End},
		Update: &notifyd.Update{UID: strings.Repeat("<", message.MaxIDBytes+1), By: notifyd.Person{CommonName: hugeText(1 << 16)},
			Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: hugeText(1 << 17), To: hugeText(1 << 17)},
				{Field: notifyd.FieldStart, FromTime: workEvent.Start.Add(-time.Hour), ToTime: workEvent.Start}}}}
	for i := range 3000 {
		manyUpdates.Update.Fields = append(manyUpdates.Update.Fields,
			notifyd.FieldChange{Field: fmt.Sprintf("x-field-%d", i), From: strings.Repeat(`"`, 100), To: `<b>"new"</b>`})
	}
	return map[string]*notifyd.Notification{
		"1 MB update of 3000 fields": manyUpdates,
		"1 MB comment": {Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"},
			Calendar: notifyd.Collection{DisplayName: "Work"}, Access: "read", Summary: hugeText(1 << 20)},
		"1 MB event summary and location": {Type: notifyd.TypeReminder, Summary: hugeText(1 << 18),
			Event: &notifyd.Event{Summary: hugeText(1 << 19), Location: hugeText(1 << 18), Start: workEvent.Start, End: workEvent.End}},
		"summary repeated per change": amplifiedChange(t),
		"3000 changes":                manyChanges,
		"50 fields of quotes":         {Type: notifyd.TypeOther, Status: hugeText(1 << 19), Fields: fields},
		"1 MB reminder": {Type: notifyd.TypeReminder, Summary: hugeText(1 << 17), Calendar: notifyd.Collection{DisplayName: hugeText(1 << 16)},
			Event: &notifyd.Event{Summary: hugeText(1 << 17), Location: hugeText(1 << 17), Start: workEvent.Start, End: workEvent.End},
			Reminder: &notifyd.Reminder{UID: strings.Repeat("<", message.MaxIDBytes), RecurrenceID: "20261201T150000Z", Component: "event",
				Text: hugeText(1 << 18), Description: strings.Repeat("Line\n", 1<<16), Trigger: workEvent.Start.Add(-15 * time.Minute), LateSeconds: 600}},
	}
}

// TestRenderCapsOversizedNotifications checks that a message stays within
// the documented limits whatever the notification, says it was shortened,
// keeps its footer (the unsubscribe link) and is a valid MIME message.
func TestRenderCapsOversizedNotifications(t *testing.T) {
	r := newTestRenderer(t)
	sender, err := NewSender(config.SMTP{Host: "smtp.example.org", From: "notifyd@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range oversized(t) {
		for _, locale := range []string{"en", "fr"} {
			t.Run(name+"/"+locale, func(t *testing.T) {
				in := input(n)
				in.Locale = locale
				m := render(t, r, in)
				if len(m.Text) > MaxTextBytes || len(m.HTML) > MaxHTMLBytes || utf8.RuneCountInString(m.Subject) > maxSubjectRunes {
					t.Fatalf("text %d bytes (limit %d), HTML %d bytes (limit %d), subject %d characters",
						len(m.Text), MaxTextBytes, len(m.HTML), MaxHTMLBytes, utf8.RuneCountInString(m.Subject))
				}
				note := map[string]string{"en": "(Shortened: the full notification is ", "fr": "(Message raccourci : la notification complète fait "}[locale]
				t.Logf("subject %d, text %d, HTML %d bytes", len(m.Subject), len(m.Text), len(m.HTML))
				contains(t, "text", m.Text, note, in.UnsubscribeURL)
				contains(t, "HTML", m.HTML, note, in.UnsubscribeURL, "</html>")
				for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "HTML": m.HTML} {
					if !utf8.ValidString(s) {
						t.Errorf("%s is not valid UTF-8", part)
					}
				}
				checkMIME(t, sender, m)
			})
		}
	}
}

// checkMIME sends m through the Sender's encoding and reads it back as a
// mail client would: a multipart/alternative message (in a
// multipart/mixed one with its attachments, when it has some) whose
// decoded parts are m's text, HTML and attachments, within maxWireBytes.
// It returns the attachments' parts as read back.
func checkMIME(t *testing.T, s *Sender, m *Message) []mimePart {
	t.Helper()
	gm, _, err := s.build(m, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var wire bytes.Buffer
	if _, err := gm.WriteTo(&wire); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes on the wire", wire.Len())
	if wire.Len() > maxWireBytes {
		t.Errorf("the message is %d bytes on the wire, over %d", wire.Len(), maxWireBytes)
	}
	msg, err := mail.ReadMessage(&wire)
	if err != nil {
		t.Fatalf("not a valid message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject reads back as %q (%v), want %q", subject, err, m.Subject)
	}
	top := "multipart/alternative"
	if len(m.Attachments) > 0 {
		top = "multipart/mixed"
	}
	if mt, _, err := mime.ParseMediaType(msg.Header.Get("Content-Type")); err != nil || mt != top {
		t.Fatalf("Content-Type %q (%v), want %s", msg.Header.Get("Content-Type"), err, top)
	}
	parts := readParts(t, textproto.MIMEHeader(msg.Header), msg.Body)
	got := map[string]string{}
	var attached []mimePart
	for _, p := range parts {
		if strings.HasPrefix(p.disposition, "attachment") {
			attached = append(attached, p)
			continue
		}
		got[p.mediaType] = strings.ReplaceAll(p.body, "\r\n", "\n")
	}
	if got["text/plain"] != m.Text || got["text/html"] != m.HTML {
		t.Errorf("the parts do not read back as rendered (text %d/%d bytes, HTML %d/%d bytes)",
			len(got["text/plain"]), len(m.Text), len(got["text/html"]), len(m.HTML))
	}
	if len(attached) != len(m.Attachments) {
		t.Fatalf("%d attachments read back, want %d", len(attached), len(m.Attachments))
	}
	for i, a := range m.Attachments {
		if attached[i].body != string(a.Data) {
			t.Errorf("attachment %s does not read back as rendered", a.Name)
		}
	}
	return attached
}

// mimePart is one leaf of a MIME message, its body decoded.
type mimePart struct {
	mediaType   string
	params      map[string]string
	disposition string
	header      textproto.MIMEHeader
	body        string
}

// readParts decodes the leaves of a MIME entity, in order.
func readParts(t *testing.T, h textproto.MIMEHeader, body io.Reader) []mimePart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		var out []mimePart
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			out = append(out, readParts(t, p.Header, p)...)
		}
	}
	switch h.Get("Content-Transfer-Encoding") {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("part %s: %v", mt, err)
	}
	return []mimePart{{mediaType: mt, params: params, disposition: h.Get("Content-Disposition"), header: h, body: string(b)}}
}

// TestRenderShortensWhatItMust checks how a long notification is
// shortened: fields at message.MaxFieldRunes characters, then, when the
// message is still too large, fields at message.TightFieldRunes and as
// many changes as fit, the note giving the notification's size.
func TestRenderShortensWhatItMust(t *testing.T) {
	r := newTestRenderer(t)
	n := oversized(t)["1 MB comment"]
	m := render(t, r, input(n))
	want := message.Truncate(n.Summary, message.MaxFieldRunes)
	contains(t, "text", m.Text, want, "(Shortened: the full notification is 1024 KB; open the calendar “Work” to read it all.)")

	n = oversized(t)["3000 changes"]
	m = render(t, r, input(n))
	contains(t, "text", m.Text, "Imported event number 0\n", "open the calendar “Imported”")
	lacks(t, "text", m.Text, "Imported event number 2999\n")
	contains(t, "subject", m.Subject, "3000 changes")

	// A message within the limits says nothing.
	n = &notifyd.Notification{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Fred"}, Summary: strings.Repeat("word ", 300)}
	m = render(t, r, input(n))
	lacks(t, "text", m.Text, "Shortened")
	lacks(t, "HTML", m.HTML, "Shortened")
}

// TestRenderCapsTemplatesThatWriteTooMuch checks the last resort, for an
// override template that writes far more than its data: the text part is
// cut at a line and the HTML part left out.
func TestRenderCapsTemplatesThatWriteTooMuch(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := `{{define "subject"}}Big{{end}}` +
		`{{define "text"}}{{range 200000}}A line of the text part.` + "\n" + `{{end}}{{end}}` +
		`{{define "html"}}<html><body>{{range 200000}}<p>A paragraph.</p>{{end}}</body></html>{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "en", "generic.tmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := render(t, r, input(&notifyd.Notification{Type: notifyd.TypeOther, Summary: "hi"}))
	if len(m.Text) > MaxTextBytes || m.HTML != "" {
		t.Fatalf("text %d bytes, HTML %d bytes", len(m.Text), len(m.HTML))
	}
	if !strings.HasSuffix(m.Text, "A line of the text part. …\n\n"+message.ShortenedNote("en", 2, "")+"\n") {
		t.Errorf("text ends %q", m.Text[len(m.Text)-200:])
	}
}
