package sms

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

//go:embed all:templates
var builtinTemplates embed.FS

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
	// MaxSegments, when above 0, is the number of segments the text is
	// meant to fit in: a longer one is written again with its free-text
	// fields cut shorter (see [Renderer.Render]). 0 renders it whole.
	MaxSegments int
	// PreferencesURL, when not "", is shown on a last line of its own
	// ("Manage alerts: URL"), whole, if the text still fits in
	// MaxSegments with it (see [Renderer.Render]).
	PreferencesURL string
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
	files, err := message.LoadTemplates(fsys, "")
	if err != nil {
		return nil, fmt.Errorf("sms %w", err)
	}
	r := &Renderer{langs: map[string]map[string]*template.Template{}}
	for lang := range files {
		shared := files.Shared(lang)
		r.langs[lang] = map[string]*template.Template{}
		for _, typ := range files.Types(lang) {
			t := template.New(typ).Funcs(funcs)
			for _, src := range shared {
				if _, err := t.New(src.Name).Parse(src.Text); err != nil {
					return nil, fmt.Errorf("sms template %s: %w", src.Name, err)
				}
			}
			own := files.File(lang, typ)
			if _, err := t.New(typ).Parse(own.Text); err != nil {
				return nil, fmt.Errorf("sms template %s: %w", own.Name, err)
			}
			r.langs[lang][typ] = t.Lookup(typ)
		}
	}
	err = files.Check(func(lang, typ string, n *notifyd.Notification) error {
		in := sampleInput
		in.Notification, in.Locale = n, lang
		if _, err := r.Render(in); err != nil {
			return fmt.Errorf("sms template %s/%s.tmpl: %w", lang, typ, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for lang := range files {
		in := sampleInput
		in.Locale, in.PreferencesURL = lang, sampleLink
		_, linked, err := r.render(in)
		if err == nil && !linked && r.langs[lang][message.Generic].Lookup(linkTemplate) != nil {
			err = errors.New("the link is not shown")
		}
		if err != nil {
			return nil, fmt.Errorf("sms templates %s/_link.tmpl: %w", lang, err)
		}
	}
	for lang := range files {
		if r.langs[lang][message.Generic].Lookup("digest-head") == nil {
			continue // a set without digests (tests): RenderDigest says so
		}
		in := sampleDigest()
		in.Locale = lang
		if _, err := r.RenderDigest(in); err != nil {
			return nil, fmt.Errorf("sms templates %s/_digest.tmpl: %w", lang, err)
		}
	}
	return r, nil
}

// sampleInput is what newRenderer checks templates with: every field set.
var sampleInput = RenderInput{
	Notification: message.Sample(""),
	System:       "system",
	Principal:    "/principals/wilma/",
}

// funcs are the functions templates can call besides the built-in ones
// ([message.Funcs], with a truncate that ends with "..." in GSM-7).
var funcs = template.FuncMap(message.Funcs(truncate))

// MaxRenderBytes caps a rendered text before it is shortened to a number
// of segments: more than 10 segments (the most channels.twilio.max_segments
// allows) can hold, so that [Shorten] still cuts it at a word.
const MaxRenderBytes = 8 << 10

// Render writes the text for in: the template of the notification's type
// (generic.tmpl for a type without one) in the recipient's language, with
// blank lines dropped, spaces tidied and typographic characters replaced
// by plain ones where the GSM-7 alphabet has them. Each free-text field
// the template sees is cut to message.MaxFieldRunes characters, and the
// text to MaxRenderBytes. A text over in.MaxSegments segments is written
// again with each free-text field cut to fewer characters ([fitRunes]),
// and the first that fits is returned, so that what follows a long
// summary (a reminder's time and place) is kept; when none fits, the
// text with whole fields is, and [Shorten] cuts its end.
//
// With in.PreferencesURL (a link [message.LinkURL] accepts), the text
// ends with a line showing it, never cut: the first of the texts above
// that fits in in.MaxSegments with that line is returned with it. When
// none does, the link is left out, and the text is what it would be
// without one.
func (r *Renderer) Render(in RenderInput) (string, error) {
	text, _, err := r.render(in)
	return text, err
}

// render is Render; linked reports whether the text ends with the
// preference link.
func (r *Renderer) render(in RenderInput) (text string, linked bool, err error) {
	n := in.Notification
	if n == nil {
		return "", false, errors.New("sms: render: no notification")
	}
	types, lang, tag := r.pick(in.Locale)
	typ := string(n.Type)
	t := types[typ]
	if t == nil {
		typ = message.Generic
		t = types[typ]
	}
	link, err := linkLine(t, in.PreferencesURL)
	if err != nil {
		return "", false, fmt.Errorf("sms: render %s/%s: %w", lang, typ, err)
	}
	fits := func(s string) bool {
		_, segs := Segments(s)
		return in.MaxSegments <= 0 || segs <= in.MaxSegments
	}
	// The texts to try, in turn: whole fields, then each of fitRunes.
	alone := "" // the first that fits without the link
	for i, runes := range append([]int{message.MaxFieldRunes}, fitRunes...) {
		if i > 0 && in.MaxSegments <= 0 {
			break
		}
		s, err := render(t, newView(in, lang, tag, runes))
		if err != nil {
			return "", false, fmt.Errorf("sms: render %s/%s: %w", lang, typ, err)
		}
		if i == 0 {
			text = s
		}
		if link != "" && fits(s+"\n"+link) {
			return s + "\n" + link, true, nil
		}
		if alone == "" && fits(s) {
			if link == "" {
				return s, false, nil
			}
			alone = s
		}
	}
	if alone != "" {
		return alone, false, nil
	}
	return text, false, nil
}

// linkTemplate is the template of the preference link's line.
const linkTemplate = "preferences-link"

// sampleLink is what newRenderer checks the link's line with.
const sampleLink = "https://calendar.example.org/preferences/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// linkLine is the line showing the preference link u with t's set, ""
// when there is none to show: no u, a u that [message.LinkURL] refuses,
// or a set without the "preferences-link" template. The line is one
// line, tidied, and holds u whole.
func linkLine(t *template.Template, u string) (string, error) {
	if u = message.LinkURL(u); u == "" || t.Lookup(linkTemplate) == nil {
		return "", nil
	}
	out, err := run(t, linkTemplate, u)
	if err != nil {
		return "", fmt.Errorf("the link's line: %w", err)
	}
	line := strings.Join(strings.Fields(gsmFriendly(out)), " ")
	if !strings.Contains(line, u) {
		return "", fmt.Errorf("the link's line %q does not show the link", line)
	}
	return line, nil
}

// fitRunes are the lengths free-text fields are cut to, in turn, for a
// text to fit in its segments.
var fitRunes = []int{40, 25, 15}

// render runs t with v and tidies the text.
func render(t *template.Template, v *view) (string, error) {
	out, full, err := message.Execute(MaxRenderBytes-len(ellipsisUCS2), func(w io.Writer) error { return t.Execute(w, v) })
	if err != nil {
		return "", err
	}
	text := tidy(gsmFriendly(out))
	if full {
		// Cut: end with an ellipsis even if tidying made it short.
		text = strings.TrimRight(text, " ,;:.-(") + ellipsis(text)
	}
	if text == "" {
		return "", errors.New("the text is empty")
	}
	return text, nil
}

// pick returns the templates for a locale (see [message.Pick]), their
// language and the lower-case tag.
func (r *Renderer) pick(locale string) (map[string]*template.Template, string, string) {
	lang, tag := message.Pick(r.langs, locale)
	return r.langs[lang], lang, tag
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
type view struct{ message.View }

// newView is the view of in with each free-text field cut to maxRunes
// characters.
func newView(in RenderInput, lang, tag string, maxRunes int) *view {
	tf := message.NewTimeFormat(message.Short, lang, tag, in.TimeZone)
	v, _ := clean.ShortView(in.Notification, in.System, in.Principal, in.CalendarName, tf, lang, tag, maxRunes)
	return &view{v}
}

// clean cleans the text templates see, keeping the joiners of emoji
// sequences.
var clean = message.Cleaner{KeepJoiners: true}

// truncate cuts s to at most n characters at a word boundary when there is
// one in its last quarter, ending with "..." ("…" if s is not GSM-7).
func truncate(s string, n int) string {
	if n < 4 {
		return s
	}
	return message.TruncateWith(s, n, ellipsis(s), " ")
}

// ellipsis is the ellipsis that ends s once shortened: "..." if s is
// GSM-7, else "…".
func ellipsis(s string) string {
	if IsGSM7(s) {
		return ellipsisGSM
	}
	return ellipsisUCS2
}
