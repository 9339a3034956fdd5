package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

const typeUnknownCalendar = "urn:notifyd:problem:unknown-calendar"

// Payloads of the publish tests.
const (
	pubEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:ev-1@example.org\r\n" +
		"DTSTAMP:20261130T080000Z\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSUMMARY:Standup\r\n" +
		"BEGIN:VALARM\r\nUID:alarm-1\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	pubTodo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:todo-1@example.org\r\n" +
		"DTSTAMP:20261130T080000Z\r\nDUE:20261202T170000Z\r\nSUMMARY:Report\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	pubCalendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nX-WR-CALNAME:Work\r\nEND:VCALENDAR\r\n"
	pubXCal     = `<?xml version="1.0" encoding="utf-8"?><icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><components>` +
		`<vevent><properties><uid><text>ev-1@example.org</text></uid><dtstart><date-time>2026-12-01T09:00:00Z</date-time></dtstart>` +
		`<summary><text>Standup (xCal)</text></summary></properties></vevent></components></vcalendar></icalendar>`
	pubSunXML = `<?xml version="1.0" encoding="UTF-8"?><iCalendar><iCal version="2.0"><TODO><UID>todo-1@example.org</UID>` +
		`<START>20261201T080000Z</START><DUE>20261202T170000Z</DUE><SUMMARY>Report (Sun)</SUMMARY></TODO></iCal></iCalendar>`
)

// pub is a publish for system cal with its token, wilma as principal,
// and the given members on top.
func pub(members map[string]any) map[string]any {
	out := map[string]any{"system": sysCal, "token": tokenCal, "principal": "/p/wilma"}
	for k, v := range members {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// publishAnswer is the answer to an acknowledged publish.
type publishAnswer struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
	Topic     string `json:"topic"`
	Type      string `json:"type"`
	Principal string `json:"principal"`
}

// publish sends body and returns the answer, failing unless the status
// is want.
func (h *harness) publish(t *testing.T, body any, want int) publishAnswer {
	t.Helper()
	res := h.do(t, request{method: http.MethodPost, path: "/v1/events", body: jsonBody(t, body)})
	if res.status != want {
		t.Fatalf("publish %v: status %d, want %d; body %s", body, res.status, want, res.body)
	}
	var a publishAnswer
	res.decode(t, &a)
	return a
}

// published reads back what a publish recorded: its row and notification,
// and the number of its jobs.
type publishedRow struct {
	topic, principal, calid, uid, rid, aid string
	n                                      notifyd.Notification
	jobs                                   int
}

func (h *harness) published(t *testing.T, id string) publishedRow {
	t.Helper()
	var r publishedRow
	var parsed string
	if err := testdb.QueryRow(h.db, `SELECT topic, principal, calid, uid, rid, aid, notification FROM published_events WHERE id = $1`, id).
		Scan(&r.topic, &r.principal, &r.calid, &r.uid, &r.rid, &r.aid, &parsed); err != nil {
		t.Fatalf("published event %s: %v", id, err)
	}
	if err := json.Unmarshal([]byte(parsed), &r.n); err != nil {
		t.Fatal(err)
	}
	if err := testdb.QueryRow(h.db, `SELECT count(*) FROM river_job WHERE kind = 'deliver_published' AND CAST(args AS TEXT) LIKE $1`, "%"+id+"%").Scan(&r.jobs); err != nil {
		t.Fatal(err)
	}
	return r
}

// recorded counts the published events and jobs stored.
func (h *harness) recorded(t *testing.T) (events, jobs int) {
	t.Helper()
	if err := testdb.QueryRow(h.db, `SELECT count(*) FROM published_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := testdb.QueryRow(h.db, `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	return events, jobs
}

// Every topic is accepted with what it needs, recorded with one job, and
// becomes the notification type it stands for.
func TestPublishEveryTopic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := map[string]any{"uid": "ev-1@example.org", "content_type": "text/calendar", "payload": pubEvent}
	todo := map[string]any{"uid": "todo-1@example.org", "content_type": "text/calendar", "payload": pubTodo}
	cal := map[string]any{"calid": "/cal/wilma/work/"}
	with := func(base map[string]any, topic string, extra ...any) map[string]any {
		m := map[string]any{"topic": topic}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return pub(m)
	}
	for _, tt := range []struct {
		body           map[string]any
		typ, component string
	}{
		{with(ev, "alarm", "aid", "alarm-1"), "reminder", ""},
		{with(ev, "event-create"), "event-created", "event"},
		{with(ev, "event-modify", "rid", "20261201T090000Z"), "event-modified", "event"},
		{with(ev, "event-delete", "payload", nil, "content_type", nil), "event-deleted", "event"},
		{with(todo, "todo-create"), "todo-created", "todo"},
		{with(todo, "todo-modify", "comptype", "todo"), "todo-modified", "todo"},
		{with(todo, "todo-delete"), "todo-deleted", "todo"},
		{with(cal, "calendar-create", "content_type", "text/calendar", "payload", pubCalendar), "calendar-created", "calendar"},
		{with(cal, "calendar-modify", "content_type", "text/calendar", "payload", pubCalendar), "calendar-modified", "calendar"},
		{with(cal, "calendar-delete"), "calendar-deleted", "calendar"},
		{with(ev, "event-reply", "triggered_by", "mailto:fred@example.org"), "invitation-reply", ""},
		{with(ev, "event-refresh"), "refresh-request", ""},
	} {
		topic := tt.body["topic"].(string)
		a := h.publish(t, tt.body, http.StatusAccepted)
		if a.Duplicate || a.Topic != topic || a.Type != tt.typ || a.Principal != "/p/wilma" || a.ID == "" {
			t.Errorf("%s: answer %+v", topic, a)
			continue
		}
		r := h.published(t, a.ID)
		if r.topic != topic || r.principal != "/p/wilma" || r.jobs != 1 || string(r.n.Type) != tt.typ {
			t.Errorf("%s: recorded %+v", topic, r)
		}
		switch {
		case tt.typ == "reminder":
			if r.n.Reminder == nil || r.n.Reminder.AlarmID != "alarm-1" || r.n.Reminder.UID != "ev-1@example.org" || r.n.Event.Summary != "Standup" {
				t.Errorf("%s: notification %+v", topic, r.n)
			}
		case tt.component != "":
			u := r.n.Update
			if u == nil || u.Component != tt.component || u.Action != strings.SplitN(tt.typ, "-", 2)[1] {
				t.Errorf("%s: update %+v", topic, u)
			}
		default:
			s, method := r.n.Scheduling, map[string]string{"event-reply": "REPLY", "event-refresh": "REFRESH"}[topic]
			if s == nil || s.Method != method || s.UID != "ev-1@example.org" || r.n.Event.Summary != "Standup" {
				t.Errorf("%s: scheduling %+v", topic, s)
			}
		}
	}
	m := h.metrics(t)
	if m["notifyd_published_accepted_total"] != 12 || m["notifyd_published_duplicates_total"] != 0 {
		t.Errorf("accepted %v, duplicates %v", m["notifyd_published_accepted_total"], m["notifyd_published_duplicates_total"])
	}
}

// Both payload formats, iCalendar and XML (xCal and Sun's), are read.
func TestPublishPayloadFormats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct {
		topic, contentType, payload, summary string
		start                                time.Time
	}{
		{"event-create", "text/calendar; charset=utf-8", pubEvent, "Standup", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"event-modify", "application/xml", pubXCal, "Standup (xCal)", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"todo-create", "text/xml", pubSunXML, "Report (Sun)", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
	} {
		a := h.publish(t, pub(map[string]any{"topic": tt.topic, "content_type": tt.contentType, "payload": tt.payload}), http.StatusAccepted)
		r := h.published(t, a.ID)
		if r.n.Event == nil || r.n.Event.Summary != tt.summary || !r.n.Event.Start.Equal(tt.start) || r.uid == "" {
			t.Errorf("%s: notification %+v, event %+v", tt.contentType, r.n, r.n.Event)
		}
	}
}

// The ENS event URL form: its parameters are the identifiers, decoded and
// normalised.
func TestPublishENSURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.publish(t, pub(map[string]any{
		"topic": "enp:///ics/alarms?calid=%2Fcal%2Fwilma%2Fwork%2F&uid=ev-1%40example.org&rid=2026-12-01T10%3A00%3A00%2B01%3A00&aid=alarm-1&comptype=event",
		// The same value in the body as in the URL is no conflict.
		"uid": "ev-1@example.org", "content_type": "text/calendar", "payload": pubEvent,
	}), http.StatusAccepted)
	r := h.published(t, a.ID)
	if a.Topic != "alarm" || r.calid != "/cal/wilma/work/" || r.uid != "ev-1@example.org" || r.rid != "20261201T090000Z" || r.aid != "alarm-1" {
		t.Fatalf("answer %+v, recorded %+v", a, r)
	}
	if rem := r.n.Reminder; rem == nil || rem.Calendar != "/cal/wilma/work/" || rem.RecurrenceID != "20261201T090000Z" || rem.Component != "event" {
		t.Errorf("reminder %+v", rem)
	}
	// Written the other way, it is the same event.
	again := h.publish(t, pub(map[string]any{"topic": "alarm", "calid": "/cal/wilma/work/", "uid": "ev-1@example.org",
		"rid": "20261201T090000Z", "aid": "alarm-1"}), http.StatusOK)
	if !again.Duplicate || again.ID != a.ID {
		t.Errorf("the same alarm as members: %+v", again)
	}
}

// A second publish of the same event is acknowledged (200, duplicate)
// and records nothing; concurrent ones too, exactly one of them new.
func TestPublishDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := pub(map[string]any{"topic": "event-create", "uid": "dup-1", "calid": "/cal/wilma/"})
	first := h.publish(t, body, http.StatusAccepted)
	second := h.publish(t, body, http.StatusOK)
	if first.Duplicate || !second.Duplicate || first.ID != second.ID {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	// The principal is not part of the event's identity; the payload is
	// not either, for a creation.
	if a := h.publish(t, pub(map[string]any{"topic": "event-create", "uid": "dup-1", "calid": "/cal/wilma/", "principal": "/p/other",
		"content_type": "text/calendar", "payload": strings.ReplaceAll(pubEvent, "ev-1@example.org", "dup-1")}), http.StatusOK); !a.Duplicate || a.Principal != "/p/wilma" {
		t.Errorf("same event, other principal and payload: %+v, want a duplicate for the first one's principal", a)
	}
	// Another instance, alarm, topic or system is another event.
	for _, b := range []map[string]any{
		pub(map[string]any{"topic": "event-create", "uid": "dup-1", "calid": "/cal/wilma/", "rid": "20261201"}),
		pub(map[string]any{"topic": "event-modify", "uid": "dup-1", "calid": "/cal/wilma/", "content_type": "text/calendar",
			"payload": strings.ReplaceAll(pubEvent, "ev-1@example.org", "dup-1")}),
		pub(map[string]any{"topic": "event-create", "uid": "dup-1", "calid": "/cal/wilma/", "system": sysOther, "token": tokenOther}),
	} {
		if a := h.publish(t, b, http.StatusAccepted); a.Duplicate {
			t.Errorf("%v: duplicate", b)
		}
	}
	const n = 16
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	body = pub(map[string]any{"topic": "todo-delete", "uid": "race-1"})
	for i := 0; i < n; i++ {
		wg.Go(func() {
			res := h.do(t, request{method: http.MethodPost, path: "/v1/events", body: jsonBody(t, body)})
			statuses <- res.status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusAccepted] != 1 || counts[http.StatusOK] != n-1 {
		t.Errorf("concurrent publishes of one event: %v", counts)
	}
	events, jobs := h.recorded(t)
	if events != 5 || jobs != 5 {
		t.Errorf("%d events and %d jobs recorded, want 5 and 5", events, jobs)
	}
	m := h.metrics(t)
	if m["notifyd_published_accepted_total"] != 5 || m["notifyd_published_duplicates_total"] != 2+n-1 {
		t.Errorf("accepted %v, duplicates %v", m["notifyd_published_accepted_total"], m["notifyd_published_duplicates_total"])
	}
	// Their jobs wait (this process runs none): outstanding work.
	if got := m[`notifyd_backlog{work="published"}`]; got != 5 {
		t.Errorf(`notifyd_backlog{work="published"} = %v, want 5`, got)
	}
}

// Without a principal, the calid names the calendar whose owner gets the
// event; one notifyd does not know is a 422 naming calid.
func TestPublishCalendarOwner(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cal := store.CalendarRecord{System: sysCal, Principal: "/p/fred", Href: "/cal/fred/Default/", DisplayName: "Fred's"}
	if err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		_, err := store.RecordCalendar(ctx, tx, store.CalendarChange{System: sysCal, Principal: "/p/fred", CalendarHref: cal.Href, Calendar: &cal, Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	a := h.publish(t, pub(map[string]any{"principal": nil, "topic": "enp:///ics/caleventcreate?calid=%2Fcal%2Ffred%2FDefault&uid=e1"}), http.StatusAccepted)
	if a.Principal != "/p/fred" {
		t.Fatalf("answer %+v", a)
	}
	if r := h.published(t, a.ID); r.n.Calendar.Href != "/cal/fred/Default" || r.n.Calendar.DisplayName != "Fred's" {
		t.Errorf("calendar %+v", r.n.Calendar)
	}
	res := h.do(t, request{method: http.MethodPost, path: "/v1/events", body: jsonBody(t, pub(map[string]any{"principal": nil,
		"topic": "event-create", "calid": "/cal/nobody/", "uid": "e1"}))})
	if p := res.problem(t); res.status != http.StatusUnprocessableEntity || p.Type != typeUnknownCalendar || !reflect.DeepEqual(p.fields(), []string{"/calid"}) {
		t.Errorf("unknown calendar: %d %s", res.status, res.body)
	}
}

// A publish that cannot be recorded is a 503 with Retry-After, and
// nothing is recorded.
func TestPublishUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.publisher.Close() // as during shutdown
	res := h.do(t, request{method: http.MethodPost, path: "/v1/events", body: jsonBody(t, pub(map[string]any{"topic": "event-create", "uid": "e1"}))})
	if res.status != http.StatusServiceUnavailable || res.problem(t).Type != typeUnavailable || res.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, headers %v; body %s", res.status, res.header, res.body)
	}
	if events, jobs := h.recorded(t); events != 0 || jobs != 0 {
		t.Errorf("recorded %d events, %d jobs", events, jobs)
	}
	if m := h.metrics(t); m[`notifyd_published_rejected_total{reason="unavailable"}`] != 1 {
		t.Errorf("rejected{unavailable} %v", m[`notifyd_published_rejected_total{reason="unavailable"}`])
	}
}

// badPublish is a publish notifyd must refuse, with the status, problem
// type, field and metric reason of the answer.
type badPublish struct {
	name string
	// body is the request body: a map (JSON-encoded) or a string (raw).
	body        any
	contentType string
	bearer      string
	status      int
	typ         string
	field       string // must be errors[].field ("-": no field errors)
	reason      string
}

func badPublishes() []badPublish {
	const v, iv, mt = http.StatusBadRequest, typeValidation, typeMediaType
	ev := func(m map[string]any) map[string]any {
		m["content_type"], m["payload"] = "text/calendar", pubEvent
		return pub(m)
	}
	xml := func(payload string) map[string]any {
		return pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/xml", "payload": payload})
	}
	return []badPublish{
		// The topic.
		{"unknown topic", pub(map[string]any{"topic": "meeting", "uid": "e1"}), "", "", v, iv, "/topic", "bad_topic"},
		{"Sun's config name, not a topic", pub(map[string]any{"topic": "caldb.berkeleydb.ensmsg.createevent", "uid": "e1"}), "", "", v, iv, "/topic", "bad_topic"},
		{"empty topic", pub(map[string]any{"topic": "", "uid": "e1"}), "", "", v, iv, "/topic", "invalid"},
		{"no topic", pub(map[string]any{"uid": "e1"}), "", "", v, iv, "/topic", "invalid"},
		{"unknown ENS URL", pub(map[string]any{"topic": "enp:///ics/calfoo?uid=e1"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, other scheme", pub(map[string]any{"topic": "http:///ics/caleventcreate?uid=e1"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, opaque", pub(map[string]any{"topic": "enp:ics/caleventcreate?uid=e1"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, unknown parameter", pub(map[string]any{"topic": "enp:///ics/caleventcreate?uid=e1&user=fred"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, parameter twice", pub(map[string]any{"topic": "enp:///ics/caleventcreate?uid=e1&uid=e2"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, bad escape", pub(map[string]any{"topic": "enp:///ics/caleventcreate?uid=e%zz"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL and member differ", pub(map[string]any{"topic": "enp:///ics/caleventcreate?uid=e1", "uid": "e2"}), "", "", v, iv, "/topic", "bad_topic"},
		{"ENS URL, bad rid", pub(map[string]any{"topic": "enp:///ics/caleventmodify?uid=e1&rid=tomorrow"}), "", "", v, iv, "/topic", "bad_topic"},
		// Identifiers per topic.
		{"event without uid", pub(map[string]any{"topic": "event-create"}), "", "", v, iv, "/uid", "invalid"},
		{"alarm without aid", pub(map[string]any{"topic": "alarm", "uid": "e1"}), "", "", v, iv, "/aid", "invalid"},
		{"aid on an event change", pub(map[string]any{"topic": "event-create", "uid": "e1", "aid": "a1"}), "", "", v, iv, "/aid", "invalid"},
		{"calendar without calid", pub(map[string]any{"topic": "calendar-create"}), "", "", v, iv, "/calid", "invalid"},
		{"calendar with uid", pub(map[string]any{"topic": "calendar-delete", "calid": "/cal/w/", "uid": "e1"}), "", "", v, iv, "/uid", "invalid"},
		{"no principal nor calid", pub(map[string]any{"principal": nil, "topic": "event-create", "uid": "e1"}), "", "", v, iv, "/principal", "invalid"},
		{"bad rid", pub(map[string]any{"topic": "event-create", "uid": "e1", "rid": "next tuesday"}), "", "", v, iv, "/rid", "invalid"},
		{"comptype of another topic", pub(map[string]any{"topic": "event-create", "uid": "e1", "comptype": "todo"}), "", "", v, iv, "/comptype", "invalid"},
		{"unknown comptype", pub(map[string]any{"topic": "alarm", "uid": "e1", "aid": "a", "comptype": "journal"}), "", "", v, iv, "/comptype", "invalid"},
		{"control character in uid", pub(map[string]any{"topic": "event-create", "uid": "e\u00011"}), "", "", v, iv, "/uid", "invalid"},
		{"calid escaping its path", pub(map[string]any{"topic": "calendar-delete", "calid": "/cal/../etc/"}), "", "", v, iv, "/calid", "invalid"},
		{"unknown calid, no principal", pub(map[string]any{"principal": nil, "topic": "event-create", "uid": "e1", "calid": "/cal/nobody/"}), "", "", http.StatusUnprocessableEntity, typeUnknownCalendar, "/calid", "unknown_calendar"},
		{"Sun calid, no principal", pub(map[string]any{"principal": nil, "topic": "event-create", "uid": "e1", "calid": "wilma:work"}), "", "", http.StatusUnprocessableEntity, typeUnknownCalendar, "/calid", "unknown_calendar"},
		{"principal with ..", pub(map[string]any{"principal": "/p/../admin", "topic": "event-create", "uid": "e1"}), "", "", v, iv, "/principal", "bad_href"},
		{"principal outside the prefix", pub(map[string]any{"system": sysPrefixed, "token": tokenPrefixed, "principal": "/p/wilma", "topic": "event-create", "uid": "e1"}), "", "", v, iv, "/principal", "bad_href"},
		{"unknown member", pub(map[string]any{"topic": "event-create", "uid": "e1", "user": "fred"}), "", "", v, iv, "/user", "invalid"},
		{"uid not a string", pub(map[string]any{"topic": "event-create", "uid": 42}), "", "", v, iv, "/uid", "invalid"},
		{"uid too long", pub(map[string]any{"topic": "event-create", "uid": strings.Repeat("u", 1025)}), "", "", v, iv, "/uid", "invalid"},
		// The payload.
		{"payload without content_type", pub(map[string]any{"topic": "event-create", "uid": "e1", "payload": pubEvent}), "", "", v, iv, "/content_type", "invalid"},
		{"a modification without payload", pub(map[string]any{"topic": "event-modify", "uid": "e1"}), "", "", v, iv, "/payload", "bad_payload"},
		{"a reply without payload", pub(map[string]any{"topic": "enp:///ics/caleventreply?uid=e1"}), "", "", v, iv, "/payload", "bad_payload"},
		{"content_type without payload", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar"}), "", "", v, iv, "/payload", "bad_payload"},
		{"ENS binary payload", pub(map[string]any{"topic": "alarm", "uid": "e1", "aid": "a", "content_type": "application/octet-stream", "payload": "AAEC"}), "", "", http.StatusUnsupportedMediaType, mt, "/content_type", "payload_type"},
		{"JSON payload", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "application/json", "payload": "{}"}), "", "", http.StatusUnsupportedMediaType, mt, "/content_type", "payload_type"},
		{"not a media type", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "calendar", "payload": pubEvent}), "", "", http.StatusUnsupportedMediaType, mt, "/content_type", "payload_type"},
		{"latin-1 charset", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar; charset=iso-8859-1", "payload": pubEvent}), "", "", http.StatusUnsupportedMediaType, mt, "/content_type", "payload_type"},
		{"binary data as text/calendar", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar", "payload": "BEGIN:VCALENDAR\u0000\u0001\u0002"}), "", "", http.StatusUnsupportedMediaType, mt, "/payload", "payload_type"},
		{"malformed iCalendar", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar", "payload": "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e1\r\n"}), "", "", v, iv, "/payload", "bad_payload"},
		{"iCalendar without UID", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar", "payload": "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}), "", "", v, iv, "/payload", "bad_payload"},
		{"a task for an event topic", pub(map[string]any{"topic": "event-create", "content_type": "text/calendar", "payload": pubTodo}), "", "", v, iv, "/payload", "bad_payload"},
		{"payload of another uid", ev(map[string]any{"topic": "event-create", "uid": "other"}), "", "", v, iv, "/payload", "bad_payload"},
		{"truncated calendar payload", pub(map[string]any{"topic": "calendar-create", "calid": "/cal/w/", "content_type": "text/calendar", "payload": "BEGIN:VCALENDAR\r\nEND:VCAL"}), "", "", v, iv, "/payload", "bad_payload"},
		{"XML with a DTD", xml(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><iCalendar><iCal><EVENT><UID>&e;</UID></EVENT></iCal></iCalendar>`), "", "", v, iv, "/payload", "bad_payload"},
		{"malformed XML", xml(`<iCalendar><iCal><EVENT><UID>e1</UID></iCal></iCalendar>`), "", "", v, iv, "/payload", "bad_payload"},
		{"XML nested too deep", xml(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)), "", "", v, iv, "/payload", "bad_payload"},
		{"XML without an event", xml(`<iCalendar><iCal><JOURNAL><UID>e1</UID></JOURNAL></iCal></iCalendar>`), "", "", v, iv, "/payload", "bad_payload"},
		{"payload over 256 KiB", pub(map[string]any{"topic": "event-create", "uid": "e1", "content_type": "text/calendar", "payload": strings.Repeat("x", 262145)}), "", "", v, iv, "/payload", "invalid"},
		// The request itself.
		{"body over 1 MiB", pub(map[string]any{"topic": "event-create", "uid": "e1", "component_source": strings.Repeat("x", maxBody)}), "", "", http.StatusRequestEntityTooLarge, typeTooLarge, "-", "too_large"},
		{"not JSON", `topic=alarm`, "application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType, mt, "-", "media_type"},
		{"malformed JSON", `{"system":"cal",`, "", "", v, typeMalformed, "-", "malformed"},
		{"unknown system", pub(map[string]any{"system": "nosuch", "topic": "alarm"}), "", "", http.StatusUnauthorized, typeUnauthorized, "-", "unknown_system"},
		{"wrong token", pub(map[string]any{"token": "wrong-token", "topic": "alarm"}), "", "", http.StatusUnauthorized, typeUnauthorized, "-", "bad_token"},
		{"no token", pub(map[string]any{"token": nil, "topic": "alarm"}), "", "", http.StatusUnauthorized, typeUnauthorized, "-", "missing_token"},
		{"the ping token of another system", pub(map[string]any{"token": tokenOther, "topic": "alarm"}), "", "", http.StatusUnauthorized, typeUnauthorized, "-", "bad_token"},
	}
}

// Bad publishes are refused with their exact status and the member at
// fault, counted by reason, and leave nothing recorded.
func TestPublishBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := badPublishes()
	if len(cases) < 25 {
		t.Fatalf("%d bad inputs; the issue asks for at least 25", len(cases))
	}
	metrics := h.metrics(t)
	for _, in := range cases {
		t.Run(in.name, func(t *testing.T) {
			res := h.do(t, request{method: http.MethodPost, path: "/v1/events", body: jsonBody(t, in.body), contentType: in.contentType, bearer: in.bearer})
			t.Logf("%d %.400s", res.status, res.body)
			if res.status != in.status {
				t.Fatalf("status %d, want %d; body %s", res.status, in.status, res.body)
			}
			p := res.problem(t)
			if p.Type != in.typ {
				t.Errorf("type %q, want %q; body %s", p.Type, in.typ, res.body)
			}
			switch {
			case in.field == "-" && len(p.Errors) > 0 && in.typ != typeValidation:
				t.Errorf("field errors %v, want none", p.fields())
			case in.field != "-" && !p.hasField(in.field):
				t.Errorf("errors[].field %q, want %q among them; body %s", p.fields(), in.field, res.body)
			}
			if events, jobs := h.recorded(t); events != 0 || jobs != 0 {
				t.Errorf("recorded %d events and %d jobs", events, jobs)
			}
			now := h.metrics(t)
			for k, v := range now {
				if !strings.HasPrefix(k, "notifyd_published_") {
					continue
				}
				want := metrics[k]
				if k == fmt.Sprintf(`notifyd_published_rejected_total{reason="%s"}`, in.reason) {
					want++
				}
				if v != want {
					t.Errorf("%s = %v, want %v", k, v, want)
				}
			}
			metrics = now
		})
	}
}

// notify_own_changes is off unless asked for, and kept by a patch that
// does not name it.
func TestSubscriptionNotifyOwnChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if s := h.create(t, simpleSub(sysCal, "/p/fred")); s.NotifyOwnChanges {
		t.Errorf("default: %+v", s)
	}
	body := simpleSub(sysCal, "/p/wilma")
	body["notify_own_changes"] = true
	s := h.create(t, body)
	if !s.NotifyOwnChanges || !h.get(t, s.ID).NotifyOwnChanges {
		t.Fatalf("created with notify_own_changes: %+v", s)
	}
	patch := func(p map[string]any) subscription {
		t.Helper()
		res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, p, nil)
		if res.status != http.StatusOK {
			t.Fatalf("patch %v: %d %s", p, res.status, res.body)
		}
		var out subscription
		res.decode(t, &out)
		return out
	}
	if got := patch(map[string]any{"locale": "fr"}); !got.NotifyOwnChanges {
		t.Errorf("a patch of the locale switched it off: %+v", got)
	}
	if got := patch(map[string]any{"notify_own_changes": false}); got.NotifyOwnChanges || h.get(t, s.ID).NotifyOwnChanges {
		t.Errorf("patched off: %+v", got)
	}
	res := h.sub(t, http.MethodPatch, "/v1/subscriptions/"+s.ID, map[string]any{"notify_own_changes": "yes"}, nil)
	if p := res.problem(t); res.status != http.StatusBadRequest || !p.hasField("/notify_own_changes") {
		t.Errorf("a string: %d %s", res.status, res.body)
	}
}
