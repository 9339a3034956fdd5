package email

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

//go:embed all:templates
var builtinTemplates embed.FS

// defaultLang is the language used when the recipient's is not available.
const defaultLang = "en"

// genericType names the template file every language has, used for types
// without their own.
const genericType = "generic"

// maxSubjectRunes caps a subject's length; longer ones are cut with "…".
const maxSubjectRunes = 200

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
// (genericType included).
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
	files := map[string]map[string][]byte{} // lang → file name → content
	add := func(fsys fs.FS, origin string) error {
		langs, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return fmt.Errorf("email templates %s: %w", origin, err)
		}
		for _, l := range langs {
			if !l.IsDir() || strings.HasPrefix(l.Name(), ".") {
				continue
			}
			lang := strings.ReplaceAll(strings.ToLower(l.Name()), "_", "-")
			entries, err := fs.ReadDir(fsys, l.Name())
			if err != nil {
				return fmt.Errorf("email templates %s: %w", origin, err)
			}
			for _, e := range entries {
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
					continue
				}
				b, err := fs.ReadFile(fsys, path.Join(l.Name(), e.Name()))
				if err != nil {
					return fmt.Errorf("email templates %s: %w", origin, err)
				}
				if files[lang] == nil {
					files[lang] = map[string][]byte{}
				}
				files[lang][e.Name()] = b
			}
		}
		return nil
	}
	sub, err := fs.Sub(builtinTemplates, "templates")
	if err != nil {
		return nil, err
	}
	if err := add(sub, "(built in)"); err != nil {
		return nil, err
	}
	if dir != "" {
		if err := add(os.DirFS(dir), dir); err != nil {
			return nil, err
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
		return nil, errors.New("email templates: no English (en) templates")
	}
	// Render every template once, so that a template that parses but
	// cannot run (html/template's context errors, a missing definition)
	// is reported now rather than at the first notification of its kind.
	for lang, lt := range r.langs {
		for typ := range lt.text {
			in := sampleInput
			n := *sampleInput.Notification
			n.Type = notifyd.NotificationType(typ)
			in.Notification, in.Locale = &n, lang
			if _, err := r.Render(in); err != nil {
				return nil, fmt.Errorf("email templates %s/%s.tmpl: %w", lang, typ, err)
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
	System: "system", Principal: "/principals/wilma/", Recipient: "wilma@example.org",
	UnsubscribeURL: "https://example.org/unsubscribe", DeliveryID: "check", MessageIDDomain: "example.org",
}

// parseLang parses one language's files: for each type, its shared files
// (its own, else English's), then generic.tmpl, then the type's file, so a
// definition the type's file lacks comes from generic.tmpl.
func parseLang(lang string, fl, english map[string][]byte) (*langTemplates, error) {
	_, ok := fl[genericType+".tmpl"]
	if !ok {
		return nil, fmt.Errorf("email templates: language %q has no %s.tmpl", lang, genericType)
	}
	var shared []string
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
	for name := range sharedSrc {
		shared = append(shared, name)
	}
	sort.Strings(shared)

	lt := &langTemplates{
		lang:  lang,
		text:  map[string]*texttemplate.Template{},
		html:  map[string]*htmltemplate.Template{},
		files: map[string]bool{},
	}
	types := []string{genericType}
	for name := range fl {
		if !strings.HasPrefix(name, "_") && name != genericType+".tmpl" {
			types = append(types, strings.TrimSuffix(name, ".tmpl"))
		}
	}
	for _, typ := range types {
		tt := texttemplate.New(typ).Funcs(textFuncs)
		ht := htmltemplate.New(typ).Funcs(htmlFuncs)
		srcs := make([]string, 0, len(shared)+2)
		srcs = append(srcs, shared...)
		srcs = append(srcs, genericType+".tmpl")
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
			if _, err := tt.New(where).Parse(string(b)); err != nil {
				return nil, fmt.Errorf("email template %s: %w", where, err)
			}
			if _, err := ht.New(where).Parse(string(b)); err != nil {
				return nil, fmt.Errorf("email template %s: %w", where, err)
			}
		}
		for _, part := range []string{"subject", "text", "html"} {
			if tt.Lookup(part) == nil {
				return nil, fmt.Errorf("email template %s/%s.tmpl: no %q defined (nor in %s.tmpl)", lang, typ, part, genericType)
			}
		}
		lt.text[typ] = tt
		lt.html[typ] = ht
	}
	return lt, nil
}

// Template functions; the same names exist for both engines.
var (
	commonFuncs = map[string]any{
		"join":  strings.Join,
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"truncate": func(n int, s string) string {
			return truncate(s, n)
		},
	}
	textFuncs = texttemplate.FuncMap(commonFuncs)
	htmlFuncs = htmltemplate.FuncMap(commonFuncs)
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
		typ = genericType
	}
	v := newView(in, lt.lang, tag)

	var buf bytes.Buffer
	if err := lt.text[typ].ExecuteTemplate(&buf, "subject", v); err != nil {
		return nil, fmt.Errorf("email: render %s subject: %w", typ, err)
	}
	v.Subject = truncate(oneLine(buf.String()), maxSubjectRunes)
	if v.Subject == "" {
		return nil, fmt.Errorf("email: render %s: empty subject", typ)
	}
	buf.Reset()
	if err := lt.text[typ].ExecuteTemplate(&buf, "text", v); err != nil {
		return nil, fmt.Errorf("email: render %s text: %w", typ, err)
	}
	text := tidyText(buf.String())
	buf.Reset()
	if err := lt.html[typ].ExecuteTemplate(&buf, "html", v); err != nil {
		return nil, fmt.Errorf("email: render %s html: %w", typ, err)
	}
	html := strings.TrimSpace(buf.String())
	if html != "" {
		html += "\n"
	}
	m := &Message{
		To:        to,
		Subject:   v.Subject,
		Text:      text,
		HTML:      html,
		Headers:   headers,
		MessageID: msgID,
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
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
	Type           string
	System         string
	Principal      string
	Account        string
	Recipient      string
	From           string
	FromEmail      string
	Calendar       string
	Access         string
	Status         string
	Summary        string
	Event          *eventView
	Changes        []changeView
	ChangedBy      string
	Fields         []fieldView
	UnsubscribeURL string
	Subject        string
	Lang           string
	Locale         string
	TimeZone       string
	Notification   *notifyd.Notification

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
	Location   string
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
		Type:           string(n.Type),
		System:         oneLine(in.System),
		Principal:      oneLine(in.Principal),
		Account:        lastSegment(in.Principal),
		Recipient:      oneLine(in.Recipient),
		Access:         oneLine(strings.ToLower(n.Access)),
		Status:         oneLine(n.Status),
		Summary:        oneLine(n.Summary),
		UnsubscribeURL: in.UnsubscribeURL,
		Lang:           lang,
		Locale:         tag,
		TimeZone:       loc.String(),
		Notification:   n,
		tf:             newTimeFormat(lang, tag, loc),
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
	}
	by := ""
	sameBy := true
	for i, c := range n.Changes {
		cv := changeView{
			Kind:    oneLine(strings.ToLower(c.Kind)),
			Summary: oneLine(c.Summary),
		}
		cv.By, _ = personName(c.By)
		if cv.By == "" {
			cv.By = v.From // From is "the user who changed a resource"
		}
		for _, p := range c.Properties {
			if p = oneLine(strings.ToUpper(p)); p != "" {
				cv.Properties = append(cv.Properties, p)
			}
		}
		// The notification's event is the changed one when there is one
		// change, or when the hrefs match.
		if v.Event != nil && (len(n.Changes) == 1 || (c.Href != "" && c.Href == n.Event.Href)) {
			if cv.Summary == "" {
				cv.Summary = v.Event.Summary
			}
			cv.When = v.Event.When
			cv.Location = v.Event.Location
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
			v.Fields = append(v.Fields, fieldView{Name: name, Label: humanize(name), Value: val})
		}
	}
	sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	return v
}

// personName names a person: common name (and their mailto address, if
// any), else the mailto address, else the last path segment of the href.
func personName(p notifyd.Person) (name, email string) {
	addr := ""
	if len(p.Href) > 7 && strings.EqualFold(p.Href[:7], "mailto:") {
		a := p.Href[7:]
		if u, err := url.PathUnescape(a); err == nil {
			a = u
		}
		addr = oneLine(a)
	}
	if cn := oneLine(p.CommonName); cn != "" {
		return cn, addr
	}
	if addr != "" {
		return addr, ""
	}
	return lastSegment(p.Href), ""
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

// oneLine makes s safe to show on one line: control characters (line breaks
// included) become spaces, bidirectional overrides and other format
// characters go, runs of spaces shrink to one, ends are trimmed.
func oneLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f || c >= utf8.RuneSelf || (c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
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
		case unicode.Is(unicode.Cf, r):
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

// truncate cuts s to at most n runes, at a word boundary when one is near,
// ending with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 2 {
		return s
	}
	end, runes := len(s), 0
	for i := range s {
		if runes == n-1 {
			end = i
			break
		}
		runes++
	}
	t := s[:end]
	if sp := strings.LastIndexByte(t, ' '); sp > len(t)*3/4 {
		t = t[:sp]
	}
	return strings.TrimRight(t, " ,;:.") + "…"
}

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

// humanize turns an element name such as "numTickets" or "max-size" into
// "Num tickets", "Max size".
func humanize(name string) string {
	var b strings.Builder
	prevLower := false
	for i, r := range name {
		switch {
		case r == '-' || r == '_':
			b.WriteByte(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			b.WriteByte(' ')
			r = unicode.ToLower(r)
		case i == 0:
			r = unicode.ToUpper(r)
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		b.WriteRune(r)
	}
	return oneLine(b.String())
}
