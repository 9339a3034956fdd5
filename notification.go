package notifyd

import "time"

// Notification is one resource of a principal's notification collection,
// parsed into the fields messages are written from. Fields a notification
// type does not carry are left empty.
type Notification struct {
	// Type is the kind of notification; TypeOther for one notifyd does not
	// recognise.
	Type NotificationType `json:"type"`
	// Element names the notification's XML element as "{namespace}local",
	// e.g. "{http://calendarserver.org/ns/}invite-notification".
	Element string `json:"element"`
	// UID is the notification's own identifier, when it has one.
	UID string `json:"uid,omitempty"`
	// DTStamp is when the calendar server created the notification (zero
	// when absent or unreadable).
	DTStamp time.Time `json:"dtstamp,omitzero"`
	// From is who triggered it: the sharer or organizer of an invite, the
	// sharee replying, the user who changed a resource, the registrant, the
	// approver.
	From Person `json:"from,omitzero"`
	// Calendar is the calendar or collection it concerns (the shared
	// calendar of an invite or reply).
	Calendar Collection `json:"calendar,omitzero"`
	// Access is the access an invite grants: "read", "read-write", "admin".
	Access string `json:"access,omitempty"`
	// Status is the invite or approval status: "noresponse", "accepted",
	// "declined", "deleted", "invalid", "approved", "rejected", or the
	// text of a system or quota status.
	Status string `json:"status,omitempty"`
	// InReplyTo is the UID of the invite a reply answers.
	InReplyTo string `json:"in_reply_to,omitempty"`
	// Summary is the human-readable summary or comment the notification
	// carries (an invite's summary, a reply's comment, a suggestion's note).
	Summary string `json:"summary,omitempty"`
	// Event is the event it concerns, if any.
	Event *Event `json:"event,omitempty"`
	// Changes lists the changes of a resource-change notification.
	Changes []Change `json:"changes,omitempty"`
	// Reminder is what a reminder (TypeReminder) rings for: the alarm
	// instance. Event then is the event or task instance it reminds of.
	Reminder *Reminder `json:"reminder,omitempty"`
	// Update is what a calendar update (TypeEventCreated …
	// TypeCalendarDeleted) says changed. Event then is the event or task
	// as it is now (as it was, for a deletion); Calendar the calendar.
	Update *Update `json:"update,omitempty"`
	// Scheduling is the iTIP message a scheduling notification
	// (TypeInvitation … TypeCounterProposal) carries. From then is who
	// sent it (the organizer, or the attendee who replied, asked for a
	// refresh or countered), Event the event as the message describes it.
	Scheduling *Scheduling `json:"scheduling,omitempty"`
	// Fields holds other human-readable values by element local name, for
	// notification types (or extensions) the fields above do not cover.
	Fields map[string]string `json:"fields,omitempty"`
}

// Reminder is one ring of a calendar alarm: the fields of a Sun ENS alarm
// notification (calid, uid, rid, aid, comptype) and when it rang.
type Reminder struct {
	// Calendar is the calendar's href (ENS calid); Object the calendar
	// object resource's href.
	Calendar string `json:"calendar"`
	Object   string `json:"object"`
	// UID is the event's or task's UID; RecurrenceID the instance's
	// recurrence id ("20261201T090000Z", or a date for an all-day one),
	// empty for a non-recurring one; AlarmID the alarm's identity (its
	// UID, else a digest of what makes it ring).
	UID          string `json:"uid"`
	RecurrenceID string `json:"recurrence_id,omitempty"`
	AlarmID      string `json:"alarm_id"`
	// Component is "event" or "task" (ENS comptype).
	Component string `json:"component"`
	// Action is the alarm's ACTION: DISPLAY, EMAIL or AUDIO.
	Action string `json:"action"`
	// Text is the alarm's own DESCRIPTION, when it has one.
	Text string `json:"text,omitempty"`
	// Description is the event's or task's DESCRIPTION.
	Description string `json:"description,omitempty"`
	// Trigger is when the alarm rings; Due a task's due time (also in
	// Event.End), zero when it has none. A date-only DUE (Event.AllDay)
	// is midnight UTC of its date, as Event's dates are. For a task,
	// Event.Start is its DTSTART, zero when it has none.
	Trigger time.Time `json:"trigger"`
	Due     time.Time `json:"due,omitzero"`
	// TimeZone is the event's own time zone (an IANA name or TZID).
	TimeZone string `json:"time_zone,omitempty"`
	// LateSeconds is how late the reminder was handed to its channels, in
	// whole seconds (after a restart or an outage); 0 when on time.
	LateSeconds int64 `json:"late_seconds,omitempty"`
	// Snooze reports an alarm ringing again after a snooze.
	Snooze bool `json:"snooze,omitempty"`
}

// The iTIP methods (RFC 5546) a Scheduling message carries.
const (
	MethodRequest        = "REQUEST"
	MethodAdd            = "ADD"
	MethodReply          = "REPLY"
	MethodCancel         = "CANCEL"
	MethodRefresh        = "REFRESH"
	MethodCounter        = "COUNTER"
	MethodDeclineCounter = "DECLINECOUNTER"
)

// Scheduling is one iTIP message (RFC 5546) from the principal's
// scheduling inbox (RFC 6638).
type Scheduling struct {
	// Method is the message's METHOD (Method… constants).
	Method string `json:"method"`
	// Object is the inbox item's href.
	Object string `json:"object"`
	// Component is "event" or "todo".
	Component string `json:"component"`
	// UID is the event's UID; RecurrenceID the one instance the message
	// is about ("20261201T090000Z", or a date), "" for the whole event.
	UID          string `json:"uid"`
	RecurrenceID string `json:"recurrence_id,omitempty"`
	// Sequence is the event's SEQUENCE.
	Sequence int `json:"sequence,omitempty"`
	// Updated reports a REQUEST for an event the principal was already
	// invited to (an earlier REQUEST for its UID was seen): a change of
	// the invitation rather than a new one.
	Updated bool `json:"updated,omitempty"`
	// Organizer is the event's ORGANIZER.
	Organizer Person `json:"organizer,omitzero"`
	// Attendee is the attendee who replied, asked for a refresh or
	// countered (REPLY, REFRESH, COUNTER), zero for the other methods.
	Attendee Person `json:"attendee,omitzero"`
	// PartStat is the Attendee's answer in a REPLY, in lower case:
	// "accepted", "declined", "tentative", "delegated" or "needs-action".
	PartStat string `json:"partstat,omitempty"`
	// DelegatedTo is whom a delegating attendee delegated to.
	DelegatedTo string `json:"delegated_to,omitempty"`
	// Comment is the message's COMMENT (a reply's or counter's note).
	Comment string `json:"comment,omitempty"`
	// Recurring reports a recurring event (its times are the first
	// instance's).
	Recurring bool `json:"recurring,omitempty"`
	// TimeZone is the IANA name of the zone the event's times are
	// written in, "" when they are UTC, floating or dates.
	TimeZone string `json:"time_zone,omitempty"`
	// ICalendar is the iTIP object as the inbox holds it: the email
	// channel attaches it as a text/calendar part (RFC 6047) for the
	// recipient's mail client.
	ICalendar string `json:"icalendar,omitempty"`
}

// Update is one net change to an event, a task or a calendar: what a
// calendar update notification tells a person.
type Update struct {
	// Component is "event", "todo" or "calendar".
	Component string `json:"component"`
	// Action is "created", "modified" or "deleted".
	Action string `json:"action"`
	// Object is the calendar object resource's href, "" for a calendar.
	Object string `json:"object,omitempty"`
	// UID is the event's or task's UID; RecurrenceID the one instance
	// changed ("20261201T090000Z", or a date), "" for the whole event.
	UID          string `json:"uid,omitempty"`
	RecurrenceID string `json:"recurrence_id,omitempty"`
	// Fields lists what changed that a person sees, for a modification,
	// in the order messages list them.
	Fields []FieldChange `json:"fields,omitempty"`
	// By is who made the change, when known.
	By Person `json:"by,omitzero"`
	// TimeZone is the IANA name of the zone the event's times are written
	// in, "" for the recipient's.
	TimeZone string `json:"time_zone,omitempty"`
}

// The fields a FieldChange names.
const (
	FieldSummary     = "summary"     // the title (a calendar's display name)
	FieldStart       = "start"       // an event's start or a task's start
	FieldEnd         = "end"         // an event's end
	FieldDue         = "due"         // a task's due time
	FieldLocation    = "location"    // where
	FieldStatus      = "status"      // e.g. CANCELLED, TENTATIVE, COMPLETED
	FieldRecurrence  = "recurrence"  // the rule, added or removed dates
	FieldCompleted   = "completed"   // a task marked done (To) or undone
	FieldDescription = "description" // the notes
	FieldCalendar    = "calendar"    // the calendar an event or task moved to
	FieldTimeZone    = "time_zone"   // a calendar's time zone
)

// FieldChange is one change a person sees: a field and its value before
// and after. Times are in From/ToTime (written in the recipient's zone);
// other values in From/To as text. An empty side means the field was
// added or removed.
type FieldChange struct {
	// Field is one of the Field… names.
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// FromTime and ToTime hold a time field's values; AllDay when they
	// are dates (midnight UTC of the date, as Event's).
	FromTime time.Time `json:"from_time,omitzero"`
	ToTime   time.Time `json:"to_time,omitzero"`
	AllDay   bool      `json:"all_day,omitempty"`
}

// Person is someone a notification names.
type Person struct {
	// Href is how the server names them: a principal URL or a mailto: URI.
	Href string `json:"href,omitempty"`
	// CommonName is their display name, when known.
	CommonName string `json:"common_name,omitempty"`
}

// Collection is a calendar or other collection a notification names.
type Collection struct {
	// Href is the collection's URL or path on the CalDAV server.
	Href string `json:"href,omitempty"`
	// DisplayName is its human-readable name, when known.
	DisplayName string `json:"display_name,omitempty"`
}

// Event is an event a notification concerns.
type Event struct {
	Href     string    `json:"href,omitempty"`
	UID      string    `json:"uid,omitempty"`
	Summary  string    `json:"summary,omitempty"`
	Location string    `json:"location,omitempty"`
	Start    time.Time `json:"start,omitzero"`
	End      time.Time `json:"end,omitzero"`
	// AllDay is true when Start and End are dates without a time: each
	// is then midnight UTC of its date (the date, not an instant: the
	// same day in every zone; End exclusive), which is how messages
	// write it.
	AllDay bool `json:"all_day,omitempty"`
	// Due is a task's due time (its End stays zero).
	Due time.Time `json:"due,omitzero"`
}

// Change is one change of a resource-change notification.
type Change struct {
	// Kind is "created", "updated" or "deleted".
	Kind string `json:"kind"`
	// Href is the changed resource.
	Href string `json:"href,omitempty"`
	// By is who made the change, when known.
	By Person `json:"by,omitzero"`
	// Summary is the changed event's summary, when known (for deletions,
	// from deleted-details).
	Summary string `json:"summary,omitempty"`
	// Properties names the properties an update changed (e.g. "DTSTART").
	Properties []string `json:"properties,omitempty"`
}
