package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/store"
)

// Publication is an event a calendar server publishes (POST /v1/events),
// as the API received it: the members of the request, Principal already
// checked (a clean href on the system's server) when not empty.
type Publication struct {
	System string
	// Topic is one of Topics or an ENS event URL carrying identifiers.
	Topic string
	// Principal is whom the event is for; when empty, the owner of the
	// calendar CalID names, among the calendars notifyd syncs.
	Principal string
	// CalID, UID, RID, AID and CompType are ENS's identifiers: the
	// calendar, the event or task, its instance (recurrence id), the
	// alarm, and "event" or "todo".
	CalID, UID, RID, AID, CompType string
	// TriggeredBy is who made the change (ENS's X-NSCP-TRIGGERED-BY);
	// ComponentSource the application (X-NSCP-COMPONENT-SOURCE).
	TriggeredBy, ComponentSource string
	// Payload is the event or task (or calendar) in ContentType:
	// text/calendar or text/xml. Both may be empty.
	Payload, ContentType string
}

// PublishResult says what a publish did.
type PublishResult struct {
	// ID identifies the event: the same for a duplicate.
	ID        string
	Topic     Topic
	Type      notifyd.NotificationType
	Principal string
	// Duplicate reports an event published before: acknowledged, and
	// nothing more is delivered.
	Duplicate bool
}

// ErrUnknownCalendar is the error of a publish naming no principal and a
// calid that names no calendar notifyd knows the owner of (or several);
// it wraps a notifyd.ValidationError naming /calid. The API answers 422.
var ErrUnknownCalendar = errors.New("unknown calendar")

// ErrPublisherClosed is returned by Publish once Close has begun.
var ErrPublisherClosed = fmt.Errorf("%w: the publish intake is shutting down", notifyd.ErrUnavailable)

// Publisher records published events durably: each Publish returns once
// the event and the job that delivers it are on disk (or the event was
// recorded before), so that its acknowledgement survives a crash.
// Publishes that arrive together share one write (see record).
type Publisher struct {
	db    *store.DB
	queue *Queue
	now   func() time.Time

	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup
	pending  []*publishReq
	writers  int // writes in flight
}

// NewPublisher returns the publisher that records events in db and
// queues their jobs in queue.
func NewPublisher(db *store.DB, queue *Queue) *Publisher {
	return &Publisher{db: db, queue: queue, now: time.Now}
}

// Close stops taking events and returns when those taken are recorded
// (or failed).
func (p *Publisher) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.inFlight.Wait()
}

// Publish checks pub, records it and queues its delivery in one durable
// write; it reports a duplicate (nothing recorded again) when the same
// event was published before. Bad input is a notifyd.ValidationError
// naming the members (ErrUnsupportedPayload or ErrUnknownCalendar
// wrapping one for those cases); nothing is recorded then. Once the event
// is handed to the store, Publish waits for the outcome even if ctx ends.
func (p *Publisher) Publish(ctx context.Context, pub Publication) (PublishResult, error) {
	ev, err := prepare(pub)
	if err != nil {
		return PublishResult{}, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return PublishResult{}, ErrPublisherClosed
	}
	p.inFlight.Add(1)
	p.mu.Unlock()
	defer p.inFlight.Done()

	cal, err := p.resolve(ctx, &ev)
	if err != nil {
		return PublishResult{}, err
	}
	now := p.now().UTC()
	rec := store.PublishedEvent{ID: ev.id, System: pub.System, Topic: string(ev.topic), Principal: ev.principal,
		CalID: ev.calid, UID: ev.uid, RID: ev.rid, AID: ev.aid, TriggeredBy: ev.triggeredBy,
		ComponentSource: ev.componentSource, ReceivedAt: now}
	if rec.Notification, err = json.Marshal(ev.notification(cal, now)); err != nil {
		return PublishResult{}, err
	}
	inserted, principal, err := p.record(rec)
	if err != nil {
		if !errors.Is(err, notifyd.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
		return PublishResult{}, err
	}
	return PublishResult{ID: rec.ID, Topic: ev.topic, Type: ev.topic.NotificationType(), Principal: principal,
		Duplicate: !inserted}, nil
}

// resolve finds the calendar the event names, if notifyd syncs it, and,
// when the publish names no principal, takes its owner as the principal.
func (p *Publisher) resolve(ctx context.Context, ev *event) (*store.CalendarRecord, error) {
	if ev.calid == "" || !strings.HasPrefix(ev.calid, "/") {
		if ev.principal == "" {
			return nil, unknownCalendar(fmt.Sprintf("names no calendar notifyd knows (%q is not a calendar href on the system's CalDAV server); send principal", ev.calid))
		}
		return nil, nil
	}
	cals, err := p.db.CalendarsByHref(ctx, ev.system, ev.calid)
	if err != nil {
		return nil, err
	}
	if ev.principal != "" {
		for i := range cals {
			if cals[i].Principal == ev.principal {
				return &cals[i], nil
			}
		}
		return nil, nil
	}
	switch len(cals) {
	case 0:
		return nil, unknownCalendar("names no calendar notifyd knows: notifyd learns the calendars of the principals whose subscriptions want reminders or updates by syncing their calendar homes; send principal")
	case 1:
		ev.principal = cals[0].Principal
		return &cals[0], nil
	}
	owners := make([]string, len(cals))
	for i, c := range cals {
		owners[i] = c.Principal
	}
	return nil, unknownCalendar(fmt.Sprintf("names a calendar several principals have (%s); send principal", strings.Join(owners, ", ")))
}

func unknownCalendar(detail string) error {
	return fmt.Errorf("%w: %w", ErrUnknownCalendar, notifyd.ValidationError{{Field: "/calid", Detail: detail}})
}

// event is a publication checked and read.
type event struct {
	id                           string
	system                       string
	topic                        Topic
	principal                    string
	calid, uid, rid, aid, comp   string
	triggeredBy, componentSource string
	component                    *componentOf // from the payload; nil without one
	// scheduling is what a reply or refresh says, from the payload (nil
	// for the other topics).
	scheduling *notifyd.Scheduling
	// version tells two publishes of a repeating topic apart (see
	// versionOf); "" for the other topics.
	version                            string
	fieldOf                            map[string]string // the member each identifier came from
	calendarTopic, alarmTopic, updates bool
}

// prepare checks pub and reads its topic, identifiers and payload.
func prepare(pub Publication) (event, error) {
	var errs notifyd.ValidationError
	bad := func(field, format string, args ...any) {
		errs = append(errs, notifyd.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	topic, params, err := ParseTopic(pub.Topic)
	if err != nil {
		return event{}, notifyd.ValidationError{{Field: "/topic", Detail: err.Error()}}
	}
	ev := event{system: pub.System, topic: topic, principal: pub.Principal, triggeredBy: pub.TriggeredBy,
		componentSource: pub.ComponentSource, fieldOf: map[string]string{},
		calendarTopic: topic.Calendar(), alarmTopic: topic == TopicAlarm}
	ev.updates = !ev.alarmTopic
	members := map[string]*string{ParamCalID: &ev.calid, ParamUID: &ev.uid, ParamRID: &ev.rid, ParamAID: &ev.aid, ParamCompType: &ev.comp}
	given := map[string]string{ParamCalID: pub.CalID, ParamUID: pub.UID, ParamRID: pub.RID, ParamAID: pub.AID, ParamCompType: pub.CompType}
	for _, name := range topicParams {
		v, fromURL := params[name]
		switch {
		case fromURL && given[name] != "" && given[name] != v:
			bad("/topic", "has %s=%q but the %s member is %q; send one of them", name, v, name, given[name])
			fallthrough
		case fromURL:
			*members[name], ev.fieldOf[name] = v, "/topic"
		case given[name] != "":
			*members[name], ev.fieldOf[name] = given[name], "/"+name
		}
	}
	field := func(name string) string {
		if f := ev.fieldOf[name]; f != "" {
			return f
		}
		return "/" + name
	}
	for _, m := range []struct{ name, value string }{{ParamCalID, ev.calid}, {ParamUID, ev.uid}, {ParamAID, ev.aid},
		{"triggered_by", ev.triggeredBy}, {"component_source", ev.componentSource}} {
		if hasControl(m.value) {
			bad(field(m.name), "must not contain control characters")
		}
	}
	if strings.HasPrefix(ev.calid, "/") {
		if clean, err := notifyd.CleanHref(ev.calid); err != nil {
			bad(field(ParamCalID), "is not a calendar href: %v", err)
		} else {
			ev.calid = clean
		}
	}
	if ev.rid, err = ParseRecurrenceID(ev.rid); err != nil {
		bad(field(ParamRID), "%v", err)
	}
	ev.triggeredBy = strings.TrimSpace(ev.triggeredBy)

	// What each topic must and must not name.
	if ev.principal == "" && ev.calid == "" {
		bad("/principal", "is required, or calid (the calendar, whose owner notifyd then notifies)")
	}
	switch {
	case ev.calendarTopic:
		if ev.calid == "" {
			bad(field(ParamCalID), "is required for topic %s: the calendar created, changed or deleted", topic)
		}
		for _, name := range []string{ParamUID, ParamRID, ParamAID, ParamCompType} {
			if *members[name] != "" {
				bad(field(name), "must not be sent with topic %s, which is about a calendar, not an event or a task", topic)
			}
		}
	case ev.alarmTopic:
		if ev.aid == "" {
			bad(field(ParamAID), "is required for topic alarm: the alarm's id (ENS aid), which tells two alarms of one instance apart")
		}
	default:
		if ev.aid != "" {
			bad(field(ParamAID), "must not be sent with topic %s: only an alarm has one", topic)
		}
	}
	wantComp := map[string]string{"event": "event", "todo": "task", "task": "task"}[topics[topic].component]
	if topic == TopicEventReply || topic == TopicEventRefresh {
		wantComp = "event"
	}
	if ev.comp != "" {
		kind, ok := map[string]string{"event": "event", "todo": "task", "task": "task"}[strings.ToLower(ev.comp)]
		switch {
		case !ok:
			bad(field(ParamCompType), "must be event or todo")
		case wantComp != "" && kind != wantComp:
			bad(field(ParamCompType), "is %s but topic %s is about %s", ev.comp, topic, compName(wantComp))
		default:
			ev.comp = kind
		}
	}

	// The payload.
	switch {
	case pub.Payload != "" && pub.ContentType == "":
		bad("/content_type", "is required with payload: text/calendar or text/xml")
	case pub.Payload == "" && pub.ContentType != "":
		bad("/payload", "is required with content_type")
	case pub.Payload == "" && topic.repeats():
		bad("/payload", "is required for topic %s: without the version it publishes, a second change cannot be told from the first one published again", topic)
	case pub.Payload != "":
		kind, perr := payloadKind(pub.ContentType)
		var obj *calendar.Object
		var ics []byte
		if perr == nil {
			obj, ics, perr = readPayload(kind, pub.Payload, ev.calendarTopic)
		}
		if perr != nil {
			fe := notifyd.ValidationError{{Field: perr.field, Detail: perr.detail}}
			if perr.unsupported {
				return event{}, fmt.Errorf("%w: %w", ErrUnsupportedPayload, fe)
			}
			errs = append(errs, fe...)
			break
		}
		if topic.repeats() {
			ev.version = versionOf(ics)
		}
		if obj == nil || ev.calendarTopic {
			break
		}
		kindOf := string(obj.Kind)
		switch {
		case wantComp != "" && kindOf != wantComp:
			bad("/payload", "holds %s but topic %s is about %s", compName(kindOf), topic, compName(wantComp))
		case ev.comp != "" && kindOf != ev.comp:
			bad("/payload", "holds %s but comptype is %s", compName(kindOf), ev.comp)
		case ev.uid != "" && obj.UID != ev.uid:
			bad("/payload", "is the event or task with UID %q, not uid %q", obj.UID, ev.uid)
		}
		if ev.uid == "" {
			ev.uid = obj.UID
		}
		if ev.comp == "" {
			ev.comp = kindOf
		}
		c := describe(obj, ev.rid, ev.aid)
		ev.component = &c
		if method := topics[topic].method; method != "" {
			msg, err := calendar.ParseMessageAs(ics, method, calendar.ParseOptions{})
			if err != nil {
				bad("/payload", "cannot be read as the event the attendee replied to: %v", err)
				break
			}
			ev.scheduling = schedulingOf(msg, "")
			if a, ok := replierOf(msg.Attendees, ev.triggeredBy); ok {
				setReplier(ev.scheduling, a)
			}
		}
	}
	if !ev.calendarTopic && ev.uid == "" {
		bad(field(ParamUID), "is required for topic %s (or a payload with the event's UID)", topic)
	}
	if len(errs) > 0 {
		return event{}, errs
	}
	if ev.comp == "" && !ev.calendarTopic {
		ev.comp = "event"
		if wantComp != "" {
			ev.comp = wantComp
		}
	}
	ev.id = digest("published", ev.system, string(topic), ev.calid, ev.uid, ev.rid, ev.aid, ev.version)
	return ev, nil
}

// compName is how messages name a component kind.
func compName(kind string) string {
	if kind == "task" {
		return "a task (VTODO)"
	}
	return "an event (VEVENT)"
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// notification is the notification the event becomes, at now, for the
// calendar cal (nil when notifyd does not sync it).
func (ev *event) notification(cal *store.CalendarRecord, now time.Time) notifyd.Notification {
	n := notifyd.Notification{Type: ev.topic.NotificationType(), Element: ev.topic.ENSURL(), UID: ev.uid, DTStamp: now}
	if ev.calid != "" {
		n.Calendar = notifyd.Collection{Href: ev.calid}
		if cal != nil {
			n.Calendar.DisplayName = cal.DisplayName
		}
	}
	c := ev.component
	if c != nil {
		n.Event, n.Summary = c.event, c.event.Summary
	}
	if ev.updates && ev.triggeredBy != "" {
		n.From = notifyd.Person{Href: ev.triggeredBy}
	}
	info := topics[ev.topic]
	switch {
	case ev.alarmTopic:
		r := &notifyd.Reminder{Calendar: ev.calid, UID: ev.uid, RecurrenceID: ev.rid, AlarmID: ev.aid, Component: ev.comp,
			Action: "DISPLAY", Trigger: now}
		if c != nil {
			r.Description, r.TimeZone = c.description, c.zone
			if c.alarm != nil {
				r.Text = c.alarm.Description
				if c.alarm.Action != "" {
					r.Action = c.alarm.Action
				}
			}
			if ev.comp == "task" {
				// As a reminder from a calendar sync carries it: the due
				// time is the task's end.
				r.Due, c.event.End, c.event.Due = c.event.Due, c.event.Due, time.Time{}
			}
		}
		n.Reminder = r
	case info.component != "":
		n.Update = &notifyd.Update{Component: info.component, Action: info.action, UID: ev.uid, RecurrenceID: ev.rid,
			By: notifyd.Person{Href: ev.triggeredBy}}
		if c != nil {
			n.Update.TimeZone = c.zone
		}
	case info.method != "":
		// A reply or refresh, as the inbox's REPLY or REFRESH says it;
		// with no iTIP object (ICalendar), as the payload is the event,
		// not the attendee's message: an email carries no text/calendar
		// part that a mail client would take for one.
		s := &notifyd.Scheduling{Method: info.method, Component: ev.comp, UID: ev.uid}
		if ev.scheduling != nil {
			s = ev.scheduling
		}
		s.Object = ensHrefOf(ev.topic, ev.calid, ev.uid, ev.rid, ev.aid)
		if ev.rid != "" {
			s.RecurrenceID = ev.rid
		}
		if s.Attendee.Href != "" {
			n.From = s.Attendee
		}
		n.Scheduling = s
	}
	return n
}

// replierOf is the attendee who sent a published reply or refresh, read
// from the event as the server has it once the attendee replied: the
// attendee triggered_by names, else the only one who has answered
// (PARTSTAT other than NEEDS-ACTION), else the event's only attendee.
// false when none of these tells who it is.
func replierOf(attendees []calendar.Party, triggeredBy string) (calendar.Party, bool) {
	by := comparableAddress(triggeredBy)
	if by == "" && strings.Contains(triggeredBy, "@") && !strings.Contains(triggeredBy, ":") {
		by = comparableAddress("mailto:" + triggeredBy) // a bare email address
	}
	var answered []calendar.Party
	for _, a := range attendees {
		if by != "" && comparableAddress(a.Address) == by {
			return a, true
		}
		if a.PartStat != "NEEDS-ACTION" {
			answered = append(answered, a)
		}
	}
	switch {
	case len(answered) == 1:
		return answered[0], true
	case len(attendees) == 1:
		return attendees[0], true
	}
	return calendar.Party{}, false
}
