package console

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd/store"
)

// pingWindow is the window the pings per minute are averaged over.
const pingWindow = 15 * time.Minute

// maxDueReminders bounds the reminders counted as due in the next hour.
const maxDueReminders = 1000

// systemHealth is one system's card on the health page.
type systemHealth struct {
	Name                            string
	H                               store.SystemHealth
	LastPing, LastSync, LastPingISO string
	PingsPerMinute                  string
	Errors                          []store.PrincipalState
	OldestWaiting, OldestWaitingISO string
	Channels                        []channelHealth
	RemindersDue                    string
	Chart                           template.HTML
}

// channelHealth is one channel's deliveries over the last hour and day.
type channelHealth struct {
	Channel                          string
	Hour, HourFailed, Day, DayFailed int64
	HourRate, DayRate                string
}

// healthData is the health page's.
type healthData struct {
	Systems []systemHealth
	Backlog []backlogRow
	Now     string
}

type backlogRow struct {
	Kind string
	N    int64
}

// failedStatus reports whether a delivery status counts as a failure.
func failedStatus(s string) bool {
	return s == store.DeliveryFailed || s == store.DeliveryUndelivered || s == store.DeliveryBounced
}

func (c *Console) health(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	now := c.o.Now()
	v := c.view(r, s, "health.title")
	v.Nav = "health"
	hs, err := c.o.Store.SystemsHealth(ctx, now.Add(-pingWindow))
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	counts, err := c.o.Store.DeliveryCounts(ctx, now.Add(-24*time.Hour).Truncate(time.Hour))
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	oldest, err := c.o.Store.OldestWaiting(ctx)
	if err != nil {
		c.unavailable(w, r, s, err)
		return
	}
	byName := map[string]store.SystemHealth{}
	for _, h := range hs {
		byName[h.System] = h
	}
	d := &healthData{Now: when(now)}
	for _, name := range c.visibleSystems(s.who) {
		sh := systemHealth{Name: name, H: byName[name]}
		sh.LastPing, sh.LastPingISO, sh.LastSync = when(sh.H.LastPingAt), iso(sh.H.LastPingAt), when(sh.H.LastSyncAt)
		sh.PingsPerMinute = strconv.FormatFloat(float64(sh.H.PingedSince)/pingWindow.Minutes(), 'f', 1, 64)
		if sh.H.Failing > 0 {
			if sh.Errors, err = c.o.Store.SyncErrors(ctx, name, 5); err != nil {
				c.unavailable(w, r, s, err)
				return
			}
		}
		if at, ok := oldest[name]; ok {
			sh.OldestWaiting, sh.OldestWaitingISO = when(at)+" ("+ago(v, now.Sub(at))+")", iso(at)
		}
		sh.Channels, sh.Chart = channelStats(v, counts, name, now)
		due, err := c.o.Store.Reminders(ctx, store.ReminderFilter{System: name, State: store.ReminderScheduled,
			From: now, To: now.Add(time.Hour), Limit: maxDueReminders})
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		sh.RemindersDue = strconv.Itoa(len(due))
		if len(due) == maxDueReminders {
			sh.RemindersDue += "+"
		}
		d.Systems = append(d.Systems, sh)
	}
	if len(s.who.Systems) == 0 && c.o.Backlog != nil {
		// The backlog counts every system's work: an identity scoped to
		// some does not see it.
		b, err := c.o.Backlog(ctx)
		if err != nil {
			c.unavailable(w, r, s, err)
			return
		}
		for _, k := range store.BacklogKinds {
			d.Backlog = append(d.Backlog, backlogRow{Kind: v.T("backlog." + k), N: b[k]})
		}
	}
	v.Data = d
	c.render(w, http.StatusOK, "health.html", v)
}

// ago writes a duration for people, roughly.
func ago(v *view, d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
}

// rate writes failed out of total as a percentage.
func rate(failed, total int64) string {
	if total == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*float64(failed)/float64(total), 'f', 1, 64) + " %"
}

// channelStats sums a system's deliveries by channel over the last hour
// and day, and charts them by hour.
func channelStats(v *view, counts []store.DeliveryCount, system string, now time.Time) ([]channelHealth, template.HTML) {
	byChannel := map[string]*channelHealth{}
	var order []string
	start := now.Add(-23 * time.Hour).Truncate(time.Hour)
	var ok, bad [24]int64
	for _, c := range counts {
		if c.System != system {
			continue
		}
		ch := byChannel[c.Channel]
		if ch == nil {
			ch = &channelHealth{Channel: v.T("channel." + c.Channel)}
			byChannel[c.Channel] = ch
			order = append(order, c.Channel)
		}
		failed := failedStatus(c.Status)
		ch.Day += c.N
		if failed {
			ch.DayFailed += c.N
		}
		if !c.Hour.Before(now.Add(-time.Hour).Truncate(time.Hour)) {
			// The current and the previous clock hour: the last hour,
			// rounded out to whole hours.
			ch.Hour += c.N
			if failed {
				ch.HourFailed += c.N
			}
		}
		if i := int(c.Hour.Sub(start) / time.Hour); i >= 0 && i < 24 {
			if failed {
				bad[i] += c.N
			} else {
				ok[i] += c.N
			}
		}
	}
	var out []channelHealth
	for _, name := range order {
		ch := byChannel[name]
		ch.HourRate, ch.DayRate = rate(ch.HourFailed, ch.Hour), rate(ch.DayFailed, ch.Day)
		out = append(out, *ch)
	}
	return out, chart(v, system, start, ok, bad)
}

// chart draws 24 hourly bars, sent and failed stacked, as inline SVG
// (presentation attributes, no style: the page's CSP holds), with a text
// equivalent for screen readers.
func chart(v *view, system string, start time.Time, ok, bad [24]int64) template.HTML {
	const w, h, top, bottom, left = 480, 160, 10, 20, 30
	var peak int64 = 1
	for i := range ok {
		peak = max(peak, ok[i]+bad[i])
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	title := v.T("chart.title") + " — " + system
	b.WriteString(`<svg class="chart" viewBox="0 0 ` + strconv.Itoa(w) + ` ` + strconv.Itoa(h) + `" role="img" aria-label="` + esc(title) + `">`)
	b.WriteString(`<title>` + esc(title) + `</title>`)
	plot := float64(h - top - bottom)
	barW := float64(w-left) / 24
	b.WriteString(`<line x1="` + strconv.Itoa(left) + `" y1="` + strconv.Itoa(h-bottom) + `" x2="` + strconv.Itoa(w) + `" y2="` + strconv.Itoa(h-bottom) + `" stroke="#6e7781"/>`)
	b.WriteString(`<text x="0" y="` + strconv.Itoa(top+8) + `">` + strconv.FormatInt(peak, 10) + `</text>`)
	b.WriteString(`<text x="0" y="` + strconv.Itoa(h-bottom) + `">0</text>`)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	for i := range 24 {
		x := float64(left) + float64(i)*barW + 1
		okH := plot * float64(ok[i]) / float64(peak)
		badH := plot * float64(bad[i]) / float64(peak)
		y := float64(h-bottom) - okH
		hour := start.Add(time.Duration(i) * time.Hour).UTC().Format("15:04")
		label := hour + ": " + strconv.FormatInt(ok[i], 10) + " " + v.T("chart.ok") + ", " + strconv.FormatInt(bad[i], 10) + " " + v.T("chart.failed")
		b.WriteString(`<g><title>` + esc(label) + `</title>`)
		if ok[i] > 0 {
			b.WriteString(`<rect x="` + f(x) + `" y="` + f(y) + `" width="` + f(barW-2) + `" height="` + f(okH) + `" fill="#2da44e"/>`)
		}
		if bad[i] > 0 {
			b.WriteString(`<rect x="` + f(x) + `" y="` + f(y-badH) + `" width="` + f(barW-2) + `" height="` + f(badH) + `" fill="#cf222e"/>`)
		}
		b.WriteString(`</g>`)
		if i%6 == 0 {
			b.WriteString(`<text x="` + f(x) + `" y="` + strconv.Itoa(h-4) + `">` + hour + `</text>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}
