package api_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// reminder is the API's Reminder. Times are kept as the strings sent.
type reminder struct {
	FireKey      string  `json:"fire_key"`
	System       string  `json:"system"`
	Principal    string  `json:"principal"`
	Calendar     string  `json:"calendar"`
	Object       string  `json:"object"`
	UID          string  `json:"uid"`
	RecurrenceID string  `json:"recurrence_id"`
	AlarmID      string  `json:"alarm_id"`
	Component    string  `json:"component"`
	Action       string  `json:"action"`
	Trigger      string  `json:"trigger"`
	State        string  `json:"state"`
	Reason       string  `json:"reason"`
	FiredAt      *string `json:"fired_at"`
	LateSeconds  int64   `json:"late_seconds"`
	Summary      string  `json:"summary"`
}

type reminderList struct {
	Items      []reminder `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// seededReminder is one alarm instance as GET /v1/reminders must show it.
type seededReminder struct {
	key, system, principal, calendar, object string
	uid, rid, alarm, component, action       string
	summary                                  string
	trigger                                  time.Time
	state, reason                            string
	fired                                    time.Time // zero: never fired nor skipped
	late                                     int64
}

// r0 is the trigger of the first seeded reminders.
var r0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// seedReminders records, as the engine does (store.RecordCalendar in a
// durable write, then store.ClaimReminder), the alarm instances of three
// calendars of two systems and two principals, in every state, and
// returns them as the listing must show them, in trigger order.
func (h *harness) seedReminders(t *testing.T) []seededReminder {
	t.Helper()
	ctx := context.Background()
	write := func(fn func(tx *sql.Tx) error) {
		t.Helper()
		if err := h.db.Write(ctx, store.Durable, fn); err != nil {
			t.Fatal(err)
		}
	}
	record := func(c store.CalendarChange) {
		t.Helper()
		write(func(tx *sql.Tx) error { _, err := store.RecordCalendar(ctx, tx, c); return err })
	}
	claim := func(key, state, reason string, now time.Time) {
		t.Helper()
		write(func(tx *sql.Tx) error {
			r, err := store.ClaimReminder(ctx, tx, key, state, reason, now)
			if err == nil && r == nil {
				t.Fatalf("reminder %s not claimed", key)
			}
			return err
		})
	}
	// details is the notification a reminder sends, as the engine writes it.
	details := func(s seededReminder) []byte {
		n := notifyd.Notification{Type: notifyd.TypeReminder,
			Event: &notifyd.Event{Href: s.object, UID: s.uid, Summary: s.summary, Start: s.trigger.Add(10 * time.Minute)},
			Reminder: &notifyd.Reminder{Calendar: s.calendar, Object: s.object, UID: s.uid, RecurrenceID: s.rid,
				AlarmID: s.alarm, Component: s.component, Action: s.action, Trigger: s.trigger}}
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	object := func(href string, seen time.Time, rs ...seededReminder) store.ObjectAlarms {
		oa := store.ObjectAlarms{Object: store.CalendarObject{Href: href, ETag: `"` + href + seen.String() + `"`, UID: "uid-" + href,
			Data: []byte("BEGIN:VCALENDAR"), FirstSeenAt: seen}}
		for _, r := range rs {
			oa.Reminders = append(oa.Reminders, store.ReminderRecord{FireKey: r.key, TriggerAt: r.trigger, Details: details(r)})
		}
		return oa
	}
	seen := r0.Add(-time.Hour)

	// alice's calendar on cal: a daily stand-up (fired on time, fired
	// late, to come), a task skipped as too late, lunch moved an hour.
	aliceCal := store.CalendarRecord{System: sysCal, Principal: alice, Href: alice + "/calendars/Default/", SyncToken: "t1"}
	standup := func(day int) seededReminder {
		trig := r0.Add(time.Duration(day) * 24 * time.Hour)
		return seededReminder{key: digestID("standup", strconv.Itoa(day)), system: sysCal, principal: alice, calendar: aliceCal.Href,
			object: aliceCal.Href + "standup.ics", uid: "standup-uid", rid: trig.Add(10 * time.Minute).Format("20060102T150405Z"),
			alarm: "alarm-1", component: "event", action: "DISPLAY", summary: "Stand-up", trigger: trig, state: store.ReminderScheduled}
	}
	s0, s1, s2 := standup(0), standup(1), standup(2)
	rent := seededReminder{key: digestID("rent"), system: sysCal, principal: alice, calendar: aliceCal.Href,
		object: aliceCal.Href + "rent.ics", uid: "rent-uid", alarm: "b2f1", component: "task", action: "EMAIL",
		summary: "Pay the rent", trigger: r0.Add(time.Hour), state: store.ReminderScheduled}
	lunch := seededReminder{key: digestID("lunch", "12"), system: sysCal, principal: alice, calendar: aliceCal.Href,
		object: aliceCal.Href + "lunch.ics", uid: "lunch-uid", alarm: "alarm-l", component: "event", action: "DISPLAY",
		summary: "Lunch", trigger: r0.Add(2 * time.Hour), state: store.ReminderScheduled}
	lunchMoved := lunch
	lunchMoved.key, lunchMoved.trigger = digestID("lunch", "13"), r0.Add(3*time.Hour)
	record(store.CalendarChange{Calendar: &aliceCal, Now: seen, Changed: []store.ObjectAlarms{
		object(s0.object, seen, s0, s1, s2), object(rent.object, seen, rent), object(lunch.object, seen, lunch)}})

	s0.state, s0.fired = store.ReminderFired, r0.Add(250*time.Millisecond)
	claim(s0.key, s0.state, "", s0.fired)
	s1.state, s1.reason, s1.fired, s1.late = store.ReminderFired, "fired 95s late", s1.trigger.Add(95500*time.Millisecond), 95
	claim(s1.key, s1.state, s1.reason, s1.fired)
	rent.state, rent.fired, rent.late = store.ReminderSkipped, rent.trigger.Add(3*time.Hour), 3*3600
	rent.reason = "late: 3h0m0s after its trigger, beyond the email grace of 2h0m0s"
	claim(rent.key, rent.state, rent.reason, rent.fired)

	record(store.CalendarChange{Calendar: &aliceCal, Now: seen.Add(time.Minute), Changed: []store.ObjectAlarms{
		object(lunch.object, seen.Add(time.Minute), lunchMoved)}})
	lunch.state = store.ReminderCancelled

	// bob's work calendar on cal: a review at the stand-up's trigger (a
	// tie broken by the fire key), and an event deleted.
	bobCal := store.CalendarRecord{System: sysCal, Principal: bob, Href: bob + "/calendars/Work/", SyncToken: "t1"}
	review := seededReminder{key: digestID("review"), system: sysCal, principal: bob, calendar: bobCal.Href,
		object: bobCal.Href + "review.ics", uid: "review-uid", alarm: "alarm-r", component: "event", action: "AUDIO",
		summary: "Code review", trigger: r0, state: store.ReminderScheduled}
	gone := seededReminder{key: digestID("gone"), system: sysCal, principal: bob, calendar: bobCal.Href,
		object: bobCal.Href + "gone.ics", uid: "gone-uid", alarm: "alarm-g", component: "event", action: "DISPLAY",
		summary: "Cancelled party", trigger: r0.Add(5 * time.Hour), state: store.ReminderScheduled}
	record(store.CalendarChange{Calendar: &bobCal, Now: seen, Changed: []store.ObjectAlarms{
		object(review.object, seen, review), object(gone.object, seen, gone)}})
	record(store.CalendarChange{Calendar: &bobCal, Now: seen.Add(time.Minute), Removed: []string{gone.object}})
	gone.state = store.ReminderCancelled

	// alice's calendar on other: a fire key of another shape (a longer
	// digest), whose details lack the reminder and event (summary only).
	otherCal := store.CalendarRecord{System: sysOther, Principal: alice, Href: "/dav/alice/cal/", SyncToken: "x"}
	long := sha256.Sum256([]byte("other"))
	other := seededReminder{key: hex.EncodeToString(long[:]), system: sysOther, principal: alice, calendar: otherCal.Href,
		object: otherCal.Href + "o.ics", summary: "Dentist", trigger: r0.Add(30 * time.Minute), state: store.ReminderScheduled}
	oa := object(other.object, seen)
	oa.Reminders = []store.ReminderRecord{{FireKey: other.key, TriggerAt: other.trigger,
		Details: []byte(`{"type":"reminder","element":"","summary":"Dentist"}`)}}
	record(store.CalendarChange{Calendar: &otherCal, Now: seen, Changed: []store.ObjectAlarms{oa}})

	// The cancellation reasons are the store's.
	for _, r := range []*seededReminder{&lunch, &gone} {
		rec, err := h.db.Reminder(ctx, r.key)
		if err != nil || rec.State != store.ReminderCancelled || rec.Reason == "" {
			t.Fatalf("%s: %+v, %v; want cancelled with a reason", r.key, rec, err)
		}
		r.reason = rec.Reason
	}
	all := []seededReminder{s0, s1, s2, rent, lunch, lunchMoved, review, gone, other}
	slices.SortFunc(all, func(a, b seededReminder) int {
		if c := a.trigger.Compare(b.trigger); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return all
}

// listReminders GETs /v1/reminders?query and decodes the page.
func (h *harness) listReminders(t *testing.T, query string) reminderList {
	t.Helper()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders?" + query, bearer: apiKey})
	if res.status != http.StatusOK {
		t.Fatalf("GET /v1/reminders?%s: %d %s", query, res.status, res.body)
	}
	var page reminderList
	res.decode(t, &page)
	if page.Items == nil {
		t.Fatalf("GET /v1/reminders?%s: no items array: %s", query, res.body)
	}
	return page
}

func fireKeys(rs []reminder) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.FireKey)
	}
	return out
}

// seededKeys returns the fire keys of the seeded reminders keep keeps, in
// trigger order.
func seededKeys(all []seededReminder, keep func(seededReminder) bool) []string {
	out := []string{}
	for _, s := range all {
		if keep(s) {
			out = append(out, s.key)
		}
	}
	return out
}

func TestRemindersRequireAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedReminders(t)
	for name, hdr := range map[string]map[string]string{
		"no Authorization": nil,
		"wrong key":        {"Authorization": "Bearer not-a-key"},
		"ping token":       {"Authorization": "Bearer " + tokenCal},
	} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders", header: hdr})
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, res.status)
			continue
		}
		if p := res.problem(t); p.Type != typeUnauthorized {
			t.Errorf("%s: %s", name, res.body)
		}
		if strings.Contains(string(res.body), "alice") || strings.Contains(string(res.body), "Stand-up") {
			t.Errorf("%s: 401 leaks reminders: %s", name, res.body)
		}
	}
	// A request refused for its key is refused before its filters are
	// looked at.
	res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders?state=bogus"})
	if res.status != http.StatusUnauthorized {
		t.Errorf("bad filter without a key: %d, want 401", res.status)
	}
	if res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders", bearer: apiKey2}); res.status != http.StatusOK {
		t.Errorf("second key: %d %s", res.status, res.body)
	}
}

func TestRemindersEmpty(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, q := range []string{"", "system=" + sysCal, "state=fired&limit=1", "from=2026-01-01T00:00:00Z"} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders?" + q, bearer: apiKey})
		if res.status != http.StatusOK || string(res.body) != `{"items":[]}` {
			t.Errorf("?%s: %d %s, want 200 {\"items\":[]}", q, res.status, res.body)
		}
	}
}

// Every field of every state, as an operator reads it: what the alarm
// is, when it rang or would have, and why not.
func TestRemindersFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	want := h.seedReminders(t)
	page := h.listReminders(t, "")
	if page.NextCursor != nil {
		t.Errorf("next_cursor %q on the only page", *page.NextCursor)
	}
	if got, w := fireKeys(page.Items), seededKeys(want, func(seededReminder) bool { return true }); !reflect.DeepEqual(got, w) {
		t.Fatalf("fire keys %q, want %q (trigger order)", got, w)
	}
	at := func(t *testing.T, field, got string, want time.Time) {
		t.Helper()
		p, err := time.Parse(time.RFC3339Nano, got)
		if err != nil || !p.Equal(want) {
			t.Errorf("%s %q, want %s", field, got, want.Format(time.RFC3339Nano))
		}
	}
	for i, s := range want {
		r := page.Items[i]
		t.Run(s.summary+" "+s.state, func(t *testing.T) {
			got := [][2]string{{r.System, s.system}, {r.Principal, s.principal}, {r.Calendar, s.calendar}, {r.Object, s.object},
				{r.UID, s.uid}, {r.RecurrenceID, s.rid}, {r.AlarmID, s.alarm}, {r.Component, s.component}, {r.Action, s.action},
				{r.State, s.state}, {r.Reason, s.reason}, {r.Summary, s.summary}}
			for j, g := range got {
				if g[0] != g[1] {
					t.Errorf("field %d of %+v: %q, want %q", j, r, g[0], g[1])
				}
			}
			at(t, "trigger", r.Trigger, s.trigger)
			if s.fired.IsZero() {
				if r.FiredAt != nil {
					t.Errorf("fired_at %q, want none", *r.FiredAt)
				}
			} else if r.FiredAt == nil {
				t.Errorf("no fired_at, want %s", s.fired)
			} else {
				at(t, "fired_at", *r.FiredAt, s.fired)
			}
			if r.LateSeconds != s.late {
				t.Errorf("late_seconds %d, want %d", r.LateSeconds, s.late)
			}
		})
	}
	// The raw JSON leaves fired_at out, rather than null or zero, until
	// the reminder is handled.
	res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders?state=scheduled", bearer: apiKey})
	if strings.Contains(string(res.body), "fired_at") {
		t.Errorf("scheduled reminders with fired_at: %s", res.body)
	}
}

func TestRemindersFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedReminders(t)
	q := url.QueryEscape
	for _, tt := range []struct {
		query string
		keep  func(seededReminder) bool
	}{
		{"system=cal", func(s seededReminder) bool { return s.system == sysCal }},
		{"system=other", func(s seededReminder) bool { return s.system == sysOther }},
		{"system=nowhere", func(s seededReminder) bool { return false }},
		{"principal=" + q(alice), func(s seededReminder) bool { return s.principal == alice }},
		// Other spellings of the same hrefs.
		{"principal=" + q("/p/%7ealice"), func(s seededReminder) bool { return s.principal == alice }},
		{"principal=" + q("/p/b%c3%b6b"), func(s seededReminder) bool { return s.principal == bob }},
		{"system=cal&principal=" + q(alice), func(s seededReminder) bool { return s.system == sysCal && s.principal == alice }},
		{"state=scheduled", func(s seededReminder) bool { return s.state == store.ReminderScheduled }},
		{"state=fired", func(s seededReminder) bool { return s.state == store.ReminderFired }},
		{"state=skipped", func(s seededReminder) bool { return s.state == store.ReminderSkipped }},
		{"state=cancelled", func(s seededReminder) bool { return s.state == store.ReminderCancelled }},
		{"state=cancelled&principal=" + q(bob), func(s seededReminder) bool { return s.state == store.ReminderCancelled && s.principal == bob }},
		// from is included, to excluded.
		{"from=2026-03-02T09:00:00Z", func(s seededReminder) bool { return !s.trigger.Before(r0) }},
		{"from=2026-03-02T09:00:00.000001Z", func(s seededReminder) bool { return s.trigger.After(r0) }},
		{"to=2026-03-02T10:00:00Z", func(s seededReminder) bool { return s.trigger.Before(r0.Add(time.Hour)) }},
		{"from=2026-03-02T09:30:00Z&to=2026-03-02T12:00:00Z", func(s seededReminder) bool {
			return !s.trigger.Before(r0.Add(30*time.Minute)) && s.trigger.Before(r0.Add(3*time.Hour))
		}},
		// An offset is the same instant: 10:00+01:00 is 09:00Z.
		{"from=" + q("2026-03-02T10:00:00+01:00") + "&to=2026-03-02T09:00:01Z", func(s seededReminder) bool { return s.trigger.Equal(r0) }},
		{"from=2026-03-03T00:00:00Z&state=fired", func(s seededReminder) bool {
			return s.state == store.ReminderFired && !s.trigger.Before(r0.Add(15*time.Hour))
		}},
		{"from=2030-01-01T00:00:00Z", func(s seededReminder) bool { return false }},
	} {
		want := seededKeys(all, tt.keep)
		if got := fireKeys(h.listReminders(t, tt.query).Items); !reflect.DeepEqual(got, want) {
			t.Errorf("?%s: %q, want %q", tt.query, got, want)
		}
	}
}

func TestRemindersBadQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedReminders(t)
	cursor := func(raw string) string { return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(raw))) }
	for _, tt := range []struct {
		query  string
		fields []string
	}{
		{"state=late", []string{"query.state"}},
		{"state=FIRED", []string{"query.state"}},
		{"state=", []string{"query.state"}},
		{"from=yesterday", []string{"query.from"}},
		{"from=2026-03-02", []string{"query.from"}},
		{"to=2026-03-02T09:00:00", []string{"query.to"}},       // no offset
		{"to=2026-03-02T10:00:00+01:00", []string{"query.to"}}, // "+" unencoded: a space
		{"from=2026-02-30T09:00:00Z", []string{"query.from"}},  // no such day
		{"from=2026-02-30T09:00:00Z&to=2026-02-31T09:00:00Z", []string{"query.from", "query.to"}},
		{"from=2026-03-02T09:00:00Z&to=2026-03-02T09:00:00Z", []string{"query.to"}}, // empty range
		{"from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z", []string{"query.to"}},
		{"from=" + strings.Repeat("9", 65), []string{"query.from"}},
		{"limit=0", []string{"query.limit"}},
		{"limit=501", []string{"query.limit"}},
		{"cursor=%21%21%21", []string{"query.cursor"}},                     // not base64
		{"cursor=" + cursor("short"), []string{"query.cursor"}},            // no position
		{"cursor=" + cursor("123."), []string{"query.cursor"}},             // no key
		{"cursor=" + cursor("123.a\x00b"), []string{"query.cursor"}},       // not text
		{"cursor=" + cursor("x."+digestID("a")), []string{"query.cursor"}}, // no time
		{"cursor=" + strings.Repeat("A", 513), []string{"query.cursor"}},
		{"principal=relative/path", []string{"query.principal"}},
		{"system=" + strings.Repeat("s", 65), []string{"query.system"}},
		{"state=late&limit=0", []string{"query.limit", "query.state"}},
	} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders?" + tt.query, bearer: apiKey})
		if res.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", tt.query, res.status, res.body)
			continue
		}
		p := res.problem(t)
		got := p.fields()
		slices.Sort(got)
		if p.Type != typeValidation || !reflect.DeepEqual(got, tt.fields) {
			t.Errorf("?%s: %s fields %q, want %q: %s", tt.query, p.Type, got, tt.fields, res.body)
		}
	}
}

func TestRemindersPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedReminders(t)
	for _, tt := range []struct {
		query string
		keep  func(seededReminder) bool
		limit int
	}{
		{"", func(seededReminder) bool { return true }, 1},
		{"", func(seededReminder) bool { return true }, 2},
		{"", func(seededReminder) bool { return true }, len(all) - 1},
		{"", func(seededReminder) bool { return true }, len(all)},
		{"", func(seededReminder) bool { return true }, 500},
		{"system=cal&", func(s seededReminder) bool { return s.system == sysCal }, 2},
		{"principal=" + url.QueryEscape(alice) + "&", func(s seededReminder) bool { return s.principal == alice }, 3},
		{"state=scheduled&", func(s seededReminder) bool { return s.state == store.ReminderScheduled }, 1},
		{"from=2026-03-02T09:00:00Z&to=2026-03-03T09:00:00Z&", func(s seededReminder) bool {
			return !s.trigger.Before(r0) && s.trigger.Before(r0.Add(24*time.Hour))
		}, 2},
	} {
		want := seededKeys(all, tt.keep)
		got := []string{}
		cursor, pages := "", 0
		for {
			q := tt.query + "limit=" + strconv.Itoa(tt.limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			page := h.listReminders(t, q)
			pages++
			if len(page.Items) > tt.limit {
				t.Fatalf("?%s: %d items, over the limit", q, len(page.Items))
			}
			got = append(got, fireKeys(page.Items)...)
			if page.NextCursor == nil {
				break
			}
			if len(page.Items) != tt.limit {
				t.Errorf("?%s: a short page (%d) with a next_cursor", q, len(page.Items))
			}
			if *page.NextCursor == "" || pages > len(all)+1 {
				t.Fatalf("?%s: next_cursor %q after %d pages", q, *page.NextCursor, pages)
			}
			cursor = *page.NextCursor
		}
		// In trigger order, each once, across the pages.
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%slimit=%d: pages hold %q, want %q", tt.query, tt.limit, got, want)
		}
		if wantPages := max(1, (len(want)+tt.limit-1)/tt.limit); pages != wantPages {
			t.Errorf("%slimit=%d: %d pages, want %d (next_cursor must be absent on the last)", tt.query, tt.limit, pages, wantPages)
		}
	}

	// A cursor past the last reminder is an empty last page. (A cursor is
	// the trigger time in unix microseconds and the fire key of the last
	// reminder of the previous page.)
	last := all[len(all)-1]
	page := h.listReminders(t, "cursor="+base64.RawURLEncoding.EncodeToString([]byte("99999999999999999."+last.key)))
	if len(page.Items) != 0 || page.NextCursor != nil {
		t.Errorf("after the last: %+v", page)
	}
}

// With the database gone the reminders are unavailable (503), not empty.
func TestRemindersUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedReminders(t)
	h.db.Close()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/reminders", bearer: apiKey})
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d %s, want 503", res.status, res.body)
	}
	if p := res.problem(t); p.Type != typeUnavailable {
		t.Errorf("%s", res.body)
	}
}
