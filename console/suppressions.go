package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// The suppression list's page: the addresses and numbers notifyd does not
// send to, newest first, searched by address or number (whole, or its
// beginning) and filtered by channel and reason; operators and admins add
// an address (reason manual, with a note) and take one off, after a
// confirmation. The list belongs to no system, so an identity scoped to
// systems may neither see nor change it (403), as in the API.

// suppressionChannels are the channels the list holds.
var suppressionChannels = []string{string(notifyd.ChannelEmail), string(notifyd.ChannelSMS)}

// suppressionForm is the list's search, as the form shows it.
type suppressionForm struct {
	Q, Channel, Reason string
}

// addForm is the add form, as posted (shown again with its errors).
type addForm struct {
	Channel, Address, Note string
}

// suppressionRow is an entry as the list shows it.
type suppressionRow struct {
	ID, Channel, ChannelLabel, Address, Reason, ReasonLabel, Detail, Actor, When, ISO string
	// Deliveries is the delivery log's search of the deliveries to the
	// address (the bounced ones for a hard bounce).
	Deliveries, DeliveriesLabel string
	// Cause is the page of the delivery that put the address on the
	// list (a bounce, a complaint, a STOP reply); "" for none.
	Cause string
}

// suppressionsData is the suppression list page's.
type suppressionsData struct {
	Form              suppressionForm
	Channels, Reasons []option
	Rows              []suppressionRow
	Next, First       string
	// Prefix says the search was for addresses starting with Form.Q.
	Prefix      bool
	Add         addForm
	AddChannels []option
	AddErrors   []string
}

// seesSuppressions reports whether the identity may see the list (it is
// not scoped to systems); when it may not, it has answered 403.
func (c *Console) seesSuppressions(w http.ResponseWriter, r *http.Request, s *session) bool {
	if len(s.who.Systems) == 0 {
		return true
	}
	c.log.Warn("console: suppression list refused to a key scoped to systems", "actor", s.who.Name, "path", r.URL.Path)
	c.message(w, r, s, http.StatusForbidden, "err.scoped")
	return false
}

// suppressionFilter is the store's filter of a search: a whole email
// address is looked up; anything else is the beginning of an address or
// a number (every prefix of an E.164 number is one, so a number is
// searched as a prefix: it finds itself).
func suppressionFilter(f suppressionForm) (store.SuppressionFilter, bool) {
	out := store.SuppressionFilter{Channel: f.Channel, Reason: f.Reason, Newest: true, Limit: pageSize}
	if f.Q == "" {
		return out, false
	}
	if _, err := store.NormalizeSuppressionAddress(notifyd.ChannelEmail, f.Q); err == nil {
		out.Address = f.Q
		return out, false
	}
	out.AddressPrefix = f.Q
	return out, true
}

// suppressionsURL is the list's page of f from cursor after.
func suppressionsURL(f suppressionForm, after string) string {
	return withQuery("/console/suppressions", "q", f.Q, "channel", f.Channel, "reason", f.Reason, "after", after)
}

// withQuery is path with the query parameters of kv (name, value...) set;
// those with an empty value are left out (and taken off path's query).
func withQuery(path string, kv ...string) string {
	p, query, _ := strings.Cut(path, "?")
	q, _ := url.ParseQuery(query)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

func (c *Console) suppressions(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.seesSuppressions(w, r, s) {
		return
	}
	q := r.URL.Query()
	v := c.view(r, s, "supp.title")
	f := suppressionForm{Q: strings.TrimSpace(q.Get("q")), Channel: q.Get("channel"), Reason: q.Get("reason")}
	d := &suppressionsData{Add: addForm{Channel: string(notifyd.ChannelEmail)}}
	switch done := q.Get("done"); done {
	case "added", "exists", "removed", "missing":
		v.Notice = v.T("supp.done." + done)
		v.NoticeError = done == "missing"
	}
	if status := c.listSuppressions(w, r, s, v, d, f, q.Get("after")); status != 0 {
		c.render(w, status, "suppressions.html", v)
	}
}

// listSuppressions fills d with the page of f's search from cursor after
// and returns the status to answer it with; 0 when it has answered (the
// database could not be read).
func (c *Console) listSuppressions(w http.ResponseWriter, r *http.Request, s *session, v *view, d *suppressionsData,
	f suppressionForm, after string) int {
	v.Nav = "suppressions"
	v.Data = d
	d.Form = f
	d.Channels = choices(v, "channel.", suppressionChannels, f.Channel)
	d.Reasons = choices(v, "reason.", store.SuppressionReasons, f.Reason)
	for _, ch := range suppressionChannels {
		d.AddChannels = append(d.AddChannels, option{Value: ch, Label: v.T("channel." + ch), Selected: ch == d.Add.Channel})
	}
	filter, prefix := suppressionFilter(f)
	d.Prefix = prefix
	if at, id, ok := parseCursor(after); ok {
		filter.AfterTime, filter.AfterID = at, id
		d.First = suppressionsURL(f, "")
	}
	items, err := c.o.Store.Suppressions(r.Context(), filter)
	if err != nil {
		c.unavailable(w, r, s, err)
		return 0
	}
	for _, it := range items {
		d.Rows = append(d.Rows, suppressionRowOf(v, it))
	}
	if len(items) == pageSize {
		last := items[len(items)-1]
		d.Next = suppressionsURL(f, cursor(last.CreatedAt, last.ID))
	}
	return http.StatusOK
}

// suppressionRowOf is an entry as the list shows it.
func suppressionRowOf(v *view, it store.Suppression) suppressionRow {
	row := suppressionRow{ID: it.ID, Channel: string(it.Channel), ChannelLabel: v.T("channel." + string(it.Channel)),
		Address: it.Address, Reason: it.Reason, ReasonLabel: v.T("reason." + it.Reason), Detail: it.Detail,
		Actor: it.Actor.Name, When: when(it.CreatedAt), ISO: iso(it.CreatedAt)}
	search := url.Values{"channel": {string(it.Channel)}, "address": {it.Address}}
	row.DeliveriesLabel = v.T("supp.deliveries")
	if it.Reason == store.SuppressHardBounce {
		search.Set("status", store.DeliveryBounced)
		row.DeliveriesLabel = v.T("supp.bounced")
	}
	row.Deliveries = "/console/deliveries?" + search.Encode()
	if it.DeliveryID != "" {
		row.Cause = "/console/deliveries/" + url.PathEscape(it.DeliveryID)
	}
	return row
}

// suppressionsAction takes the add form and the remove forms. Adding
// checks the address as the API does (store.NormalizeSuppressionAddress)
// and shows what is wrong on the form; removing first asks for
// confirmation, saying what it means, and the confirmed form removes.
// Both are audited as made by the signed-in key.
func (c *Console) suppressionsAction(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.seesSuppressions(w, r, s) {
		return
	}
	pf := r.PostForm
	switch pf.Get("action") {
	case "add":
		c.addSuppression(w, r, s)
	case "remove":
		if pf.Get("confirm") == "yes" {
			c.removeSuppression(w, r, s)
		} else {
			c.confirmRemoval(w, r, s)
		}
	default:
		c.message(w, r, s, http.StatusBadRequest, "err.form")
	}
}

func (c *Console) addSuppression(w http.ResponseWriter, r *http.Request, s *session) {
	pf := r.PostForm
	a := addForm{Channel: pf.Get("channel"), Address: strings.TrimSpace(pf.Get("address")), Note: strings.TrimSpace(pf.Get("note"))}
	v := c.view(r, s, "supp.title")
	addr, err := store.NormalizeSuppressionAddress(notifyd.Channel(a.Channel), a.Address)
	if err != nil {
		// The API's check; its message, in the console's language.
		key := "supp.bad.channel"
		if slices.Contains(suppressionChannels, a.Channel) {
			key = "supp.bad." + a.Channel
		}
		d := &suppressionsData{Add: a, AddErrors: []string{v.T(key)}}
		if status := c.listSuppressions(w, r, s, v, d, suppressionForm{}, ""); status != 0 {
			c.render(w, http.StatusBadRequest, "suppressions.html", v)
		}
		return
	}
	got, added, err := c.o.Store.AddSuppression(c.audit(r.Context(), s.who), store.Suppression{Channel: notifyd.Channel(a.Channel),
		Address: addr, Reason: store.SuppressManual, Detail: a.Note})
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	done := "exists"
	if added {
		done = "added"
		c.log.Info("console: suppression added", "actor", s.who.Name, "suppression", got.ID, "channel", a.Channel)
	}
	http.Redirect(w, r, withQuery(suppressionsURL(suppressionForm{Q: got.Address, Channel: string(got.Channel)}, ""), "done", done),
		http.StatusSeeOther)
}

// confirmRemoval asks whether to take an entry off the list, showing it
// and what that means.
func (c *Console) confirmRemoval(w http.ResponseWriter, r *http.Request, s *session) {
	pf := r.PostForm
	f := suppressionForm{Q: pf.Get("address"), Channel: pf.Get("channel")}
	if f.Q == "" || !slices.Contains(suppressionChannels, f.Channel) {
		c.message(w, r, s, http.StatusBadRequest, "err.form")
		return
	}
	items, err := c.o.Store.Suppressions(r.Context(), store.SuppressionFilter{Channel: f.Channel, Address: f.Q, Limit: 1})
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	back := safeBack(pf.Get("back"))
	if len(items) == 0 {
		http.Redirect(w, r, withQuery(back, "done", "missing"), http.StatusSeeOther)
		return
	}
	v := c.view(r, s, "supp.confirm.title")
	v.Nav = "suppressions"
	row := suppressionRowOf(v, items[0])
	v.Data = &suppressionConfirm{Row: row, Back: back}
	c.render(w, http.StatusOK, "suppressionconfirm.html", v)
}

// suppressionConfirm is the removal's confirmation page's.
type suppressionConfirm struct {
	Row  suppressionRow
	Back string
}

// safeBack is the list's page to go back to: one of the list's, else
// the list.
func safeBack(back string) string {
	if back == "/console/suppressions" || strings.HasPrefix(back, "/console/suppressions?") {
		return back
	}
	return "/console/suppressions"
}

func (c *Console) removeSuppression(w http.ResponseWriter, r *http.Request, s *session) {
	pf := r.PostForm
	f := suppressionForm{Q: pf.Get("address"), Channel: pf.Get("channel")}
	if f.Q == "" || !slices.Contains(suppressionChannels, f.Channel) {
		c.message(w, r, s, http.StatusBadRequest, "err.form")
		return
	}
	gone, err := c.o.Store.RemoveSuppression(c.audit(r.Context(), s.who), notifyd.Channel(f.Channel), f.Q)
	done := "removed"
	switch {
	case errors.Is(err, notifyd.ErrNotFound):
		done = "missing" // removed meanwhile, by someone else
	case err != nil:
		c.unavailable(w, r, s, err)
		return
	default:
		c.log.Info("console: suppression removed", "actor", s.who.Name, "suppression", gone.ID, "channel", f.Channel)
	}
	http.Redirect(w, r, withQuery(safeBack(pf.Get("back")), "done", done), http.StatusSeeOther)
}

// suppressionOfDelivery is what the delivery page says of the suppression
// list for a delivery suppressed or bounced: the entry of its address
// (nil when it is not on the list any more), for an identity that may see
// the list.
type suppressionOfDelivery struct {
	Entry *suppressionRow
	URL   string
}

// deliverySuppression looks a suppressed or bounced delivery's address up
// in the list; nil for other deliveries, and for identities scoped to
// systems (the list is not theirs to see).
func (c *Console) deliverySuppression(r *http.Request, v *view, who Identity, d *store.DeliveryRecord) (*suppressionOfDelivery, error) {
	if len(who.Systems) > 0 || d.Status != store.DeliverySuppressed && d.Status != store.DeliveryBounced ||
		!slices.Contains(suppressionChannels, d.Channel) {
		return nil, nil
	}
	entry, err := c.o.Store.Suppressed(r.Context(), d.Channel, d.Address)
	if err != nil {
		return nil, err
	}
	out := &suppressionOfDelivery{URL: suppressionsURL(suppressionForm{Q: d.Address, Channel: d.Channel}, "")}
	if entry != nil {
		row := suppressionRowOf(v, *entry)
		out.Entry = &row
		out.URL = suppressionsURL(suppressionForm{Q: entry.Address, Channel: d.Channel}, "")
	}
	return out, nil
}
