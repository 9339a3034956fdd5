package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/notifyd/notifyd"
)

// deadnConfirmData is the confirmation page of a retry or discard of
// dead notifications, and its outcome page.
type deadnConfirmData struct {
	Action   string
	Rows     []deadNotificationRow
	IDs      []string
	Missing  int
	Outcomes []deadnOutcome
}

// deadnOutcome is what became of one dead notification of an action.
type deadnOutcome struct {
	Href, Text string
	OK         bool
}

// deadNotificationsAction takes the retry and discard form of the dead
// notifications (one or many): first it asks for confirmation, showing
// them; the confirmed form does it, one by one, and shows what became of
// each. One of a system outside the identity's scope is treated as
// missing.
func (c *Console) deadNotificationsAction(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PostForm.Get("action")
	if action != "retry" && action != "discard" {
		c.message(w, r, s, http.StatusBadRequest, "err.form")
		return
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 || len(ids) > maxBulk {
		v := c.view(r, s, "deadn.title")
		v.Nav = "dead"
		v.Data = v.T("deadn.select")
		c.render(w, http.StatusBadRequest, "message.html", v)
		return
	}
	ctx := r.Context()
	v := c.view(r, s, "deadn.confirm."+action+".title")
	v.Nav = "dead"
	data := &deadnConfirmData{Action: action}
	v.Data = data
	if r.PostForm.Get("confirm") != "yes" {
		for _, id := range ids {
			n, err := c.o.Store.Notification(ctx, id)
			switch {
			case errors.Is(err, notifyd.ErrNotFound) || err == nil && !s.who.Sees(n.System):
				data.Missing++
				continue
			case err != nil:
				c.unavailable(w, r, s, err)
				return
			}
			data.Rows = append(data.Rows, deadNotificationRowOf(v, n))
			data.IDs = append(data.IDs, id)
		}
		c.render(w, http.StatusOK, "deadnconfirm.html", v)
		return
	}
	actx := c.audit(ctx, s.who)
	for _, id := range ids {
		o := c.fixNotification(actx, s.who, action, id)
		o.Text = v.T(o.Text)
		data.Outcomes = append(data.Outcomes, o)
	}
	v.Title = v.T("outcome.title")
	c.render(w, http.StatusOK, "deadnconfirm.html", v)
}

// fixNotification retries or discards one dead notification; Text is the
// key of what became of it.
func (c *Console) fixNotification(ctx context.Context, who Identity, action, id string) deadnOutcome {
	o := deadnOutcome{Href: id}
	n, err := c.o.Store.Notification(ctx, id)
	if errors.Is(err, notifyd.ErrNotFound) || err == nil && !who.Sees(n.System) {
		o.Text = "outcome.missing"
		return o
	}
	if err != nil {
		c.log.Error("console: read a dead notification", "notification", id, "err", err)
		o.Text = "outcome.error"
		return o
	}
	o.Href = n.Href
	switch action {
	case "retry":
		if c.o.Retrier == nil {
			o.Text = "outcome.unavailable"
			return o
		}
		_, err = c.o.Retrier.RetryNotification(ctx, id)
	case "discard":
		err = c.o.Store.DiscardDeadNotification(ctx, id, c.o.Now())
	}
	o.OK, o.Text = c.outcomeOf(err, who, action, "dead notification", "notification", id, n.System, "deadn.")
	return o
}
