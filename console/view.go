package console

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// csp is the console pages' Content-Security-Policy: its stylesheet and
// script from the console, frames (the email preview) from the console,
// forms posting to the console; nothing inline, nothing from elsewhere,
// in no frame.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// view is what every page's template gets: the layout's data and the
// page's own (Data).
type view struct {
	Lang, Title, CSRF, Next, Path string
	Notice                        string
	NoticeError                   bool
	// Who is the signed-in identity (nil on the sign-in page).
	Who *Identity
	// Nav is the current section, for aria-current.
	Nav  string
	Data any
}

// T is the console's text of key in the view's language.
func (v *view) T(key string) string { return t(v.Lang, key) }

// CanChange reports whether the signed-in identity may change things.
func (v *view) CanChange() bool { return v.Who != nil && v.Who.CanChange() }

// OtherLangs are the languages to switch to.
func (v *view) OtherLangs() []langOption {
	var out []langOption
	for _, l := range langs {
		if l != v.Lang {
			out = append(out, langOption{Code: l, Name: langNames[l]})
		}
	}
	return out
}

type langOption struct{ Code, Name string }

// view starts the view of a page titled by key.
func (c *Console) view(r *http.Request, s *session, titleKey string) *view {
	v := &view{Lang: c.lang(r, s), Path: r.URL.RequestURI()}
	v.Title = v.T(titleKey)
	if s != nil {
		who := s.who
		v.Who, v.CSRF = &who, s.CSRF
	}
	return v
}

// langs are the console's languages, English first (the fallback).
var langs = []string{"en", "fr"}

var langNames = map[string]string{"en": "English", "fr": "Français"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// baseLang is the console language of a tag ("fr-CA": "fr"), or "".
func baseLang(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	if _, ok := texts[base]; ok {
		return base
	}
	return ""
}

// lang is the request's language: the session's choice, the language
// cookie's, the best of Accept-Language, else English.
func (c *Console) lang(r *http.Request, s *session) string {
	if s != nil && s.Lang != "" {
		return s.Lang
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if l := baseLang(ck.Value); l != "" {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) > 0 {
		if _, i, conf := matcher.Match(tags...); conf != language.No {
			return langs[i]
		}
	}
	return "en"
}

// render answers a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, v *view) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	if err := parsed[name].ExecuteTemplate(w, "layout", v); err != nil {
		c.log.Error("console: template", "page", name, "err", err)
	}
}

// message answers a page that only says something, under status.
func (c *Console) message(w http.ResponseWriter, r *http.Request, s *session, status int, key string) {
	v := c.view(r, s, key+".title")
	v.Data = v.T(key + ".text")
	c.render(w, status, "message.html", v)
}

// unavailable answers 503 when the database cannot be read or written.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, s *session, err error) {
	c.log.Error("console: database", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	c.message(w, r, s, http.StatusServiceUnavailable, "err.busy")
}

// asset serves the stylesheet and the script.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	types := map[string]string{"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
	ct, ok := types[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := files.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// funcs are the templates' functions.
var funcs = template.FuncMap{
	"iso":   iso,
	"query": url.QueryEscape,
	"when":  when,
	"rows": func(v *view, rows []deliveryRow, sel bool) tableData {
		return tableData{V: v, Rows: rows, Select: sel}
	},
	"nrows": func(v *view, rows []deadNotificationRow, sel bool) notificationTable {
		return notificationTable{V: v, Rows: rows, Select: sel}
	},
}

// notificationTable is what the dead notification table template gets.
type notificationTable struct {
	V      *view
	Rows   []deadNotificationRow
	Select bool
}

// tableData is what the delivery table template gets.
type tableData struct {
	V      *view
	Rows   []deliveryRow
	Select bool
}

// when writes a time for the console (UTC, to the second).
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// iso writes a time for a <time> element's datetime.
func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
