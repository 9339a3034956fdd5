package api

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// prefForm is what the page's settings form holds: read from a
// subscription to show it, or from a post to save it (and to show it
// again with its errors).
type prefForm struct {
	// On says which methods are on, by ID; Types which types each gets.
	On    map[string]bool
	Types map[string]map[notifyd.NotificationType]bool
	// DigestMode is immediate, window or daily.
	DigestMode, DigestWindow, DigestAt string
	Quiet                              []quietRow
	ThrottleMax, ThrottlePer           string
	// PausedUntil is a date (YYYY-MM-DD) in the subscription's time zone.
	PausedUntil      string
	TimeZone, Locale string
}

// quietRow is one period of the quiet hours form.
type quietRow struct {
	Days     map[string]bool
	From, To string
	Remove   bool
	// New marks an empty row offered to add a period.
	New bool
}

// prefError is one error the page shows, next to Field ("" for the page).
type prefError struct {
	Field, Text string
}

// weekDays are the day codes of quiet hours, in the week's order.
var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// newQuietRows is how many empty quiet-hours rows the page offers.
const newQuietRows = 2

// wants reports whether method m of sub receives type t.
func wants(sub *notifyd.Subscription, m notifyd.DeliveryMethod, t notifyd.NotificationType) bool {
	return (len(sub.Types) == 0 || slices.Contains(sub.Types, t)) && (len(m.Types) == 0 || slices.Contains(m.Types, t))
}

// formFromSubscription is the form showing sub as stored.
func formFromSubscription(sub *notifyd.Subscription) *prefForm {
	f := &prefForm{On: map[string]bool{}, Types: map[string]map[notifyd.NotificationType]bool{},
		DigestMode: notifyd.DigestImmediate, TimeZone: sub.TimeZone, Locale: sub.Locale}
	for _, m := range sub.Methods {
		f.On[m.ID] = m.Enabled
		f.Types[m.ID] = map[notifyd.NotificationType]bool{}
		for _, t := range notifyd.NotificationTypes {
			f.Types[m.ID][t] = wants(sub, m, t)
		}
	}
	if p := sub.Preferences; p != nil {
		if d := p.Digest; d != nil {
			f.DigestMode, f.DigestWindow, f.DigestAt = d.Mode, d.Window, d.At
		}
		for _, q := range p.QuietHours {
			r := quietRow{Days: map[string]bool{}, From: q.From, To: q.To}
			for _, d := range q.Days {
				r.Days[d] = true
			}
			f.Quiet = append(f.Quiet, r)
		}
		if t := p.Throttle; t != nil {
			f.ThrottleMax, f.ThrottlePer = strconv.Itoa(t.Max), t.Per
		}
		if !p.PausedUntil.IsZero() {
			f.PausedUntil = p.PausedUntil.In(zone(sub.TimeZone)).Format(time.DateOnly)
		}
	}
	for range newQuietRows {
		f.Quiet = append(f.Quiet, quietRow{Days: map[string]bool{}, New: true})
	}
	return f
}

// zone is the location of an IANA name, UTC when it is not one.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// maxQuietRows bounds the rows a post may carry (14 periods and the
// empty ones offered).
const maxQuietRows = 14 + newQuietRows

// formFromValues is the form as posted.
func formFromValues(v url.Values, sub *notifyd.Subscription) *prefForm {
	f := &prefForm{On: map[string]bool{}, Types: map[string]map[notifyd.NotificationType]bool{},
		DigestMode: v.Get("digest_mode"), DigestWindow: v.Get("digest_window"), DigestAt: strings.TrimSpace(v.Get("digest_at")),
		ThrottleMax: strings.TrimSpace(v.Get("throttle_max")), ThrottlePer: v.Get("throttle_per"),
		PausedUntil: strings.TrimSpace(v.Get("paused_until")),
		TimeZone:    strings.TrimSpace(v.Get("time_zone")), Locale: v.Get("locale")}
	for _, id := range v["on"] {
		f.On[id] = true
	}
	for _, m := range sub.Methods {
		f.Types[m.ID] = map[notifyd.NotificationType]bool{}
		for _, t := range v["t-"+m.ID] {
			f.Types[m.ID][notifyd.NotificationType(t)] = true
		}
	}
	rows, _ := strconv.Atoi(v.Get("qh_rows"))
	rows = min(max(rows, 0), maxQuietRows)
	for i := range rows {
		n := "qh" + strconv.Itoa(i)
		r := quietRow{Days: map[string]bool{}, From: strings.TrimSpace(v.Get(n + "_from")), To: strings.TrimSpace(v.Get(n + "_to")),
			Remove: v.Get(n+"_remove") != ""}
		for _, d := range v[n+"_days"] {
			r.Days[d] = true
		}
		r.New = r.From == "" && r.To == "" && len(r.Days) == 0
		f.Quiet = append(f.Quiet, r)
	}
	return f
}

// hhmm is the shape of a time of day the page takes.
var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)

// patch is the subscription change the form asks for, or the errors
// that keep it from being made (in lang). Types and methods are written
// whole; preferences are a merge patch of what the page shows (the
// per-channel settings and channel order it does not show are kept).
func (f *prefForm) patch(sub *notifyd.Subscription, lang string) (subscriptions.Patch, []prefError) {
	var errs []prefError
	bad := func(field, key string) { errs = append(errs, prefError{field, prefT(lang, key)}) }

	// Types and methods.
	methods := make([]subscriptions.MethodInput, 0, len(sub.Methods))
	union := map[notifyd.NotificationType]bool{}
	for _, m := range sub.Methods {
		on := f.On[m.ID]
		var types []notifyd.NotificationType
		for _, t := range notifyd.NotificationTypes {
			if f.Types[m.ID][t] {
				types = append(types, t)
			}
		}
		if len(types) == 0 {
			if on {
				bad("m-"+m.ID, "methods.none")
			}
			// Off and nothing ticked: it keeps what it had.
			for _, t := range notifyd.NotificationTypes {
				if wants(sub, m, t) {
					types = append(types, t)
				}
			}
		}
		for _, t := range types {
			union[t] = true
		}
		if len(types) == len(notifyd.NotificationTypes) {
			types = nil
		}
		methods = append(methods, subscriptions.MethodInput{Channel: m.Channel, Address: m.Address, Types: types,
			Enabled: &on, Presence: m.Presence})
	}
	var subTypes []notifyd.NotificationType
	if len(union) < len(notifyd.NotificationTypes) {
		for _, t := range notifyd.NotificationTypes {
			if union[t] {
				subTypes = append(subTypes, t)
			}
		}
	}

	// Preferences, as a merge patch.
	prefs := map[string]any{}
	switch f.DigestMode {
	case notifyd.DigestWindow:
		prefs["digest"] = notifyd.Digest{Mode: notifyd.DigestWindow, Window: f.DigestWindow}
	case notifyd.DigestDaily:
		if !hhmm.MatchString(f.DigestAt) || f.DigestAt == "24:00" {
			bad("digest_at", "err.time")
		}
		prefs["digest"] = notifyd.Digest{Mode: notifyd.DigestDaily, At: f.DigestAt}
	default:
		prefs["digest"] = nil
	}
	var quiet []notifyd.QuietPeriod
	for i, r := range f.Quiet {
		if r.Remove || r.New {
			continue
		}
		n := "qh" + strconv.Itoa(i)
		if !hhmm.MatchString(r.From) {
			bad(n+"_from", "err.time")
		}
		if !hhmm.MatchString(r.To) {
			bad(n+"_to", "err.time")
		}
		q := notifyd.QuietPeriod{From: r.From, To: r.To}
		for _, d := range weekDays {
			if r.Days[d] {
				q.Days = append(q.Days, d)
			}
		}
		for d := range r.Days {
			if !slices.Contains(weekDays, d) {
				bad(n, "err.days")
			}
		}
		if len(q.Days) == len(weekDays) {
			q.Days = nil
		}
		quiet = append(quiet, q)
	}
	if len(quiet) > 0 {
		prefs["quiet_hours"] = quiet
	} else {
		prefs["quiet_hours"] = nil
	}
	if f.ThrottleMax == "" {
		prefs["throttle"] = nil
	} else if n, err := strconv.Atoi(f.ThrottleMax); err != nil {
		bad("throttle_max", "err.number")
	} else {
		prefs["throttle"] = notifyd.Throttle{Max: n, Per: f.ThrottlePer}
	}
	tz := f.TimeZone
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		tz = sub.TimeZone // the subscription's validation says what is wrong
	}
	switch day, err := time.ParseInLocation(time.DateOnly, f.PausedUntil, zone(tz)); {
	case f.PausedUntil == "":
		prefs["paused_until"] = nil
	case err != nil:
		bad("paused_until", "err.date")
	case sub.Preferences != nil && !sub.Preferences.PausedUntil.IsZero() &&
		f.PausedUntil == sub.Preferences.PausedUntil.In(zone(sub.TimeZone)).Format(time.DateOnly):
		// Unchanged: the pause keeps its exact end.
	default:
		prefs["paused_until"] = day.UTC().Format(time.RFC3339)
	}
	raw, err := json.Marshal(prefs)
	if err != nil {
		panic(err) // only plain values above
	}
	locale, timeZone := f.Locale, f.TimeZone
	return subscriptions.Patch{Types: &subTypes, Methods: &methods, Locale: &locale, TimeZone: &timeZone,
		Preferences: raw}, errs
}

// mapErrors places the subscription's validation errors (JSON Pointers
// into the subscription) next to the form's fields.
func (f *prefForm) mapErrors(verr notifyd.ValidationError, sub *notifyd.Subscription, lang string) []prefError {
	// The i-th period written is the form's row rows[i].
	var rows []int
	for i, r := range f.Quiet {
		if !r.Remove && !r.New {
			rows = append(rows, i)
		}
	}
	var out []prefError
	for _, e := range verr {
		text := prefT(lang, "err.field") + " " + e.Detail
		out = append(out, prefError{Field: formField(e.Field, rows, sub), Text: text})
	}
	return out
}

// formField is the form field of a JSON Pointer into a subscription ("" for
// the page as a whole).
func formField(ptr string, quietRows []int, sub *notifyd.Subscription) string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	at := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	switch at(0) {
	case "time_zone", "locale":
		return at(0)
	case "methods":
		if i, err := strconv.Atoi(at(1)); err == nil && i < len(sub.Methods) {
			return "m-" + sub.Methods[i].ID
		}
		return "methods"
	case "types":
		return "methods"
	case "preferences":
	default:
		return ""
	}
	switch at(1) {
	case "digest":
		switch at(2) {
		case "window":
			return "digest_window"
		case "at":
			return "digest_at"
		}
		return "digest"
	case "quiet_hours":
		i, err := strconv.Atoi(at(2))
		if err != nil || i >= len(quietRows) {
			return "quiet_hours"
		}
		n := "qh" + strconv.Itoa(quietRows[i])
		switch at(3) {
		case "from":
			return n + "_from"
		case "to":
			return n + "_to"
		}
		return n
	case "throttle":
		if at(2) == "max" {
			return "throttle_max"
		}
		return "throttle_per"
	case "paused_until":
		return "paused_until"
	}
	return ""
}

// fieldAnchor is the element a summary's link points to for a field.
func fieldAnchor(field string) string {
	if strings.HasPrefix(field, "m-") {
		return "methods"
	}
	return field
}
