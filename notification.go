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
	// Fields holds other human-readable values by element local name, for
	// notification types (or extensions) the fields above do not cover.
	Fields map[string]string `json:"fields,omitempty"`
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
	// AllDay is true when Start and End are dates without a time.
	AllDay bool `json:"all_day,omitempty"`
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
