package engine

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/notifyd/notifyd"
)

// Topic is what a calendar server publishes (POST /v1/events): one of Sun
// ONE Calendar Server's ENS notifications, an alarm or a calendar update.
type Topic string

// The topics, with the ENS event URL each is published to by default
// (enp:///ics/...).
const (
	TopicAlarm          Topic = "alarm"
	TopicEventCreate    Topic = "event-create"
	TopicEventModify    Topic = "event-modify"
	TopicEventDelete    Topic = "event-delete"
	TopicTodoCreate     Topic = "todo-create"
	TopicTodoModify     Topic = "todo-modify"
	TopicTodoDelete     Topic = "todo-delete"
	TopicCalendarCreate Topic = "calendar-create"
	TopicCalendarModify Topic = "calendar-modify"
	TopicCalendarDelete Topic = "calendar-delete"
	TopicEventReply     Topic = "event-reply"
	TopicEventRefresh   Topic = "event-refresh"
)

// topicInfo is what a topic means.
type topicInfo struct {
	// ens is the last segment of its ENS event URL (enp:///ics/<ens>).
	ens string
	// typ is the notification type it becomes.
	typ notifyd.NotificationType
	// component ("event", "todo", "calendar") and action ("created",
	// "modified", "deleted") of a calendar update; "" for the others.
	component, action string
	// method is the iTIP method a scheduling topic stands for (REPLY,
	// REFRESH); "" for the others.
	method string
}

var topics = map[Topic]topicInfo{
	TopicAlarm:          {ens: "alarms", typ: notifyd.TypeReminder},
	TopicEventCreate:    {"caleventcreate", notifyd.TypeEventCreated, "event", "created", ""},
	TopicEventModify:    {"caleventmodify", notifyd.TypeEventModified, "event", "modified", ""},
	TopicEventDelete:    {"caleventdelete", notifyd.TypeEventDeleted, "event", "deleted", ""},
	TopicTodoCreate:     {"caltodocreate", notifyd.TypeTodoCreated, "todo", "created", ""},
	TopicTodoModify:     {"caltodomodify", notifyd.TypeTodoModified, "todo", "modified", ""},
	TopicTodoDelete:     {"caltododelete", notifyd.TypeTodoDeleted, "todo", "deleted", ""},
	TopicCalendarCreate: {"calendarcreate", notifyd.TypeCalendarCreated, "calendar", "created", ""},
	TopicCalendarModify: {"calendarmodify", notifyd.TypeCalendarModified, "calendar", "modified", ""},
	TopicCalendarDelete: {"calendardelete", notifyd.TypeCalendarDeleted, "calendar", "deleted", ""},
	// An attendee's reply or refresh request, as the inbox's REPLY and
	// REFRESH messages are.
	TopicEventReply:   {ens: "caleventreply", typ: notifyd.TypeInvitationReply, method: notifyd.MethodReply},
	TopicEventRefresh: {ens: "caleventrefresh", typ: notifyd.TypeRefreshRequest, method: notifyd.MethodRefresh},
}

// Topics lists every topic, in the order of the API specification.
var Topics = []Topic{
	TopicAlarm, TopicEventCreate, TopicEventModify, TopicEventDelete, TopicTodoCreate, TopicTodoModify,
	TopicTodoDelete, TopicCalendarCreate, TopicCalendarModify, TopicCalendarDelete, TopicEventReply, TopicEventRefresh,
}

// byENS maps the last segment of an ENS event URL to its topic.
var byENS = func() map[string]Topic {
	m := make(map[string]Topic, len(topics))
	for t, info := range topics {
		m[info.ens] = t
	}
	return m
}()

// Valid reports whether t is one of Topics.
func (t Topic) Valid() bool { _, ok := topics[t]; return ok }

// NotificationType is the type of the notification t becomes: reminder
// for an alarm, the calendar update types for the create, modify and
// delete topics, invitation-reply for a reply and refresh-request for a
// refresh.
func (t Topic) NotificationType() notifyd.NotificationType { return topics[t].typ }

// ENSURL is t's default ENS event URL, "enp:///ics/caleventcreate".
func (t Topic) ENSURL() string { return "enp:///ics/" + topics[t].ens }

// Calendar reports whether t is about a calendar rather than an event or
// a task.
func (t Topic) Calendar() bool { return topics[t].component == "calendar" }

// repeats reports whether the same component may be published on t
// several times, each time news: a modification, a reply, a refresh.
func (t Topic) repeats() bool {
	return topics[t].action == "modified" || t == TopicEventReply || t == TopicEventRefresh
}

// Identifier parameters of an ENS event URL, also members of a publish.
const (
	ParamCalID    = "calid"
	ParamUID      = "uid"
	ParamRID      = "rid"
	ParamAID      = "aid"
	ParamCompType = "comptype"
)

// topicParams are the parameters an ENS event URL may carry.
var topicParams = []string{ParamCalID, ParamUID, ParamRID, ParamAID, ParamCompType}

// ParseTopic reads a publish's topic: one of Topics, or an ENS event URL
// such as "enp:///ics/caleventcreate?calid=%2Fcal%2Ffred%2F&uid=1234"
// (any host, as ENS writes "enp://host/..."), whose query parameters
// (calid, uid, rid, aid, comptype; each at most once, empty ones ignored)
// it returns. On failure the error says, in words for the caller, what
// is wrong.
func ParseTopic(s string) (Topic, map[string]string, error) {
	if t := Topic(s); t.Valid() {
		return t, nil, nil
	}
	scheme, _, isURL := strings.Cut(s, ":")
	if !isURL || !strings.EqualFold(scheme, "enp") {
		return "", nil, fmt.Errorf("is not a topic: use one of %s, or an ENS event URL enp:///ics/<name>?uid=…", topicNames())
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", nil, fmt.Errorf("is not a valid enp:// URL: %v", unwrapURLError(err))
	}
	if u.Opaque != "" {
		return "", nil, fmt.Errorf("must be written enp:///ics/<name> (or enp://host/ics/<name>)")
	}
	if u.Fragment != "" || u.User != nil {
		return "", nil, fmt.Errorf("must not have a fragment or user information")
	}
	name, ok := strings.CutPrefix(u.Path, "/ics/")
	t, known := byENS[strings.ToLower(name)]
	if !ok || !known {
		return "", nil, fmt.Errorf("is no ENS event URL notifyd knows: its path must be /ics/ and one of %s", ensNames())
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("has a malformed query: %v", err)
	}
	params := make(map[string]string, len(q))
	for name, values := range q {
		if !slices.Contains(topicParams, name) {
			return "", nil, fmt.Errorf("has the parameter %q; an ENS event URL takes %s", name, strings.Join(topicParams, ", "))
		}
		if len(values) > 1 {
			return "", nil, fmt.Errorf("has the parameter %q %d times; give it once", name, len(values))
		}
		if values[0] != "" {
			params[name] = values[0]
		}
	}
	return t, params, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func topicNames() string {
	names := make([]string, len(Topics))
	for i, t := range Topics {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func ensNames() string {
	names := make([]string, 0, len(byENS))
	for n := range byENS {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
