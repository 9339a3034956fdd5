package im

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

//go:embed all:templates
var builtinTemplates embed.FS

// RenderInput is everything an instant message is written from.
type RenderInput struct {
	// Notification is what happened; it must not be nil.
	Notification *notifyd.Notification
	// System is the calendar system's configured name.
	System string
	// Principal is the href of the principal whose notification it is.
	Principal string
	// Recipient is the JID the message is for.
	Recipient string
	// Locale is the recipient's BCP 47 language tag; "" or a language
	// without templates falls back to English.
	Locale string
	// TimeZone is the zone times are shown in; nil means UTC.
	TimeZone *time.Location
	// CalendarName is the calendar's display name fetched by the engine
	// when readable ("" if not); it wins over the notification's own.
	CalendarName string
	// DeliveryID is the stable identifier of this delivery; the stanza
	// ID is "notifyd-" + DeliveryID, so a retried send is recognisably
	// the same message. Empty means a random ID.
	DeliveryID string
	// Now is the DTSTAMP of the calendar object when the notification
	// has no DTStamp of its own; zero means the current time.
	Now time.Time
	// PreferencesURL, when not "", is shown whole on the body's last line
	// ("Manage notifications: URL"), not in the calendar object.
	PreferencesURL string
}

// Message is a rendered instant message.
type Message struct {
	// To is the recipient's JID.
	To string
	// ID is the stanza ID.
	ID string
	// Lang is the language the message is written in ("en", "fr"),
	// for the stanza's xml:lang.
	Lang string
	// Body is the readable text, a few short lines.
	Body string
	// Calendar is an iCalendar object (text/calendar, RFC 5545, CRLF line
	// ends) describing the event the notification concerns, or "" when
	// the notification's template gives none. It travels beside the body
	// in a <calendar xmlns="urn:notifyd:calendar:0"/> element.
	Calendar string
}

// Renderer writes notifications as instant messages from the built-in
// templates. It is safe for concurrent use.
type Renderer struct {
	langs map[string]*langTemplates
}

// langTemplates are one language's parsed templates, by notification type
// (message.Generic included).
type langTemplates struct {
	lang  string
	tmpl  map[string]*template.Template
	files map[string]bool // type names that have their own file
}

// NewRenderer loads the built-in templates (templates/LANG/TYPE.tmpl,
// embedded): per language, files starting with "_" hold shared
// definitions (a language lacking one takes English's), generic.tmpl
// defines "text" and "calendar" for every type, and TYPE.tmpl overrides
// them for one notification type. Every template is run once with sample
// data, so a broken one is reported here.
func NewRenderer() (*Renderer, error) {
	sub, err := fs.Sub(builtinTemplates, "templates")
	if err != nil {
		return nil, err
	}
	files, err := message.LoadTemplates(sub, "")
	if err != nil {
		return nil, fmt.Errorf("im %w", err)
	}
	r := &Renderer{langs: map[string]*langTemplates{}}
	for lang := range files {
		lt, err := parseLang(lang, files)
		if err != nil {
			return nil, err
		}
		r.langs[lang] = lt
	}
	err = files.Check(func(lang, typ string, n *notifyd.Notification) error {
		in := sampleInput
		in.Notification, in.Locale = n, lang
		if _, err := r.Render(in); err != nil {
			return fmt.Errorf("im templates %s/%s.tmpl: %w", lang, typ, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for lang := range files {
		in := sampleInput
		in.Notification, in.Locale, in.PreferencesURL = message.Sample(""), lang, sampleLink
		if _, err := r.Render(in); err != nil {
			return nil, fmt.Errorf("im templates %s/_link.tmpl: %w", lang, err)
		}
	}
	for lang := range files {
		in := sampleDigest()
		in.Locale, in.PreferencesURL = lang, sampleLink
		if _, err := r.RenderDigest(in); err != nil {
			return nil, fmt.Errorf("im templates %s/_digest.tmpl: %w", lang, err)
		}
	}
	return r, nil
}

// sampleInput is what NewRenderer checks templates with: every field set.
var sampleInput = RenderInput{
	Notification: message.Sample(""),
	System:       "system",
	Principal:    "/principals/wilma/",
	Recipient:    "wilma@example.org",
	DeliveryID:   "check",
}

// sampleLink is what NewRenderer checks the link's line with.
const sampleLink = "https://calendar.example.org/preferences/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// parseLang parses one language's files: for each type, its
// [message.Files.Layers].
func parseLang(lang string, files message.Files) (*langTemplates, error) {
	lt := &langTemplates{lang: lang, tmpl: map[string]*template.Template{}, files: map[string]bool{}}
	for _, typ := range files.Types(lang) {
		t := template.New(typ).Funcs(funcs)
		if typ != message.Generic {
			lt.files[typ] = true
		}
		for _, src := range files.Layers(lang, typ) {
			if _, err := t.New(src.Name).Parse(src.Text); err != nil {
				return nil, fmt.Errorf("im template %s: %w", src.Name, err)
			}
		}
		for _, part := range []string{"text", "calendar"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("im template %s/%s.tmpl: no %q defined (nor in %s.tmpl)", lang, typ, part, message.Generic)
			}
		}
		lt.tmpl[typ] = t
	}
	return lt, nil
}

// funcs are the functions templates can call besides the built-in ones:
// the channels' ([message.Funcs]) and the iCalendar ones.
var funcs = func() template.FuncMap {
	f := template.FuncMap(message.Funcs(truncate))
	f["ical"] = message.ICalText
	f["icalUTC"] = message.ICalUTC
	f["icalDate"] = message.ICalDate
	return f
}()

// Render writes the message for in. The body is at most maxBodyRunes
// characters; with in.PreferencesURL (a link [message.LinkURL] accepts)
// its last line shows the link, whole, and what comes before is cut
// shorter to leave it room.
func (r *Renderer) Render(in RenderInput) (*Message, error) {
	n := in.Notification
	if n == nil {
		return nil, errors.New("im: render: no notification")
	}
	if _, _, err := parseJID(in.Recipient); err != nil {
		return nil, err
	}
	lt, tag := r.pick(in.Locale)
	typ := string(n.Type)
	if !lt.files[typ] {
		typ = message.Generic
	}
	v, shortened := newView(in, lt.lang, tag, message.MaxFieldRunes)
	link, err := linkLine(lt.tmpl[typ], in.PreferencesURL)
	if err != nil {
		return nil, fmt.Errorf("im: render %s: %w", typ, err)
	}
	limit := bodyLimit(link)

	out, full, err := message.Execute(maxBodyBytes, func(w io.Writer) error {
		return lt.tmpl[typ].ExecuteTemplate(w, "text", v)
	})
	if err != nil {
		return nil, fmt.Errorf("im: render %s text: %w", typ, err)
	}
	body := tidyText(out)
	if body == "" {
		return nil, fmt.Errorf("im: render %s: empty text", typ)
	}
	cal, calShortened, err := lt.calendar(typ, in, tag, v)
	if err != nil {
		return nil, fmt.Errorf("im: render %s calendar: %w", typ, err)
	}
	if shortened || calShortened || full || utf8.RuneCountInString(body) > limit {
		note := message.ShortenedNote(lt.lang, message.TextSize(n), v.Calendar)
		body = truncate(body, limit-utf8.RuneCountInString(note)-1) + "\n" + note
	}
	if link != "" {
		body += "\n" + link
	}
	id := in.DeliveryID
	if id == "" {
		id = randomID()
	}
	m := &Message{To: strings.TrimSpace(in.Recipient), ID: "notifyd-" + clean.Line(id), Lang: lt.lang, Body: body, Calendar: cal}
	if size := len(messageStanza(m, hintNoStore)); size > MaxStanzaBytes {
		return nil, fmt.Errorf("im: the message stanza would be %d bytes, over the %d-byte limit", size, MaxStanzaBytes)
	}
	return m, nil
}

// linkTemplate is the template of the preference link's line.
const linkTemplate = "preferences-link"

// linkLine is the line showing the preference link u with t's set, ""
// when there is none to show (no u, or one [message.LinkURL] refuses).
// The line is one line and holds u whole.
func linkLine(t *template.Template, u string) (string, error) {
	if u = message.LinkURL(u); u == "" {
		return "", nil
	}
	out, err := run(t, linkTemplate, u)
	if err != nil {
		return "", fmt.Errorf("the link's line: %w", err)
	}
	line := strings.Join(strings.Fields(out), " ")
	if !strings.Contains(line, u) {
		return "", fmt.Errorf("the link's line %q does not show the link", line)
	}
	return line, nil
}

// bodyLimit is how many characters a body may have before the line link
// ("" for none) is added under it.
func bodyLimit(link string) int {
	if link == "" {
		return maxBodyRunes
	}
	return maxBodyRunes - utf8.RuneCountInString(link) - 1
}

// randomID is a stanza ID for a message without a delivery ID.
func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pick returns the templates for a locale (see [message.Pick]) and the
// lower-case tag.
func (r *Renderer) pick(locale string) (*langTemplates, string) {
	lang, tag := message.Pick(r.langs, locale)
	return r.langs[lang], tag
}

// view is the data templates are executed with (see the package
// documentation).
type view struct {
	message.View
	Recipient string
	// Cancelled is true when the event is called off (a registration
	// cancelled, every change a deletion, an event deleted or its
	// status set to cancelled).
	Cancelled bool
	// EventUID names the event in the calendar part.
	EventUID string
	// Stamp is when the notification was made (now if unknown).
	Stamp time.Time
	// ReminderCalendar is a reminder's iCalendar object, its lines not
	// yet folded ("" for other notifications): see
	// [message.ReminderCalendar].
	ReminderCalendar string
	// UpdateCalendar is the iCalendar object of the event or task a
	// calendar update is about, its lines not yet folded ("" for other
	// notifications, and when there is none): see
	// [message.UpdateCalendar].
	UpdateCalendar string
}

// newView is the view of in with each free-text field cut to maxRunes
// characters; shortened reports whether one was.
func newView(in RenderInput, lang, tag string, maxRunes int) (_ *view, shortened bool) {
	tf := message.NewTimeFormat(message.Long, lang, tag, in.TimeZone)
	mv, shortened := clean.ShortView(in.Notification, in.System, in.Principal, in.CalendarName, tf, lang, tag, maxRunes)
	n := mv.Notification
	v := &view{
		View:      mv,
		Recipient: clean.Line(in.Recipient),
		Stamp:     n.DTStamp,
	}
	if v.Stamp.IsZero() {
		v.Stamp = in.Now
		if v.Stamp.IsZero() {
			v.Stamp = time.Now()
		}
	}
	if e := n.Event; e != nil {
		v.EventUID = clean.Line(e.UID)
		if v.EventUID == "" {
			v.EventUID = strings.TrimSuffix(clean.LastSegment(e.Href), ".ics")
		}
		if v.EventUID == "" {
			v.EventUID = clean.Line(n.UID)
		}
		if v.EventUID == "" {
			v.EventUID = "notifyd-" + clean.Line(in.DeliveryID)
		}
	}
	if n.Reminder != nil {
		stamp := n.DTStamp
		if stamp.IsZero() {
			stamp = n.Reminder.Trigger
		}
		if stamp.IsZero() {
			stamp = v.Stamp
		}
		v.ReminderCalendar = strings.Join(message.ReminderCalendar(n, stamp), "\n")
	}
	if v.Update != nil {
		stamp := n.DTStamp
		if stamp.IsZero() {
			stamp = v.Stamp
		}
		v.UpdateCalendar = strings.Join(message.UpdateCalendar(n, stamp), "\n")
	}
	allDeleted := len(v.Changes) > 0
	for _, c := range v.Changes {
		allDeleted = allDeleted && c.Kind == "deleted"
	}
	v.Cancelled = n.Type == notifyd.TypeEventRegCancelled || (n.Type == notifyd.TypeResourceChange && allDeleted) ||
		(v.Update != nil && (v.Update.Action == "deleted" || (v.Update.Main != nil && v.Update.Main.Kind == "cancelled")))
	return v, shortened
}
