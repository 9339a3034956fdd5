package sms

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

//go:embed all:templates
var builtinTemplates embed.FS

// defaultLang is the language used when the recipient's has no templates.
const defaultLang = "en"

// genericType names the template every language has, used for the types
// without their own.
const genericType = "generic"

// RenderInput is everything a text message is written from.
type RenderInput struct {
	// Notification is what happened; it must not be nil.
	Notification *notifyd.Notification
	// System is the calendar system's configured name.
	System string
	// Principal is the href of the principal whose notification it is.
	Principal string
	// Locale is the recipient's BCP 47 language tag; "" or a language
	// without templates falls back to English. Templates are chosen by
	// exact tag, then base language.
	Locale string
	// TimeZone is the zone times are shown in; nil means UTC.
	TimeZone *time.Location
	// CalendarName is the calendar's display name fetched by the engine
	// when readable ("" if not); it wins over the notification's own.
	CalendarName string
}

// Renderer writes notifications as SMS texts from the built-in templates
// (templates/LANG/TYPE.tmpl, embedded). It is safe for concurrent use.
type Renderer struct {
	langs map[string]map[string]*template.Template // lang → type → template
}

// NewRenderer loads the built-in templates and renders each once with
// sample data, so that a broken template is reported at start.
func NewRenderer() (*Renderer, error) {
	sub, err := fs.Sub(builtinTemplates, "templates")
	if err != nil {
		return nil, err
	}
	return newRenderer(sub)
}

// newRenderer loads the templates of fsys, laid out as LANG/TYPE.tmpl
// (TYPE a notification type or "generic") and LANG/_NAME.tmpl for shared
// definitions (a language without one takes English's).
func newRenderer(fsys fs.FS) (*Renderer, error) {
	files := map[string]map[string]string{} // lang → file name → source
	langs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("sms templates: %w", err)
	}
	for _, l := range langs {
		if !l.IsDir() || strings.HasPrefix(l.Name(), ".") {
			continue
		}
		lang := strings.ReplaceAll(strings.ToLower(l.Name()), "_", "-")
		entries, err := fs.ReadDir(fsys, l.Name())
		if err != nil {
			return nil, fmt.Errorf("sms templates: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(l.Name(), e.Name()))
			if err != nil {
				return nil, fmt.Errorf("sms templates: %w", err)
			}
			if files[lang] == nil {
				files[lang] = map[string]string{}
			}
			files[lang][e.Name()] = string(b)
		}
	}
	if files[defaultLang] == nil {
		return nil, errors.New("sms templates: no English (en) templates")
	}
	r := &Renderer{langs: map[string]map[string]*template.Template{}}
	for lang, fl := range files {
		if _, ok := fl[genericType+".tmpl"]; !ok {
			return nil, fmt.Errorf("sms templates: language %q has no %s.tmpl", lang, genericType)
		}
		shared := map[string]string{}
		for _, src := range []map[string]string{files[defaultLang], fl} {
			for name, b := range src {
				if strings.HasPrefix(name, "_") {
					shared[name] = b
				}
			}
		}
		sharedNames := make([]string, 0, len(shared))
		for name := range shared {
			sharedNames = append(sharedNames, name)
		}
		sort.Strings(sharedNames)
		r.langs[lang] = map[string]*template.Template{}
		for name, b := range fl {
			if strings.HasPrefix(name, "_") {
				continue
			}
			typ := strings.TrimSuffix(name, ".tmpl")
			t := template.New(typ).Funcs(funcs)
			for _, sn := range sharedNames {
				if _, err := t.New(lang + "/" + sn).Parse(shared[sn]); err != nil {
					return nil, fmt.Errorf("sms template %s/%s: %w", lang, sn, err)
				}
			}
			if _, err := t.New(typ).Parse(b); err != nil {
				return nil, fmt.Errorf("sms template %s/%s: %w", lang, name, err)
			}
			r.langs[lang][typ] = t.Lookup(typ)
		}
	}
	for lang, types := range r.langs {
		for typ := range types {
			in := sampleInput
			n := *sampleInput.Notification
			n.Type = notifyd.NotificationType(typ)
			in.Notification, in.Locale = &n, lang
			if _, err := r.Render(in); err != nil {
				return nil, fmt.Errorf("sms template %s/%s.tmpl: %w", lang, typ, err)
			}
		}
	}
	return r, nil
}

// sampleInput is what newRenderer checks templates with: every field set.
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
	System: "system", Principal: "/principals/wilma/",
}

// funcs are the functions templates can call besides the built-in ones.
var funcs = template.FuncMap{
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	// truncate N S cuts S to at most N characters at a word, with an
	// ellipsis ({{.Summary | truncate 60}}).
	"truncate": func(n int, s string) string { return truncate(s, n) },
}

// Render writes the text for in: the template of the notification's type
// (generic.tmpl for a type without one) in the recipient's language, with
// blank lines dropped, spaces tidied and typographic characters replaced
// by plain ones where the GSM-7 alphabet has them. The text is not
// shortened to a number of segments: see [Shorten].
func (r *Renderer) Render(in RenderInput) (string, error) {
	n := in.Notification
	if n == nil {
		return "", errors.New("sms: render: no notification")
	}
	types, lang, tag := r.pick(in.Locale)
	typ := string(n.Type)
	t := types[typ]
	if t == nil {
		typ = genericType
		t = types[typ]
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, newView(in, lang, tag)); err != nil {
		return "", fmt.Errorf("sms: render %s/%s: %w", lang, typ, err)
	}
	text := tidy(gsmFriendly(buf.String()))
	if text == "" {
		return "", fmt.Errorf("sms: render %s/%s: the text is empty", lang, typ)
	}
	return text, nil
}

// pick returns the templates for a locale (exact tag, then base language,
// then English), their language and the lower-case tag.
func (r *Renderer) pick(locale string) (map[string]*template.Template, string, string) {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	if t := r.langs[tag]; t != nil && tag != "" {
		return t, tag, tag
	}
	base, _, _ := strings.Cut(tag, "-")
	if t := r.langs[base]; t != nil && base != "" {
		return t, base, tag
	}
	return r.langs[defaultLang], defaultLang, defaultLang
}

// tidy trims each line, shrinks runs of spaces to one and drops blank
// lines, so templates can be laid out freely.
func tidy(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// view is the data templates see.
type view struct {
	Type      string
	System    string
	Principal string
	Account   string
	From      string
	Calendar  string
	Access    string
	Status    string
	Summary   string
	Event     *eventView
	Changes   []changeView
	ChangedBy string
	Fields    []fieldView
	Lang      string
	Locale    string
	TimeZone  string
}

// eventView is an event as templates see it.
type eventView struct {
	Summary  string
	Location string
	When     string
	AllDay   bool
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
	Value string
}

func newView(in RenderInput, lang, tag string) *view {
	n := in.Notification
	tf := newTimeFormat(lang, tag, in.TimeZone)
	v := &view{
		Type:      string(n.Type),
		System:    oneLine(in.System),
		Principal: oneLine(in.Principal),
		Account:   lastSegment(in.Principal),
		From:      personName(n.From),
		Access:    oneLine(strings.ToLower(n.Access)),
		Status:    oneLine(n.Status),
		Summary:   oneLine(n.Summary),
		Lang:      lang,
		Locale:    tag,
		TimeZone:  tf.loc.String(),
	}
	v.Calendar = oneLine(in.CalendarName)
	if v.Calendar == "" {
		v.Calendar = oneLine(n.Calendar.DisplayName)
	}
	if v.Calendar == "" {
		v.Calendar = lastSegment(n.Calendar.Href)
	}
	if e := n.Event; e != nil {
		v.Event = &eventView{Summary: oneLine(e.Summary), Location: oneLine(e.Location),
			When: tf.span(e.Start, e.End, e.AllDay), AllDay: e.AllDay}
	}
	by, sameBy := "", true
	for i, c := range n.Changes {
		cv := changeView{Kind: oneLine(strings.ToLower(c.Kind)), Summary: oneLine(c.Summary), By: personName(c.By)}
		if cv.By == "" {
			cv.By = v.From
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
		v.Changes = append(v.Changes, cv)
	}
	if sameBy {
		v.ChangedBy = by
	}
	for name, val := range n.Fields {
		if val = oneLine(val); val != "" {
			v.Fields = append(v.Fields, fieldView{Name: name, Value: val})
		}
	}
	sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	return v
}

// personName names a person: common name, else the mailto address, else
// the last path segment of the href.
func personName(p notifyd.Person) string {
	if cn := oneLine(p.CommonName); cn != "" {
		return cn
	}
	if len(p.Href) > 7 && strings.EqualFold(p.Href[:7], "mailto:") {
		a := p.Href[7:]
		if u, err := url.PathUnescape(a); err == nil {
			a = u
		}
		return oneLine(a)
	}
	return lastSegment(p.Href)
}

// lastSegment returns the last non-empty path segment of an href or URL,
// percent-decoded.
func lastSegment(href string) string {
	if href == "" {
		return ""
	}
	p := href
	if u, err := url.Parse(href); err == nil && u.Path != "" {
		p = u.EscapedPath()
	}
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return oneLine(p)
}

// oneLine makes s safe to show on one line: control characters (line
// breaks included) become spaces, format characters (bidirectional
// overrides) go, runs of spaces shrink to one, ends are trimmed.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cf, r) && r != '\u200d':
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n characters at a word boundary when there is
// one in its last quarter, ending with "..." ("…" if s is not GSM-7).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 4 {
		return s
	}
	ell := ellipsisGSM
	if !IsGSM7(s) {
		ell = ellipsisUCS2
	}
	keep := n - utf8.RuneCountInString(ell)
	end, runes := len(s), 0
	for i := range s {
		if runes == keep {
			end = i
			break
		}
		runes++
	}
	t := s[:end]
	if sp := strings.LastIndexByte(t, ' '); sp > len(t)*3/4 {
		t = t[:sp]
	}
	return strings.TrimRight(t, " ,;:.") + ell
}
