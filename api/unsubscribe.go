package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// unsubscribeCSS is the style of the unsubscribe pages (allowed by its
// hash: see htmlPage).
const unsubscribeCSS = `body{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5}`

var unsubscribeHTML = newHTMLPage("unsubscribe", unsubscribeCSS, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>{{stylesheet}}</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{with .Next}}<p>{{.}}</p>
{{end}}{{if .Confirm}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Stop these messages</button></form>{{end}}
</body></html>
`)

type pageData struct {
	Title, Text string
	// Next, if set, says what the person can do.
	Next    string
	Confirm bool
}

// showPage answers the unsubscribe page with status and d.
func showPage(c *gin.Context, status int, d pageData) {
	unsubscribeHTML.render(c, status, d)
}

// invalidLinkPage answers a token that is not one notifyd signed.
func invalidLinkPage(c *gin.Context) {
	showPage(c, http.StatusNotFound, pageData{Title: "This link is not valid",
		Text: "It may have been copied incompletely. Use the link in the message you received."})
	c.Abort()
}

// linkGonePage answers a genuine token that expired, or whose delivery
// method was switched on again since the message was sent (410 Gone).
func linkGonePage(c *gin.Context) {
	showPage(c, http.StatusGone, pageData{Title: "This link is no longer valid",
		Text: fmt.Sprintf("Unsubscribe links work for %d days after the message was sent, and stop working when these "+
			"messages are switched back on after an earlier unsubscribe. Nothing was changed.",
			subscriptions.LinkLifetime/(24*time.Hour)),
		Next: "To stop these messages, use the unsubscribe link in the most recent one you received."})
}

// unsubscribePage asks the person to confirm: mail scanners follow links
// with GET, so GET never unsubscribes.
func (s *Server) unsubscribePage(c *gin.Context) {
	link, err := s.unsub.Check(c.Param("token"))
	if errors.Is(err, subscriptions.ErrLinkExpired) {
		linkGonePage(c)
		return
	}
	if err != nil {
		invalidLinkPage(c)
		return
	}
	sub, err := s.subs.Get(c.Request.Context(), link.SubscriptionID)
	if err != nil && !errors.Is(err, notifyd.ErrNotFound) {
		// The contract has no 503 for this page; say so in the log at least.
		s.log.Error("unsubscribe page: cannot read the subscription", "request_id", c.GetString(ctxRequestID),
			"subscription", link.SubscriptionID, "err", err)
	}
	var m *notifyd.DeliveryMethod
	if err == nil {
		m = findMethod(sub, link.MethodID)
	}
	if m == nil {
		showPage(c, http.StatusNotFound, pageData{Title: "Nothing to unsubscribe",
			Text: "This subscription no longer exists; you will not receive these messages."})
		return
	}
	if !link.Current(*m) {
		linkGonePage(c)
		return
	}
	showPage(c, http.StatusOK, pageData{Title: "Stop these calendar notifications?",
		Text: "You will no longer receive calendar notifications at this address through this subscription.", Confirm: true})
}

// unsubscribe is the one-click endpoint of RFC 8058: it disables the
// delivery method the token names.
func (s *Server) unsubscribe(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	link, err := s.unsub.Check(c.Param("token"))
	if errors.Is(err, subscriptions.ErrLinkExpired) {
		linkGonePage(c)
		return
	}
	if err != nil {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "The unsubscribe link is not valid."})
		return
	}
	ctx := store.WithAudit(c.Request.Context(), store.Audit{Actor: store.ActorRecipient, Action: store.ActionSubscriptionUnsubscribed})
	_, err = s.subs.Unsubscribe(ctx, link)
	switch {
	case errors.Is(err, notifyd.ErrNotFound):
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "The subscription or delivery method no longer exists; nothing more will be sent to it."})
		return
	case errors.Is(err, subscriptions.ErrLinkStale):
		linkGonePage(c)
		return
	case err != nil:
		writeError(c, s.log, err)
		return
	}
	s.log.Info("delivery method disabled by its recipient (one-click unsubscribe)",
		"subscription", link.SubscriptionID, "method", link.MethodID)
	showPage(c, http.StatusOK, pageData{Title: "You are unsubscribed",
		Text: "You will no longer receive these calendar notifications at this address."})
}

// findMethod returns sub's delivery method with id, or nil.
func findMethod(sub *notifyd.Subscription, id string) *notifyd.DeliveryMethod {
	for i := range sub.Methods {
		if sub.Methods[i].ID == id {
			return &sub.Methods[i]
		}
	}
	return nil
}
