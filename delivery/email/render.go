package email

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

//go:embed all:templates
var builtinTemplates embed.FS

// Size limits of a rendered email: a notification may hold up to 1 MiB
// of text, and a value can be shown many times over (see the package
// documentation).
const (
	// MaxTextBytes caps the text/plain part, shortening note included.
	MaxTextBytes = 64 << 10
	// MaxHTMLBytes caps the text/html part, shortening note included:
	// under the 102 KB beyond which Gmail clips a message.
	MaxHTMLBytes = 96 << 10
	// maxSubjectRunes caps a subject's length; longer ones are cut with
	// "…".
	maxSubjectRunes = 200
	// maxSubjectBytes bounds the subject template's output before it is
	// cut to maxSubjectRunes.
	maxSubjectBytes = 4 << 10
	// noteRoom is kept free in each part for the shortening note.
	noteRoom = 1 << 10
)

// RenderInput is everything a message is written from.
type RenderInput struct {
	// Notification is what happened; it must not be nil.
	Notification *notifyd.Notification
	// System is the calendar system's configured name.
	System string
	// Principal is the href of the principal whose notification it is.
	Principal string
	// Recipient is the email address the message is for.
	Recipient string
	// Locale is the recipient's BCP 47 language tag; "" or a language
	// without templates falls back to English. Templates are chosen by
	// exact tag, then base language.
	Locale string
	// TimeZone is the zone times are shown in; nil means UTC.
	TimeZone *time.Location
	// CalendarName is the calendar's display name fetched by the engine
	// when readable ("" if not); it wins over the notification's own.
	CalendarName string
	// UnsubscribeURL is the one-click (RFC 8058) unsubscribe URL the
	// engine built, http or https; "" means no List-Unsubscribe headers
	// and no unsubscribe link.
	UnsubscribeURL string
	// PreferencesURL is the signed link to the recipient's preference
	// page, http or https; "" means no "manage notifications" link.
	PreferencesURL string
	// MessageIDDomain is the right-hand side of the Message-ID. When
	// empty, Render leaves the domain out ("<notifyd.ID>") and the
	// [Sender] completes it with its From address's domain.
	MessageIDDomain string
	// DeliveryID is the stable identifier of this delivery; the
	// Message-ID is "<notifyd.DELIVERYID@domain>", so a retried send is
	// recognisably the same message. Empty means the Sender makes a
	// random Message-ID.
	DeliveryID string
}

// Renderer writes notifications as emails from templates. It is safe for
// concurrent use.
type Renderer struct {
	langs map[string]*langTemplates
}

// langTemplates are one language's parsed templates, by notification type
// (message.Generic included).
type langTemplates struct {
	lang  string
	text  map[string]*texttemplate.Template
	html  map[string]*htmltemplate.Template
	files map[string]bool // type names that have their own file
}

// NewRenderer loads the built-in templates (embedded with go:embed),
// overridden per file by those found in dir (if dir != ""); templates are
// text/template for subject and text part, html/template for the HTML part,
// per notification type with a generic fallback.
//
// dir is laid out like the built-in set: dir/LANG/TYPE.tmpl (TYPE a
// notification type, or "generic"), and dir/LANG/_NAME.tmpl for shared
// definitions. A file there replaces the built-in file of the same path;
// a new LANG directory adds a language (it needs a generic.tmpl).
func NewRenderer(dir string) (*Renderer, error) {
	sub, err := fs.Sub(builtinTemplates, "templates")
	if err != nil {
		return nil, err
	}
	files, err := message.LoadTemplates(sub, dir)
	if err != nil {
		return nil, fmt.Errorf("email %w", err)
	}
	r := &Renderer{langs: map[string]*langTemplates{}}
	for lang := range files {
		lt, err := parseLang(lang, files)
		if err != nil {
			return nil, err
		}
		r.langs[lang] = lt
	}
	// A template that parses but cannot run (html/template's context
	// errors, a missing definition) is reported now.
	err = files.Check(func(lang, typ string, n *notifyd.Notification) error {
		in := sampleInput
		in.Notification, in.Locale = n, lang
		if _, err := r.Render(in); err != nil {
			return fmt.Errorf("email templates %s/%s.tmpl: %w", lang, typ, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for lang := range files {
		in := sampleDigest()
		in.Locale = lang
		if _, err := r.RenderDigest(in); err != nil {
			return nil, fmt.Errorf("email templates %s/_digest.tmpl: %w", lang, err)
		}
	}
	return r, nil
}

// sampleInput is what NewRenderer checks templates with: every field set
// (the notification is [message.Sample]).
var sampleInput = RenderInput{
	System: "system", Principal: "/principals/wilma/", Recipient: "wilma@example.org",
	UnsubscribeURL: "https://example.org/unsubscribe", PreferencesURL: "https://example.org/preferences/x", DeliveryID: "check", MessageIDDomain: "example.org",
}

// parseLang parses one language's files: for each type, its
// [message.Files.Layers].
func parseLang(lang string, files message.Files) (*langTemplates, error) {
	lt := &langTemplates{
		lang:  lang,
		text:  map[string]*texttemplate.Template{},
		html:  map[string]*htmltemplate.Template{},
		files: map[string]bool{},
	}
	for _, typ := range files.Types(lang) {
		tt := texttemplate.New(typ).Funcs(textFuncs)
		ht := htmltemplate.New(typ).Funcs(htmlFuncs)
		if typ != message.Generic {
			lt.files[typ] = true
		}
		for _, src := range files.Layers(lang, typ) {
			if _, err := tt.New(src.Name).Parse(src.Text); err != nil {
				return nil, fmt.Errorf("email template %s: %w", src.Name, err)
			}
			if _, err := ht.New(src.Name).Parse(src.Text); err != nil {
				return nil, fmt.Errorf("email template %s: %w", src.Name, err)
			}
		}
		for _, part := range []string{"subject", "text", "html"} {
			if tt.Lookup(part) == nil {
				return nil, fmt.Errorf("email template %s/%s.tmpl: no %q defined (nor in %s.tmpl)", lang, typ, part, message.Generic)
			}
		}
		lt.text[typ] = tt
		lt.html[typ] = ht
	}
	return lt, nil
}

// Template functions; the same names exist for both engines.
var (
	textFuncs = texttemplate.FuncMap(message.Funcs(message.Truncate))
	htmlFuncs = htmltemplate.FuncMap(message.Funcs(message.Truncate))
)

// Render writes the message for in.
func (r *Renderer) Render(in RenderInput) (*Message, error) {
	n := in.Notification
	if n == nil {
		return nil, errors.New("email: render: no notification")
	}
	to, err := checkRecipient(in.Recipient)
	if err != nil {
		return nil, err
	}
	msgID, err := messageID(in.DeliveryID, in.MessageIDDomain)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
	}
	if in.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(in.UnsubscribeURL); err != nil {
			return nil, err
		}
		headers["List-Unsubscribe"] = "<" + in.UnsubscribeURL + ">"
		headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}

	lt, tag := r.pick(in.Locale)
	typ := string(n.Type)
	if !lt.files[typ] {
		typ = message.Generic
	}
	v, shortened := newView(in, lt.lang, tag, message.MaxFieldRunes)

	subject, _, err := message.Execute(maxSubjectBytes, func(w io.Writer) error {
		return lt.text[typ].ExecuteTemplate(w, "subject", v)
	})
	if err != nil {
		return nil, fmt.Errorf("email: render %s subject: %w", typ, err)
	}
	v.Subject = message.Truncate(clean.Line(subject), maxSubjectRunes)
	if v.Subject == "" {
		return nil, fmt.Errorf("email: render %s: empty subject", typ)
	}
	p, err := lt.body(typ, v)
	if err != nil {
		return nil, err
	}
	if !p.fit() {
		shortened = true
		if p, err = lt.fit(typ, in, tag, v.Subject); err != nil {
			return nil, err
		}
	}
	text, html := p.text, p.html
	ics, icsCut := reminderAttachment(n)
	if icsCut {
		shortened = true
	}
	if shortened {
		note := message.ShortenedNote(lt.lang, message.TextSize(n), v.Calendar)
		text, html = noteText(text, note), noteHTML(html, note)
	}
	m := &Message{
		To:        to,
		Subject:   v.Subject,
		Text:      text,
		HTML:      html,
		Headers:   headers,
		MessageID: msgID,
	}
	if ics != nil {
		m.Attachments = []Attachment{*ics}
	}
	m.Calendar = schedulingPart(n)
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// pick returns the templates for a locale (see [message.Pick]) and the
// lower-case tag.
func (r *Renderer) pick(locale string) (*langTemplates, string) {
	lang, tag := message.Pick(r.langs, locale)
	return r.langs[lang], tag
}

// checkRecipient validates the recipient address.
func checkRecipient(addr string) (string, error) {
	if strings.ContainsAny(addr, "\r\n") {
		return "", fmt.Errorf("email: recipient: %w", errInjection)
	}
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("email: no recipient")
	}
	if _, err := mail.ParseAddress(addr); err != nil {
		return "", fmt.Errorf("email: recipient %q: %w", addr, err)
	}
	return addr, nil
}

// messageID returns "<notifyd.ID@domain>" ("<notifyd.ID>" without domain,
// "" without ID).
func messageID(id, domain string) (string, error) {
	if id == "" {
		return "", nil
	}
	if strings.ContainsAny(id+domain, "\r\n") {
		return "", fmt.Errorf("email: delivery ID or Message-ID domain: %w", errInjection)
	}
	for _, c := range id {
		if !isIDChar(c) {
			return "", fmt.Errorf("email: delivery ID %q: only letters, digits and . - _ + = ~ are allowed", id)
		}
	}
	if domain == "" {
		return "<notifyd." + id + ">", nil
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	return "<notifyd." + id + "@" + domain + ">", nil
}

func isIDChar(c rune) bool {
	return c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_+=~", c))
}

// checkDomain validates a Message-ID's right-hand side: a host name.
func checkDomain(d string) error {
	if len(d) > 253 {
		return fmt.Errorf("email: Message-ID domain %q is too long", d)
	}
	for _, c := range d {
		if !(c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
			return fmt.Errorf("email: Message-ID domain %q: only letters, digits, - and . are allowed", d)
		}
	}
	return nil
}

// checkUnsubscribeURL accepts an absolute http(s) URL that fits in a
// header between angle brackets.
func checkUnsubscribeURL(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("email: unsubscribe URL: %w", errInjection)
	}
	if len(s) > 900 {
		return errors.New("email: unsubscribe URL is longer than 900 bytes")
	}
	for _, c := range s {
		if c <= ' ' || c == '<' || c == '>' || c == '"' || c >= utf8.RuneSelf || c == 0x7f {
			return fmt.Errorf("email: unsubscribe URL %q has a character that must be percent-encoded", s)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("email: unsubscribe URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("email: unsubscribe URL %q is not an absolute http(s) URL", s)
	}
	return nil
}

// view is the data templates are executed with (see the package
// documentation).
type view struct {
	message.View
	Recipient      string
	UnsubscribeURL string
	PreferencesURL string
	Subject        string
}

// newView is the view of in with each free-text field cut to maxRunes
// characters; shortened reports whether one was.
func newView(in RenderInput, lang, tag string, maxRunes int) (v *view, shortened bool) {
	tf := message.NewTimeFormat(message.Long, lang, tag, in.TimeZone)
	mv, shortened := clean.ShortView(in.Notification, in.System, in.Principal, in.CalendarName, tf, lang, tag, maxRunes)
	return &view{
		View:           mv,
		Recipient:      clean.Line(in.Recipient),
		UnsubscribeURL: in.UnsubscribeURL,
		PreferencesURL: preferencesURL(in.PreferencesURL),
	}, shortened
}

// preferencesURL is u if it is a link a message may carry (the checks of
// an unsubscribe URL), else "" (no link rather than a broken one).
func preferencesURL(u string) string {
	if u == "" || checkUnsubscribeURL(u) != nil {
		return ""
	}
	return u
}

// clean cleans the text templates see.
var clean message.Cleaner

// tidyText trims trailing spaces from lines (keeping the "-- " signature
// separator), drops leading and trailing blank lines and shrinks runs of
// blank lines to one, so templates can be laid out freely.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "--" {
			l = "-- "
		}
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}
