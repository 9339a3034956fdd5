package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// event is one step of a delivery's timeline.
type event struct {
	When, ISO, What, Detail string
	// Tone is "good", "bad" or "".
	Tone string
}

// deliveryData is a delivery page's.
type deliveryData struct {
	D                *store.DeliveryRecord
	Row              deliveryRow
	Timeline         []event
	N                *store.NotificationRecord
	NJSON            string
	Sub              *notifyd.Subscription
	Preview          Preview
	Dead             bool
	FrameURL         string
	SubscriptionGone bool
	// Suppression is the suppression list's entry of the address of a
	// delivery suppressed or bounced (nil for others).
	Suppression *suppressionOfDelivery
}

// loadDelivery reads a delivery the identity may see; when it cannot, it
// has answered (404 for one of another system, as for none).
func (c *Console) loadDelivery(w http.ResponseWriter, r *http.Request, s *session) (*store.DeliveryRecord, *store.NotificationRecord, bool) {
	ctx := r.Context()
	d, err := c.o.Store.Delivery(ctx, r.PathValue("id"))
	if errors.Is(err, notifyd.ErrNotFound) || err == nil && !s.who.Sees(d.System) {
		c.message(w, r, s, http.StatusNotFound, "err.notfound")
		return nil, nil, false
	}
	if err != nil {
		c.unavailable(w, r, s, err)
		return nil, nil, false
	}
	n, err := c.o.Store.Notification(ctx, d.NotificationID)
	if err != nil {
		c.unavailable(w, r, s, err)
		return nil, nil, false
	}
	return d, n, true
}

// subscriptionOf reads a delivery's subscription; nil when deleted since.
func (c *Console) subscriptionOf(r *http.Request, d *store.DeliveryRecord) (*notifyd.Subscription, error) {
	sub, err := c.o.Subscriptions.Get(r.Context(), d.SubscriptionID)
	if errors.Is(err, notifyd.ErrNotFound) {
		return nil, nil
	}
	return sub, err
}

func (c *Console) deliveryPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, n, ok := c.loadDelivery(w, r, s)
	if !ok {
		return
	}
	sub, err := c.subscriptionOf(r, d)
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	events, err := c.o.Store.DeliveryEvents(r.Context(), d.ID)
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	v := c.view(r, s, "delivery.title")
	v.Nav = "deliveries"
	it := store.DeliveryListItem{DeliveryRecord: *d, NotificationType: n.Type, NotificationHref: n.Href}
	data := &deliveryData{D: d, Row: c.row(v, it), N: n, Sub: sub, SubscriptionGone: sub == nil,
		Dead: d.Status == store.DeliveryFailed, Timeline: timeline(v, d)}
	if len(events) > 0 {
		data.Timeline = history(v, d, events)
	}
	if data.Suppression, err = c.deliverySuppression(r, v, s.who, d); err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, n.Parsed, "", "  ") == nil {
		data.NJSON = pretty.String()
	} else {
		data.NJSON = string(n.Parsed)
	}
	if c.o.Previewer != nil {
		data.Preview = c.o.Previewer.Render(d, n, sub)
		if data.Preview.HTML != "" {
			data.FrameURL = "/console/deliveries/" + d.ID + "/email.html"
		}
	}
	switch r.URL.Query().Get("done") {
	case "retried", "discarded":
		v.Notice = v.T("done." + r.URL.Query().Get("done"))
	}
	v.Data = data
	c.render(w, http.StatusOK, "delivery.html", v)
}

// timeline is what the store knows of a delivery made before its history
// was kept (delivery_events), in order: made (queued), queued again by an
// operator, the attempts with the provider's last reply, and where it
// ended.
func timeline(v *view, d *store.DeliveryRecord) []event {
	var out []event
	add := func(t time.Time, what, detail, tone string) {
		out = append(out, event{When: when(t), ISO: iso(t), What: what, Detail: detail, Tone: tone})
	}
	add(d.CreatedAt, v.T("tl.queued"), "", "")
	if d.QueuedAt.After(d.CreatedAt) {
		add(d.QueuedAt, v.T("tl.requeued"), "", "")
	}
	if d.Attempts > 0 && (d.Status == store.DeliveryQueued || d.Status == store.DeliveryRetrying) {
		detail := d.LastError
		add(d.UpdatedAt, v.T("tl.attempts")+" "+strconv.Itoa(d.Attempts), detail, map[bool]string{true: "bad"}[detail != ""])
	}
	switch d.Status {
	case store.DeliverySent, store.DeliveryDelivered, store.DeliveryUndelivered:
		detail := ""
		if d.ProviderID != "" {
			detail = v.T("tl.provider") + " " + d.ProviderID
		}
		if d.Attempts > 1 {
			detail += " (" + v.T("tl.attempts") + " " + strconv.Itoa(d.Attempts) + ")"
		}
		add(d.SentAt, v.T("status.sent"), detail, "good")
		if d.Status != store.DeliverySent {
			tone := map[bool]string{true: "good", false: "bad"}[d.Status == store.DeliveryDelivered]
			add(d.UpdatedAt, v.T("status."+d.Status), d.LastError, tone)
		}
	case store.DeliveryFailed, store.DeliveryDiscarded:
		add(d.UpdatedAt, v.T("status."+d.Status)+" ("+v.T("tl.attempts")+" "+strconv.Itoa(d.Attempts)+")", d.LastError, "bad")
	case store.DeliverySkipped, store.DeliverySuppressed, "held":
		add(d.UpdatedAt, v.T("status."+d.Status), d.LastError, "")
	case store.DeliveryQueued, store.DeliveryRetrying:
		add(d.UpdatedAt, v.T("tl.waiting"), "", "")
	}
	return out
}

// emailFrame serves an email's HTML part for the delivery page's
// sandboxed frame: under a CSP of its own that runs nothing, loads
// nothing but inline styles and embedded images, and lets only the
// console frame it.
func (c *Console) emailFrame(w http.ResponseWriter, r *http.Request, s *session) {
	d, n, ok := c.loadDelivery(w, r, s)
	if !ok {
		return
	}
	sub, err := c.subscriptionOf(r, d)
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	if c.o.Previewer == nil {
		c.message(w, r, s, http.StatusNotFound, "err.notfound")
		return
	}
	p := c.o.Previewer.Render(d, n, sub)
	if p.HTML == "" {
		c.message(w, r, s, http.StatusNotFound, "err.notfound")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "+
		"frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	w.Write([]byte(p.HTML))
}
