package api

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"

	"github.com/gin-gonic/gin"
)

// baseCSP is the Content-Security-Policy of every response that is not
// one of notifyd's web pages (JSON, problems, YAML, metrics): a browser
// opening one loads nothing from it, runs nothing, frames it nowhere.
const baseCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders is the middleware of every response: the strict
// baseCSP, and headers that keep a browser from sniffing another media
// type than the one sent (nosniff), from framing the response
// (X-Frame-Options, for browsers without frame-ancestors) and from
// telling the next site the URL, which may carry a token (Referrer-Policy).
// A web page replaces the CSP with its own (htmlPage.render).
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", baseCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// htmlPage is a web page of notifyd (the unsubscribe pages; the preference
// page and the console to come): an html/template and the
// Content-Security-Policy that lets it do what it needs and no more. Its
// style is one <style> element allowed by its hash (no style attributes,
// no scripts), and its forms post to notifyd itself.
type htmlPage struct {
	tmpl *template.Template
	csp  string
}

// newHTMLPage parses doc, an html/template of a whole document that
// writes {{stylesheet}} in its <head> for the <style> element holding css.
func newHTMLPage(name, css, doc string) *htmlPage {
	sum := sha256.Sum256([]byte(css))
	style := template.HTML("<style>" + css + "</style>")
	return &htmlPage{
		tmpl: template.Must(template.New(name).Funcs(template.FuncMap{
			"stylesheet": func() template.HTML { return style },
		}).Parse(doc)),
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
}

// render answers the page with status and data: HTML with the page's CSP
// and Cache-Control: no-store (the pages' URLs carry tokens, and what they
// show is about one person).
func (p *htmlPage) render(c *gin.Context, status int, data any) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Content-Security-Policy", p.csp)
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	p.tmpl.Execute(c.Writer, data)
}
