package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// pageSize is how many rows a listing shows per page.
const pageSize = 50

// statuses are the delivery statuses the search offers.
var statuses = []string{store.DeliveryQueued, store.DeliveryRetrying, "held", store.DeliverySent, store.DeliveryDelivered,
	store.DeliveryUndelivered, store.DeliveryFailed, store.DeliverySkipped, store.DeliverySuppressed, store.DeliveryDiscarded, store.DeliveryBounced}

// searchForm is the search's query, as the form shows it.
type searchForm struct {
	System, Principal, Address, Channel, Status, Type, From, To string
}

// option is a choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// searchData is the search page's.
type searchData struct {
	Form                               searchForm
	Systems, Channels, Statuses, Types []option
	Rows                               []deliveryRow
	Next, First                        string
	Errors                             []string
	Searched                           bool
}

// deliveryRow is a delivery in a listing.
type deliveryRow struct {
	ID, When, ISO, System, Principal, Channel, Address, Status, StatusLabel, Type, Error string
	Attempts                                                                             int
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) {
	http.Redirect(w, r, "/console/deliveries", http.StatusSeeOther)
}

// visibleSystems are the systems the identity may choose among.
func (c *Console) visibleSystems(who Identity) []string {
	var out []string
	for _, sys := range c.o.Systems {
		if who.Sees(sys) {
			out = append(out, sys)
		}
	}
	return out
}

// systemOptions are the system choices of a form: any (of those the
// identity sees), or one of them.
func (c *Console) systemOptions(v *view, who Identity, selected string) []option {
	out := []option{{Value: "", Label: v.T("any")}}
	for _, sys := range c.visibleSystems(who) {
		out = append(out, option{Value: sys, Label: sys, Selected: sys == selected})
	}
	return out
}

// scope turns the system a listing asks for ("" for any) into what to
// list for the identity: the one system to filter on, or the systems to
// list (nil for all); ok is false when the listing is empty whatever is
// stored (a system out of scope, which an unscoped identity would see as
// a system with nothing in it).
func scope(who Identity, asked string) (system string, systems []string, ok bool) {
	switch {
	case asked != "":
		return asked, nil, who.Sees(asked)
	case len(who.Systems) > 0:
		return "", who.Systems, true
	}
	return "", nil, true
}

func choices(v *view, prefix string, values []string, selected string) []option {
	out := []option{{Value: "", Label: v.T("any")}}
	for _, val := range values {
		out = append(out, option{Value: val, Label: v.T(prefix + val), Selected: val == selected})
	}
	return out
}

// parseLocal reads a datetime-local field, in UTC.
func parseLocal(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

// cursor writes and reads a listing's cursor: the creation time and ID of
// a page's last row.
func cursor(at time.Time, id string) string { return at.UTC().Format(time.RFC3339Nano) + "," + id }

func parseCursor(s string) (time.Time, string, bool) {
	ts, id, ok := strings.Cut(s, ",")
	t, err := time.Parse(time.RFC3339Nano, ts)
	return t, id, ok && err == nil && id != ""
}

func (c *Console) search(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := c.view(r, s, "search.title")
	v.Nav = "deliveries"
	f := searchForm{System: q.Get("system"), Principal: strings.TrimSpace(q.Get("principal")),
		Address: strings.TrimSpace(q.Get("address")), Channel: q.Get("channel"), Status: q.Get("status"),
		Type: q.Get("type"), From: q.Get("from"), To: q.Get("to")}
	system, systems, visible := scope(s.who, f.System)
	d := &searchData{Form: f, Systems: c.systemOptions(v, s.who, system)}
	var channels, types []string
	for _, ch := range notifyd.Channels {
		channels = append(channels, string(ch))
	}
	for _, t := range notifyd.NotificationTypes {
		types = append(types, string(t))
	}
	d.Channels = choices(v, "channel.", channels, f.Channel)
	d.Statuses = choices(v, "status.", statuses, f.Status)
	d.Types = choices(v, "type.", types, f.Type)
	filter := store.DeliveryFilter{System: system, Systems: systems, Principal: f.Principal, Address: f.Address, Channel: f.Channel,
		Status: f.Status, Type: f.Type, Newest: true, Limit: pageSize}
	for _, b := range []struct {
		val string
		to  *time.Time
		key string
	}{{f.From, &filter.From, "search.from"}, {f.To, &filter.To, "search.to"}} {
		if b.val == "" {
			continue
		}
		t, err := parseLocal(b.val)
		if err != nil {
			d.Errors = append(d.Errors, v.T(b.key)+": "+v.T("err.time"))
			continue
		}
		*b.to = t
	}
	if after := q.Get("after"); after != "" {
		if at, id, ok := parseCursor(after); ok {
			filter.AfterTime, filter.AfterID = at, id
			d.First = searchURL(f, "")
		}
	}
	v.Data = d
	if len(d.Errors) > 0 {
		c.render(w, http.StatusBadRequest, "search.html", v)
		return
	}
	d.Searched = true
	if visible {
		items, err := c.o.Store.Deliveries(r.Context(), filter)
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		for _, it := range items {
			d.Rows = append(d.Rows, c.row(v, it))
		}
		if len(items) == pageSize {
			last := items[len(items)-1]
			d.Next = searchURL(f, cursor(last.CreatedAt, last.ID))
		}
	}
	c.render(w, http.StatusOK, "search.html", v)
}

// searchURL is the search page of f from cursor after.
func searchURL(f searchForm, after string) string {
	q := url.Values{}
	for k, val := range map[string]string{"system": f.System, "principal": f.Principal, "address": f.Address,
		"channel": f.Channel, "status": f.Status, "type": f.Type, "from": f.From, "to": f.To, "after": after} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return "/console/deliveries?" + q.Encode()
}

// row is a delivery as listings show it.
func (c *Console) row(v *view, it store.DeliveryListItem) deliveryRow {
	return deliveryRow{ID: it.ID, When: when(it.CreatedAt), ISO: it.CreatedAt.UTC().Format(time.RFC3339), System: it.System,
		Principal: it.Principal, Channel: v.T("channel." + it.Channel), Address: it.Address, Status: it.Status,
		StatusLabel: v.T("status." + it.Status), Type: v.T("type." + it.NotificationType), Error: it.LastError,
		Attempts: it.Attempts}
}
