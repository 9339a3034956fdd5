package api

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; line-height: 1.5">
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Confirm}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Stop these messages</button></form>{{end}}
</body></html>
`))

type pageData struct {
	Title, Text string
	Confirm     bool
}

func htmlPage(c *gin.Context, status int, d pageData) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	unsubscribePage.Execute(c.Writer, d)
}

// invalidLinkPage answers a token that is not one notifyd signed.
func invalidLinkPage(c *gin.Context) {
	htmlPage(c, http.StatusNotFound, pageData{Title: "This link is not valid",
		Text: "It may have been copied incompletely. Use the link in the message you received."})
	c.Abort()
}

// unsubscribePage asks the person to confirm: mail scanners follow links
// with GET, so GET never unsubscribes.
func (s *Server) unsubscribePage(c *gin.Context) {
	subID, methodID, ok := s.unsub.Check(c.Param("token"))
	if !ok {
		invalidLinkPage(c)
		return
	}
	sub, err := s.subs.Get(c.Request.Context(), subID)
	if err != nil && !errors.Is(err, notifyd.ErrNotFound) {
		// The contract has no 503 for this page; say so in the log at least.
		s.log.Error("unsubscribe page: cannot read the subscription", "request_id", c.GetString(ctxRequestID),
			"subscription", subID, "err", err)
	}
	if err != nil || !hasMethod(sub, methodID) {
		htmlPage(c, http.StatusNotFound, pageData{Title: "Nothing to unsubscribe",
			Text: "This subscription no longer exists; you will not receive these messages."})
		return
	}
	htmlPage(c, http.StatusOK, pageData{Title: "Stop these calendar notifications?",
		Text: "You will no longer receive calendar notifications at this address through this subscription.", Confirm: true})
}

// unsubscribe is the one-click endpoint of RFC 8058: it disables the
// delivery method the token names.
func (s *Server) unsubscribe(c *gin.Context) {
	subID, methodID, ok := s.unsub.Check(c.Param("token"))
	if !ok {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "The unsubscribe link is not valid."})
		return
	}
	_, err := s.subs.DisableMethod(c.Request.Context(), subID, methodID)
	if errors.Is(err, notifyd.ErrNotFound) {
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "The subscription or delivery method no longer exists; nothing more will be sent to it."})
		return
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.log.Info("delivery method disabled by its recipient (one-click unsubscribe)", "subscription", subID, "method", methodID)
	htmlPage(c, http.StatusOK, pageData{Title: "You are unsubscribed",
		Text: "You will no longer receive these calendar notifications at this address."})
}

// hasMethod reports whether sub has the delivery method methodID.
func hasMethod(sub *notifyd.Subscription, methodID string) bool {
	for _, m := range sub.Methods {
		if m.ID == methodID {
			return true
		}
	}
	return false
}
