package api

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// PreferenceStore keeps what the preference page needs besides the
// subscription: link revocations and the delivery log. store.DB
// implements it.
type PreferenceStore interface {
	PreferenceLinksRevokedAt(ctx context.Context, id string) (time.Time, error)
	RevokePreferenceLinks(ctx context.Context, id string, at time.Time) error
	RecentDeliveries(ctx context.Context, system, principal, id string, limit int) ([]store.RecentDelivery, error)
}

// PreferencePage configures the preference page (GET and POST
// /preferences/{token}) and the API calls that issue and revoke its
// links.
type PreferencePage struct {
	// Links signs and checks the links.
	Links *subscriptions.PreferenceLinker
	// Store keeps revocations and the delivery log.
	Store PreferenceStore
	// BaseURL is notifyd's public base URL, for the links the API issues.
	BaseURL string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (p *PreferencePage) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// recentLimit is how many of the last messages the page shows.
const recentLimit = 20

// prefCSP is the preference page's Content-Security-Policy: its one
// stylesheet from notifyd, forms posting to notifyd, nothing else (no
// script, no image, no frame, in no frame).
const prefCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed prefpage
var prefFiles embed.FS

var (
	prefPageTmpl = template.Must(template.ParseFS(prefFiles, "prefpage/page.html"))
	prefMsgTmpl  = template.Must(template.ParseFS(prefFiles, "prefpage/message.html"))
	prefCSS      = mustRead(prefFiles, "prefpage/preferences.css")
)

func mustRead(fs embed.FS, name string) []byte {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// prefHeaders are the headers of every preference page answer.
func prefHeaders(c *gin.Context) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Content-Security-Policy", prefCSP)
	c.Header("Cache-Control", "no-store")
}

// prefMessage answers a page that only says something (a bad link).
func prefMessage(c *gin.Context, status int, lang, what string) {
	prefHeaders(c)
	c.Status(status)
	prefMsgTmpl.Execute(c.Writer, struct{ Lang, Title, Text string }{
		lang, prefT(lang, "err."+what+".title"), prefT(lang, "err."+what+".text")})
	c.Abort()
}

// preferenceCSS serves the page's stylesheet.
func (s *Server) preferenceCSS(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", prefCSS)
}

// openPrefLink checks the link of the request and reads its subscription;
// when it cannot be used it has answered with a page saying why, in the
// person's language, and returns nil.
func (s *Server) openPrefLink(c *gin.Context) (*notifyd.Subscription, subscriptions.PreferenceLink) {
	accept := c.GetHeader("Accept-Language")
	lang := prefLang(c.Query("lang"), "", accept)
	if s.pref == nil {
		prefMessage(c, http.StatusNotFound, lang, "invalid")
		return nil, subscriptions.PreferenceLink{}
	}
	link, err := s.pref.Links.Check(c.Param("token"))
	if errors.Is(err, subscriptions.ErrPreferenceLinkInvalid) {
		prefMessage(c, http.StatusForbidden, lang, "invalid")
		return nil, link
	}
	ctx := c.Request.Context()
	sub, serr := s.subs.Get(ctx, link.SubscriptionID)
	if serr == nil {
		lang = prefLang(c.Query("lang"), sub.Locale, accept)
	}
	if err != nil { // expired
		prefMessage(c, http.StatusGone, lang, "expired")
		return nil, link
	}
	switch {
	case errors.Is(serr, notifyd.ErrNotFound):
		prefMessage(c, http.StatusNotFound, lang, "gone")
		return nil, link
	case serr != nil:
		s.prefUnavailable(c, lang, serr)
		return nil, link
	}
	revoked, err := s.pref.Store.PreferenceLinksRevokedAt(ctx, sub.ID)
	if err != nil {
		s.prefUnavailable(c, lang, err)
		return nil, link
	}
	if link.RevokedBy(revoked) {
		prefMessage(c, http.StatusGone, lang, "revoked")
		return nil, link
	}
	return sub, link
}

// prefUnavailable answers 503 when the database cannot be read or written.
func (s *Server) prefUnavailable(c *gin.Context, lang string, err error) {
	s.log.Error("preference page: database", "request_id", c.GetString(ctxRequestID), "err", err)
	c.Header("Retry-After", "5")
	prefMessage(c, http.StatusServiceUnavailable, lang, "busy")
}

// preferencePage shows the page of a link's subscription.
func (s *Server) preferencePage(c *gin.Context) {
	sub, _ := s.openPrefLink(c)
	if sub == nil {
		return
	}
	lang := prefLang(c.Query("lang"), sub.Locale, c.GetHeader("Accept-Language"))
	notice := ""
	switch c.Query("done") {
	case "saved", "unsubscribed", "resumed":
		notice = prefT(lang, c.Query("done"))
	}
	s.renderPrefPage(c, http.StatusOK, sub, lang, formFromSubscription(sub), nil, notice)
}

// renderPrefPage answers the page of sub showing form, with errs by field.
func (s *Server) renderPrefPage(c *gin.Context, status int, sub *notifyd.Subscription, lang string, form *prefForm,
	errs []prefError, notice string) {
	recent, err := s.pref.Store.RecentDeliveries(c.Request.Context(), sub.System, sub.Principal, sub.ID, recentLimit)
	if err != nil {
		s.prefUnavailable(c, lang, err)
		return
	}
	token := c.Param("token")
	v := newPrefView(sub, lang, form, errs, recent)
	v.Token, v.CSRF, v.Notice = token, s.pref.Links.FormToken(token), notice
	prefHeaders(c)
	c.Status(status)
	if err := prefPageTmpl.Execute(c.Writer, v); err != nil {
		s.log.Error("preference page: template", "request_id", c.GetString(ctxRequestID), "err", err)
	}
}

// sameOrigin reports whether a form post comes from notifyd's own page,
// as the browser says (Fetch Metadata); a client that does not say is
// judged by the form token alone.
func sameOrigin(c *gin.Context) bool {
	switch c.GetHeader("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// postPreferences takes the page's forms: save, stop everything, resume.
// Every change needs the link's form token (CSRF) and is refused, with
// nothing changed, when the link cannot be used.
func (s *Server) postPreferences(c *gin.Context) {
	sub, link := s.openPrefLink(c)
	if sub == nil {
		return
	}
	body, _ := c.Value(ctxBody).([]byte)
	values, _ := url.ParseQuery(string(body))
	lang := prefLang(values.Get("lang"), sub.Locale, c.GetHeader("Accept-Language"))
	if !s.pref.Links.CheckFormToken(c.Param("token"), values.Get("csrf")) || !sameOrigin(c) {
		prefMessage(c, http.StatusForbidden, lang, "csrf")
		return
	}
	// The audit trail records the page's changes as the recipient's.
	ctx := store.WithAudit(c.Request.Context(), store.Audit{Actor: store.ActorRecipient})
	done := ""
	switch values.Get("action") {
	case "unsubscribe", "resume":
		on := values.Get("action") == "resume"
		if _, err := s.subs.Patch(ctx, sub.ID, subscriptions.Patch{Enabled: &on}, 0); err != nil {
			s.prefWriteFailed(c, lang, err)
			return
		}
		done = map[bool]string{false: "unsubscribed", true: "resumed"}[on]
		s.log.Info("subscription switched by its recipient (preference page)", "subscription", sub.ID, "enabled", on)
	default:
		form := formFromValues(values, sub)
		patch, errs := form.patch(sub, lang)
		if len(errs) > 0 {
			s.renderPrefPage(c, http.StatusBadRequest, sub, lang, form, errs, "")
			return
		}
		version, _ := strconv.ParseInt(values.Get("version"), 10, 64)
		_, err := s.subs.Patch(ctx, sub.ID, patch, version)
		var verr notifyd.ValidationError
		switch {
		case errors.Is(err, notifyd.ErrConflict):
			cur, gerr := s.subs.Get(ctx, sub.ID)
			if gerr != nil {
				s.prefWriteFailed(c, lang, gerr)
				return
			}
			s.renderPrefPage(c, http.StatusConflict, cur, lang, formFromSubscription(cur), nil, prefT(lang, "conflict"))
			return
		case errors.As(err, &verr):
			s.renderPrefPage(c, http.StatusBadRequest, sub, lang, form, form.mapErrors(verr, sub, lang), "")
			return
		case err != nil:
			s.prefWriteFailed(c, lang, err)
			return
		}
		done = "saved"
		s.log.Info("preferences changed by their recipient (preference page)", "subscription", sub.ID,
			"link_issued", link.Issued)
	}
	// Post/Redirect/Get: reloading the page does not post again.
	c.Redirect(http.StatusSeeOther, c.Param("token")+"?lang="+url.QueryEscape(lang)+"&done="+done)
}

// prefWriteFailed answers a write that failed for another reason than the
// person's input.
func (s *Server) prefWriteFailed(c *gin.Context, lang string, err error) {
	if errors.Is(err, notifyd.ErrNotFound) {
		prefMessage(c, http.StatusNotFound, lang, "gone")
		return
	}
	s.prefUnavailable(c, lang, err)
}
