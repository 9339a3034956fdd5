package im

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/notifyd/notifyd"
)

//go:embed all:templates
var builtinTemplates embed.FS

// defaultLang is the language used when the recipient's is not available.
const defaultLang = "en"

// genericType names the template file every language has, used for types
// without their own.
const genericType = "generic"

// maxBodyRunes caps a message body; longer ones are cut with "…". A
// pop-up is a glance, not a letter.
const maxBodyRunes = 1000

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
// (genericType included).
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
	files := map[string]map[string][]byte{} // lang → file name → content
	langs, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("im templates: %w", err)
	}
	for _, l := range langs {
		if !l.IsDir() {
			continue
		}
		entries, err := fs.ReadDir(sub, l.Name())
		if err != nil {
			return nil, fmt.Errorf("im templates: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			b, err := fs.ReadFile(sub, path.Join(l.Name(), e.Name()))
			if err != nil {
				return nil, fmt.Errorf("im templates: %w", err)
			}
			if files[l.Name()] == nil {
				files[l.Name()] = map[string][]byte{}
			}
			files[l.Name()][e.Name()] = b
		}
	}
	r := &Renderer{langs: map[string]*langTemplates{}}
	for lang, fl := range files {
		lt, err := parseLang(lang, fl, files[defaultLang])
		if err != nil {
			return nil, err
		}
		r.langs[lang] = lt
	}
	if r.langs[defaultLang] == nil {
		return nil, errors.New("im templates: no English (en) templates")
	}
	for lang, lt := range r.langs {
		for typ := range lt.tmpl {
			in := sampleInput
			n := *sampleInput.Notification
			n.Type = notifyd.NotificationType(typ)
			in.Notification, in.Locale = &n, lang
			if _, err := r.Render(in); err != nil {
				return nil, fmt.Errorf("im templates %s/%s.tmpl: %w", lang, typ, err)
			}
		}
	}
	return r, nil
}

// sampleInput is what NewRenderer checks templates with: every field set.
var sampleInput = RenderInput{
	Notification: &notifyd.Notification{
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
		Calendar: notifyd.Collection{Href: "/calendars/fred/work/", DisplayName: "Work"},
		Access:   "read-write",
		Status:   "accepted",
		Summary:  "Summary",
		Event: &notifyd.Event{Href: "/calendars/fred/work/e.ics", Summary: "Event", Location: "Room",
			Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)},
		Changes: []notifyd.Change{{Kind: "updated", Href: "/calendars/fred/work/e.ics", Properties: []string{"DTSTART"}},
			{Kind: "created", Summary: "Other", By: notifyd.Person{CommonName: "Wilma"}}},
		Fields: map[string]string{"field": "value"},
	},
	System: "system", Principal: "/principals/wilma/", Recipient: "wilma@example.org", DeliveryID: "check",
}

// parseLang parses one language's files: for each type, the shared files
// (its own, else English's), then generic.tmpl, then the type's file.
func parseLang(lang string, fl, english map[string][]byte) (*langTemplates, error) {
	if _, ok := fl[genericType+".tmpl"]; !ok {
		return nil, fmt.Errorf("im templates: language %q has no %s.tmpl", lang, genericType)
	}
	sharedSrc := map[string][]byte{}
	for name, b := range english {
		if strings.HasPrefix(name, "_") {
			sharedSrc[name] = b
		}
	}
	for name, b := range fl {
		if strings.HasPrefix(name, "_") {
			sharedSrc[name] = b
		}
	}
	shared := make([]string, 0, len(sharedSrc))
	for name := range sharedSrc {
		shared = append(shared, name)
	}
	sort.Strings(shared)

	lt := &langTemplates{lang: lang, tmpl: map[string]*template.Template{}, files: map[string]bool{}}
	types := []string{genericType}
	for name := range fl {
		if !strings.HasPrefix(name, "_") && name != genericType+".tmpl" {
			types = append(types, strings.TrimSuffix(name, ".tmpl"))
		}
	}
	for _, typ := range types {
		t := template.New(typ).Funcs(funcs)
		srcs := append(append([]string{}, shared...), genericType+".tmpl")
		if typ != genericType {
			srcs = append(srcs, typ+".tmpl")
			lt.files[typ] = true
		}
		for _, name := range srcs {
			b := fl[name]
			if b == nil {
				b = sharedSrc[name]
			}
			where := lang + "/" + name
			if _, err := t.New(where).Parse(string(b)); err != nil {
				return nil, fmt.Errorf("im template %s: %w", where, err)
			}
		}
		for _, part := range []string{"text", "calendar"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("im template %s/%s.tmpl: no %q defined (nor in %s.tmpl)", lang, typ, part, genericType)
			}
		}
		lt.tmpl[typ] = t
	}
	return lt, nil
}

// funcs are the functions templates can call besides the built-in ones.
var funcs = template.FuncMap{
	"join":     strings.Join,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"truncate": func(n int, s string) string { return truncate(s, n) },
	"ical":     icalText,
	"icalUTC":  icalUTC,
	"icalDate": icalDate,
}

// Render writes the message for in.
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
		typ = genericType
	}
	v := newView(in, lt.lang, tag)

	var buf bytes.Buffer
	if err := lt.tmpl[typ].ExecuteTemplate(&buf, "text", v); err != nil {
		return nil, fmt.Errorf("im: render %s text: %w", typ, err)
	}
	body := truncate(tidyText(buf.String()), maxBodyRunes)
	if body == "" {
		return nil, fmt.Errorf("im: render %s: empty text", typ)
	}
	buf.Reset()
	if err := lt.tmpl[typ].ExecuteTemplate(&buf, "calendar", v); err != nil {
		return nil, fmt.Errorf("im: render %s calendar: %w", typ, err)
	}
	cal, err := tidyCalendar(buf.String())
	if err != nil {
		return nil, fmt.Errorf("im: render %s calendar: %w", typ, err)
	}
	id := in.DeliveryID
	if id == "" {
		b := make([]byte, 12)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	return &Message{To: strings.TrimSpace(in.Recipient), ID: "notifyd-" + oneLine(id), Lang: lt.lang, Body: body, Calendar: cal}, nil
}

// pick returns the templates for a locale: exact tag, then base language,
// then English; and the lower-case tag.
func (r *Renderer) pick(locale string) (*langTemplates, string) {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	if lt := r.langs[tag]; lt != nil && tag != "" {
		return lt, tag
	}
	base, _, _ := strings.Cut(tag, "-")
	if lt := r.langs[base]; lt != nil && base != "" {
		return lt, tag
	}
	return r.langs[defaultLang], defaultLang
}

// view is the data templates are executed with (see the package
// documentation).
type view struct {
	Type         string
	System       string
	Account      string
	Recipient    string
	From         string
	FromEmail    string
	Calendar     string
	Access       string
	Status       string
	Summary      string
	Event        *eventView
	Changes      []changeView
	ChangedBy    string
	Fields       []fieldView
	Cancelled    bool
	EventUID     string
	Stamp        time.Time
	Lang         string
	Locale       string
	TimeZone     string
	Notification *notifyd.Notification

	tf timeFormat
}

// eventView is an event as templates see it.
type eventView struct {
	Summary  string
	Location string
	When     string
	AllDay   bool
	Start    time.Time
	End      time.Time
}

// changeView is one change of a resource-change notification.
type changeView struct {
	Kind       string
	Summary    string
	By         string
	Properties []string
	When       string
}

// fieldView is one entry of Notification.Fields.
type fieldView struct {
	Name  string
	Label string
	Value string
}

// Date writes t's date in the recipient's zone and language.
func (v *view) Date(t time.Time) string { return v.tf.Date(t) }

// Time writes t's time of day and zone in the recipient's zone.
func (v *view) Time(t time.Time) string { return v.tf.Time(t) }

// DateTime writes t's date, time and zone in the recipient's zone.
func (v *view) DateTime(t time.Time) string { return v.tf.DateTime(t) }

func newView(in RenderInput, lang, tag string) *view {
	n := in.Notification
	loc := in.TimeZone
	if loc == nil {
		loc = time.UTC
	}
	v := &view{
		Type:         string(n.Type),
		System:       oneLine(in.System),
		Account:      lastSegment(in.Principal),
		Recipient:    oneLine(in.Recipient),
		Access:       oneLine(strings.ToLower(n.Access)),
		Status:       oneLine(n.Status),
		Summary:      oneLine(n.Summary),
		Lang:         lang,
		Locale:       tag,
		TimeZone:     loc.String(),
		Notification: n,
		Stamp:        n.DTStamp,
		tf:           newTimeFormat(lang, tag, loc),
	}
	if v.Stamp.IsZero() {
		v.Stamp = in.Now
		if v.Stamp.IsZero() {
			v.Stamp = time.Now()
		}
	}
	v.From, v.FromEmail = personName(n.From)
	v.Calendar = oneLine(in.CalendarName)
	if v.Calendar == "" {
		v.Calendar = oneLine(n.Calendar.DisplayName)
	}
	if v.Calendar == "" {
		v.Calendar = lastSegment(n.Calendar.Href)
	}
	if e := n.Event; e != nil {
		v.Event = &eventView{
			Summary:  oneLine(e.Summary),
			Location: oneLine(e.Location),
			When:     v.tf.span(e.Start, e.End, e.AllDay),
			AllDay:   e.AllDay,
			Start:    e.Start,
			End:      e.End,
		}
		if !e.AllDay {
			if !e.Start.IsZero() {
				v.Event.Start = e.Start.In(loc)
			}
			if !e.End.IsZero() {
				v.Event.End = e.End.In(loc)
			}
		}
		v.EventUID = oneLine(e.UID)
		if v.EventUID == "" {
			v.EventUID = strings.TrimSuffix(lastSegment(e.Href), ".ics")
		}
		if v.EventUID == "" {
			v.EventUID = oneLine(n.UID)
		}
		if v.EventUID == "" {
			v.EventUID = "notifyd-" + oneLine(in.DeliveryID)
		}
	}
	by, sameBy, allDeleted := "", true, len(n.Changes) > 0
	for i, c := range n.Changes {
		cv := changeView{Kind: oneLine(strings.ToLower(c.Kind)), Summary: oneLine(c.Summary)}
		cv.By, _ = personName(c.By)
		if cv.By == "" {
			cv.By = v.From // From is "the user who changed a resource"
		}
		for _, p := range c.Properties {
			if p = oneLine(strings.ToUpper(p)); p != "" {
				cv.Properties = append(cv.Properties, p)
			}
		}
		if v.Event != nil && (len(n.Changes) == 1 || (c.Href != "" && c.Href == n.Event.Href)) {
			if cv.Summary == "" {
				cv.Summary = v.Event.Summary
			}
			cv.When = v.Event.When
		}
		if i == 0 {
			by = cv.By
		} else if cv.By != by {
			sameBy = false
		}
		allDeleted = allDeleted && cv.Kind == "deleted"
		v.Changes = append(v.Changes, cv)
	}
	if sameBy {
		v.ChangedBy = by
	}
	v.Cancelled = n.Type == notifyd.TypeEventRegCancelled || (n.Type == notifyd.TypeResourceChange && allDeleted)
	for name, val := range n.Fields {
		if val = oneLine(val); val != "" {
			v.Fields = append(v.Fields, fieldView{Name: name, Label: humanize(name), Value: val})
		}
	}
	sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	return v
}
