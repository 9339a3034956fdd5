package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// deadData is the dead letters page's.
type deadData struct {
	Systems, Channels []option
	Rows              []deliveryRow
	Next, First       string
	Retry             bool
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := c.view(r, s, "dead.title")
	v.Nav = "dead"
	system, systems, visible := scope(s.who, q.Get("system"))
	channel := q.Get("channel")
	var channels []string
	for _, ch := range notifyd.Channels {
		channels = append(channels, string(ch))
	}
	d := &deadData{Systems: c.systemOptions(v, s.who, system), Channels: choices(v, "channel.", channels, channel),
		Retry: c.o.Retrier != nil}
	f := store.DeliveryFilter{System: system, Systems: systems, Channel: channel, Newest: true, Limit: pageSize}
	if at, id, ok := parseCursor(q.Get("after")); ok {
		f.AfterTime, f.AfterID = at, id
		d.First = "/console/dead-letters?system=" + urlQueryEscape(system) + "&channel=" + urlQueryEscape(channel)
	}
	if visible {
		items, err := c.o.Store.DeadLetters(r.Context(), f)
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		for _, it := range items {
			d.Rows = append(d.Rows, c.row(v, it))
		}
		if len(items) == pageSize {
			last := items[len(items)-1]
			d.Next = "/console/dead-letters?system=" + urlQueryEscape(system) + "&channel=" + urlQueryEscape(channel) +
				"&after=" + urlQueryEscape(cursor(last.CreatedAt, last.ID))
		}
	}
	if n := q.Get("done"); n != "" {
		v.Notice = v.T("dead.done")
	}
	v.Data = d
	c.render(w, http.StatusOK, "dead.html", v)
}

// maxBulk bounds the deliveries one bulk action names.
const maxBulk = 200

// confirmData is the confirmation page's, and the outcome page's.
type confirmData struct {
	Action, Back string
	Rows         []deliveryRow
	IDs          []string
	Outcomes     []outcome
	Missing      int
}

// outcome is what became of one delivery of a bulk action.
type outcome struct {
	ID, Address, Text string
	OK                bool
}

// deadLettersAction takes the retry and discard forms (one delivery or
// many): first it asks for confirmation, showing what will be done; the
// confirmed form does it, delivery by delivery, and shows what became of
// each. A delivery of a system outside the identity's scope is treated
// as missing.
func (c *Console) deadLettersAction(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PostForm.Get("action")
	if action != "retry" && action != "discard" {
		c.message(w, r, s, http.StatusBadRequest, "err.form")
		return
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 || len(ids) > maxBulk {
		v := c.view(r, s, "dead.title")
		v.Nav = "dead"
		v.Data = v.T("dead.select")
		c.render(w, http.StatusBadRequest, "message.html", v)
		return
	}
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/console/deliveries/") {
		back = "/console/dead-letters"
	}
	ctx := r.Context()
	v := c.view(r, s, "confirm."+action+".title")
	v.Nav = "dead"
	data := &confirmData{Action: action, Back: back}
	v.Data = data
	if r.PostForm.Get("confirm") != "yes" {
		for _, id := range ids {
			d, err := c.o.Store.Delivery(ctx, id)
			switch {
			case errors.Is(err, notifyd.ErrNotFound) || err == nil && !s.who.Sees(d.System):
				data.Missing++
				continue
			case err != nil:
				c.unavailable(w, r, s, err)
				return
			}
			n, err := c.o.Store.Notification(ctx, d.NotificationID)
			if err != nil {
				c.unavailable(w, r, s, err)
				return
			}
			data.Rows = append(data.Rows, c.row(v, store.DeliveryListItem{DeliveryRecord: *d, NotificationType: n.Type}))
			data.IDs = append(data.IDs, id)
		}
		c.render(w, http.StatusOK, "confirm.html", v)
		return
	}
	actx := c.audit(ctx, s.who)
	allOK := true
	for _, id := range ids {
		o := c.fixOne(actx, s.who, action, id)
		if !o.OK {
			allOK = false
		}
		o.Text = v.T(o.Text)
		data.Outcomes = append(data.Outcomes, o)
	}
	if allOK && len(ids) == 1 && back != "/console/dead-letters" {
		http.Redirect(w, r, back+"?done="+map[string]string{"retry": "retried", "discard": "discarded"}[action], http.StatusSeeOther)
		return
	}
	v.Title = v.T("outcome.title")
	c.render(w, http.StatusOK, "outcome.html", v)
}

// fixOne retries or discards one dead letter; Text is the key of what
// became of it.
func (c *Console) fixOne(ctx context.Context, who Identity, action, id string) outcome {
	o := outcome{ID: id}
	d, err := c.o.Store.Delivery(ctx, id)
	if errors.Is(err, notifyd.ErrNotFound) || err == nil && !who.Sees(d.System) {
		o.Text = "outcome.missing"
		return o
	}
	if err != nil {
		c.log.Error("console: read a dead letter", "delivery", id, "err", err)
		o.Text = "outcome.error"
		return o
	}
	o.Address = d.Address
	switch action {
	case "retry":
		if c.o.Retrier == nil {
			o.Text = "outcome.unavailable"
			return o
		}
		_, err = c.o.Retrier.RetryDelivery(ctx, id)
	case "discard":
		err = c.o.Store.DiscardDelivery(ctx, id, c.o.Now())
	}
	o.OK, o.Text = c.outcomeOf(err, who, action, "dead letter", "delivery", id, d.System, "")
	return o
}

// outcomeOf is the key of what became of an action (retry or discard) on
// one dead letter or dead notification (thing, whose ID is logged under
// idKey), which ended with err, and whether it was done; it logs the
// outcome. keyPrefix is put before the keys of its own conflict and
// success texts ("deadn." for dead notifications).
func (c *Console) outcomeOf(err error, who Identity, action, thing, idKey, id, system, keyPrefix string) (bool, string) {
	switch {
	case errors.Is(err, notifyd.ErrConflict):
		return false, keyPrefix + "outcome.conflict"
	case errors.Is(err, notifyd.ErrNotFound):
		return false, "outcome.missing"
	case err != nil:
		c.log.Error("console: "+action+" a "+thing, idKey, id, "err", err)
		return false, "outcome.error"
	}
	c.log.Info("console: "+thing+" "+map[string]string{"retry": "retried", "discard": "discarded"}[action],
		"actor", who.Name, idKey, id, "system", system)
	return true, keyPrefix + "outcome." + action
}

// audit is the context of a change made by who.
func (c *Console) audit(ctx context.Context, who Identity) context.Context {
	if c.o.Audit != nil {
		return c.o.Audit(ctx, who)
	}
	return ctx
}

// deadNotificationRow is a dead notification as the page lists it.
type deadNotificationRow struct {
	ID, When, ISO, System, Principal, Href, Type, Reason string
}

// deadNotificationsData is the dead notifications page's.
type deadNotificationsData struct {
	Systems     []option
	Rows        []deadNotificationRow
	Next, First string
	Retry       bool
}

// deadNotifications lists the notifications set aside as dead (not XML,
// too large, or their rendering failed), with why.
func (c *Console) deadNotifications(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := c.view(r, s, "deadn.title")
	v.Nav = "dead"
	system, systems, visible := scope(s.who, q.Get("system"))
	d := &deadNotificationsData{Systems: c.systemOptions(v, s.who, system), Retry: c.o.Retrier != nil}
	f := store.NotificationFilter{System: system, Systems: systems, Limit: pageSize}
	if at, id, ok := parseCursor(q.Get("after")); ok {
		f.AfterTime, f.AfterID = at, id
		d.First = "/console/dead-notifications?system=" + urlQueryEscape(system)
	}
	if visible {
		items, err := c.o.Store.DeadNotifications(r.Context(), f)
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		for _, n := range items {
			d.Rows = append(d.Rows, deadNotificationRowOf(v, &n))
		}
		if len(items) == pageSize {
			last := items[len(items)-1]
			d.Next = "/console/dead-notifications?system=" + urlQueryEscape(system) + "&after=" +
				urlQueryEscape(cursor(last.CreatedAt, last.ID))
		}
	}
	if q.Get("done") != "" {
		v.Notice = v.T("dead.done")
	}
	v.Data = d
	c.render(w, http.StatusOK, "deadn.html", v)
}

func deadNotificationRowOf(v *view, n *store.NotificationRecord) deadNotificationRow {
	return deadNotificationRow{ID: n.ID, When: when(n.CreatedAt), ISO: iso(n.CreatedAt), System: n.System,
		Principal: n.Principal, Href: n.Href, Type: v.T("type." + n.Type), Reason: n.Error}
}
