package api

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
	"github.com/notifyd/notifyd/store"
)

// prefView is what the page template shows.
type prefView struct {
	Lang, Token, CSRF, Principal, Notice string
	Version                              int64
	Enabled                              bool
	Langs, Locales                       []langOption
	Errors                               []prefErrorItem
	errs                                 map[string]string
	Methods                              []methodColumn
	Rows                                 []typeRow
	Digest                               struct {
		Mode, At string
		Windows  []option
	}
	Quiet    []quietView
	Throttle struct {
		Max  string
		Pers []option
	}
	PausedUntil, TimeZone string
	Zones                 []string
	Recent                []recentRow
}

type langOption struct {
	Code, Name string
	Current    bool
}

type prefErrorItem struct{ ID, Text string }

type methodColumn struct {
	ID, Label, Field string
	On               bool
}

type typeRow struct {
	Type, Label string
	Cells       []typeCell
}

type typeCell struct {
	Method  string
	Checked bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type quietView struct {
	N, Number                 int
	New                       bool
	Days                      []dayOption
	From, To                  string
	Field, FromField, ToField string
}

type dayOption struct {
	Code, Label string
	Checked     bool
}

type recentRow struct {
	ISO, When, Method, Type, Status string
}

// T is the page's text of key.
func (v *prefView) T(key string) string { return prefT(v.Lang, key) }

// Err is the error shown next to field, "" for none.
func (v *prefView) Err(field string) string { return v.errs[field] }

// digestWindows and throttlePeriods are the periods the page offers.
var (
	digestWindows   = []string{"15m", "30m", "1h", "2h", "3h", "4h", "6h", "12h"}
	throttlePeriods = []string{"15m", "30m", "1h", "2h", "3h", "4h", "6h", "12h", "24h"}
)

// commonZones are the time zones suggested (any IANA name is taken).
var commonZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Brussels", "Europe/Berlin",
	"Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw",
	"Europe/Athens", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow", "Africa/Casablanca", "Africa/Dakar",
	"Africa/Abidjan", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi", "Indian/Reunion",
	"Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
	"Pacific/Auckland", "Pacific/Noumea", "Pacific/Tahiti", "America/St_Johns", "America/Halifax",
	"America/Montreal", "America/Toronto", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Mexico_City", "America/Bogota",
	"America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Martinique", "America/Guadeloupe", "America/Cayenne",
}

// periodLabel writes a period ("15m", "1h", "24h") in words.
func periodLabel(lang, p string) string {
	d, err := time.ParseDuration(p)
	switch {
	case err != nil:
		return p
	case d == time.Hour:
		return "1 " + prefT(lang, "unit.1h")
	case d == 24*time.Hour:
		return "1 " + prefT(lang, "unit.1d")
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " " + prefT(lang, "unit.h")
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " " + prefT(lang, "unit.m")
	}
	return p
}

// options are the choices of a select with value selected (added when it
// is none of them, so that a value set through the API shows).
func options(lang string, values []string, selected string) []option {
	if selected != "" && !slices.Contains(values, selected) {
		values = append(slices.Clone(values), selected)
	}
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: periodLabel(lang, v), Selected: v == selected}
	}
	return out
}

// newPrefView is the page of sub showing form, with errs.
func newPrefView(sub *notifyd.Subscription, lang string, form *prefForm, errs []prefError, recent []store.RecentDelivery) *prefView {
	v := &prefView{Lang: lang, Principal: sub.Principal, Version: sub.Version, Enabled: sub.Enabled, errs: map[string]string{},
		PausedUntil: form.PausedUntil, TimeZone: form.TimeZone, Zones: commonZones}
	for _, l := range prefLangs {
		v.Langs = append(v.Langs, langOption{Code: l, Name: prefLangNames[l], Current: l == lang})
	}
	locale := form.Locale
	for _, l := range prefLangs {
		v.Locales = append(v.Locales, langOption{Code: l, Name: prefLangNames[l], Current: l == locale})
	}
	if !slices.Contains(prefLangs, locale) && locale != "" {
		v.Locales = append(v.Locales, langOption{Code: locale, Name: locale, Current: true})
	}
	for _, e := range errs {
		if e.Field != "" {
			if prev, ok := v.errs[e.Field]; ok {
				v.errs[e.Field] = prev + " " + e.Text
			} else {
				v.errs[e.Field] = e.Text
			}
		}
		v.Errors = append(v.Errors, prefErrorItem{ID: fieldAnchor(e.Field), Text: e.Text})
	}
	for _, m := range sub.Methods {
		v.Methods = append(v.Methods, methodColumn{ID: m.ID, Field: "m-" + m.ID, On: form.On[m.ID],
			Label: prefT(lang, "channel."+string(m.Channel)) + " — " + m.Address})
	}
	for _, t := range notifyd.NotificationTypes {
		r := typeRow{Type: string(t), Label: prefT(lang, "type."+string(t))}
		for _, m := range sub.Methods {
			r.Cells = append(r.Cells, typeCell{Method: m.ID, Checked: form.Types[m.ID][t]})
		}
		v.Rows = append(v.Rows, r)
	}
	v.Digest.Mode, v.Digest.At = form.DigestMode, form.DigestAt
	if v.Digest.Mode != notifyd.DigestWindow && v.Digest.Mode != notifyd.DigestDaily {
		v.Digest.Mode = notifyd.DigestImmediate
	}
	window := form.DigestWindow
	if window == "" {
		window = "1h"
	}
	v.Digest.Windows = options(lang, digestWindows, window)
	per := form.ThrottlePer
	if per == "" {
		per = "1h"
	}
	v.Throttle.Max, v.Throttle.Pers = form.ThrottleMax, options(lang, throttlePeriods, per)
	number := 0
	for i, r := range form.Quiet {
		n := "qh" + strconv.Itoa(i)
		q := quietView{N: i, New: r.New, From: r.From, To: r.To, Field: n, FromField: n + "_from", ToField: n + "_to"}
		if !r.New {
			number++
			q.Number = number
		}
		for _, d := range weekDays {
			q.Days = append(q.Days, dayOption{Code: d, Label: prefT(lang, "day."+d), Checked: r.Days[d]})
		}
		v.Quiet = append(v.Quiet, q)
	}
	tf := message.NewTimeFormat(message.Long, lang, lang, zone(sub.TimeZone))
	for _, d := range recent {
		at := d.CreatedAt
		if !d.SentAt.IsZero() {
			at = d.SentAt
		}
		v.Recent = append(v.Recent, recentRow{ISO: at.UTC().Format(time.RFC3339), When: tf.DateTime(at),
			Method: prefT(lang, "channel."+d.Channel) + " — " + d.Address,
			Type:   prefT(lang, "type."+d.NotificationType), Status: prefT(lang, "status."+strings.ToLower(d.Status))})
	}
	return v
}
