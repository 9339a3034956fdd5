package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// subListData is the subscriptions page's.
type subListData struct {
	Systems   []option
	Principal string
	Subs      []*notifyd.Subscription
	Next      string
}

// subscriptionList lists the subscriptions of a system, or of one
// principal.
func (c *Console) subscriptionList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := c.view(r, s, "subs.title")
	v.Nav = "subs"
	system, systems, visible := scope(s.who, q.Get("system"))
	d := &subListData{Systems: c.systemOptions(v, s.who, system), Principal: strings.TrimSpace(q.Get("principal"))}
	if visible {
		subs, next, err := c.o.Subscriptions.List(r.Context(), notifyd.SubscriptionFilter{System: system, Systems: systems,
			Principal: d.Principal, After: q.Get("after"), Limit: pageSize})
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		d.Subs = subs
		if next != "" {
			d.Next = "/console/subscriptions?system=" + urlQueryEscape(system) + "&principal=" + urlQueryEscape(d.Principal) +
				"&after=" + urlQueryEscape(next)
		}
	}
	v.Data = d
	c.render(w, http.StatusOK, "subs.html", v)
}

// subForm is the subscription form's values.
type subForm struct {
	Enabled, NotifyOwn bool
	Locale, TimeZone   string
	Types              map[string]bool
	Methods            []methodForm
	Preferences        string
	Version            int64
}

// methodForm is one delivery method of the form.
type methodForm struct {
	N                int
	Channel, Address string
	Enabled          bool
}

// subData is the subscription page's.
type subData struct {
	Sub    *notifyd.Subscription
	Form   subForm
	Types  []option
	Errors []notifyd.FieldError
}

func formOf(sub *notifyd.Subscription) subForm {
	f := subForm{Enabled: sub.Enabled, NotifyOwn: sub.NotifyOwnChanges, Locale: sub.Locale, TimeZone: sub.TimeZone,
		Types: map[string]bool{}, Version: sub.Version}
	for _, t := range sub.Types {
		f.Types[string(t)] = true
	}
	for i, m := range sub.Methods {
		f.Methods = append(f.Methods, methodForm{N: i, Channel: string(m.Channel), Address: m.Address, Enabled: m.Enabled})
	}
	if sub.Preferences != nil {
		if b, err := json.MarshalIndent(sub.Preferences, "", "  "); err == nil && string(b) != "{}" {
			f.Preferences = string(b)
		}
	}
	return f
}

// loadSubscription reads a subscription the identity may see; when it
// cannot, it has answered (404 for one of another system, as for none).
func (c *Console) loadSubscription(w http.ResponseWriter, r *http.Request, s *session) *notifyd.Subscription {
	sub, err := c.o.Subscriptions.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, notifyd.ErrNotFound) || err == nil && !s.who.Sees(sub.System) {
		c.message(w, r, s, http.StatusNotFound, "err.notfound")
		return nil
	}
	if err != nil {
		c.unavailable(w, r, s, err)
		return nil
	}
	return sub
}

func (c *Console) subscriptionPage(w http.ResponseWriter, r *http.Request, s *session) {
	sub := c.loadSubscription(w, r, s)
	if sub == nil {
		return
	}
	v := c.view(r, s, "sub.title")
	if r.URL.Query().Get("done") == "saved" {
		v.Notice = v.T("sub.saved")
	}
	c.showSubscription(w, v, http.StatusOK, sub, formOf(sub), nil)
}

func (c *Console) showSubscription(w http.ResponseWriter, v *view, status int, sub *notifyd.Subscription, f subForm, errs []notifyd.FieldError) {
	v.Nav = "subs"
	d := &subData{Sub: sub, Form: f, Errors: errs}
	for _, t := range notifyd.NotificationTypes {
		d.Types = append(d.Types, option{Value: string(t), Label: v.T("type." + string(t)), Selected: f.Types[string(t)]})
	}
	v.Data = d
	c.render(w, status, "sub.html", v)
}

// subscriptionSave takes the subscription form: a patch of what the form
// shows, checked by the subscription service as the API's are, written
// only if the subscription is still at the version the form showed.
func (c *Console) subscriptionSave(w http.ResponseWriter, r *http.Request, s *session) {
	sub := c.loadSubscription(w, r, s)
	if sub == nil {
		return
	}
	pf := r.PostForm
	f := subForm{Enabled: pf.Get("enabled") != "", NotifyOwn: pf.Get("notify_own_changes") != "",
		Locale: strings.TrimSpace(pf.Get("locale")), TimeZone: strings.TrimSpace(pf.Get("time_zone")),
		Types: map[string]bool{}, Preferences: strings.TrimSpace(pf.Get("preferences"))}
	f.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	for _, t := range pf["types"] {
		f.Types[t] = true
	}
	var types []notifyd.NotificationType
	for _, t := range notifyd.NotificationTypes {
		if f.Types[string(t)] {
			types = append(types, t)
		}
	}
	methods := make([]subscriptions.MethodInput, 0, len(sub.Methods))
	for i, m := range sub.Methods {
		n := "m" + strconv.Itoa(i)
		mf := methodForm{N: i, Channel: string(m.Channel), Address: strings.TrimSpace(pf.Get(n + "_address")),
			Enabled: pf.Get(n+"_enabled") != ""}
		f.Methods = append(f.Methods, mf)
		on := mf.Enabled
		methods = append(methods, subscriptions.MethodInput{Channel: m.Channel, Address: mf.Address,
			Types: slices.Clone(m.Types), Enabled: &on, Presence: m.Presence})
	}
	v := c.view(r, s, "sub.title")
	prefs, perr := prefsPatch(sub.Preferences, f.Preferences)
	if perr != nil {
		c.showSubscription(w, v, http.StatusBadRequest, sub, f,
			[]notifyd.FieldError{{Field: "/preferences", Detail: v.T("sub.prefs.json") + " " + perr.Error()}})
		return
	}
	p := subscriptions.Patch{Enabled: &f.Enabled, Types: &types, Locale: &f.Locale, TimeZone: &f.TimeZone,
		Methods: &methods, NotifyOwnChanges: &f.NotifyOwn, Preferences: prefs}
	_, err := c.o.Subscriptions.Patch(c.audit(r.Context(), s.who), sub.ID, p, f.Version)
	var verr notifyd.ValidationError
	switch {
	case errors.Is(err, notifyd.ErrConflict):
		cur, gerr := c.o.Subscriptions.Get(r.Context(), sub.ID)
		if gerr != nil {
			c.unavailable(w, r, s, gerr)
			return
		}
		v.Notice, v.NoticeError = v.T("sub.conflict"), true
		c.showSubscription(w, v, http.StatusConflict, cur, formOf(cur), nil)
		return
	case errors.As(err, &verr):
		c.showSubscription(w, v, http.StatusBadRequest, sub, f, verr)
		return
	case errors.Is(err, notifyd.ErrNotFound):
		c.message(w, r, s, http.StatusNotFound, "err.notfound")
		return
	case err != nil:
		c.unavailable(w, r, s, err)
		return
	}
	c.log.Info("console: subscription changed", "actor", s.who.Name, "subscription", sub.ID, "system", sub.System)
	http.Redirect(w, r, "/console/subscriptions/"+sub.ID+"?done=saved", http.StatusSeeOther)
}

// prefsPatch is the merge patch that makes the preferences what the form
// holds (JSON; empty for none): members the form left out are removed.
func prefsPatch(cur *notifyd.Preferences, text string) (json.RawMessage, error) {
	if text == "" {
		return json.RawMessage("null"), nil
	}
	var next map[string]any
	if err := json.Unmarshal([]byte(text), &next); err != nil {
		return nil, err
	}
	if cur != nil {
		var old map[string]any
		if b, err := json.Marshal(cur); err == nil && json.Unmarshal(b, &old) == nil {
			for k := range old {
				if _, ok := next[k]; !ok {
					next[k] = nil
				}
			}
		}
	}
	return json.Marshal(next)
}
