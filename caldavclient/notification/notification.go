// Package notification parses the resources of a CalDAV notification
// collection (the bodies of GETs on its members) into notifyd.Notification.
//
// It reads the forms calendar servers produce: Apple CalendarServer's
// notifications (caldav-notifications: resource-change, systemstatus,
// quota-status) and sharing (caldav-sharing: invite-notification,
// invite-reply) in the http://calendarserver.org/ns/ namespace, the DAV
// sharing draft's share-invite-notification and share-reply-notification
// (draft-pot-webdav-resource-sharing, served by Cyrus IMAP under a
// DAV:notification root), and Bedework's public-events notifications in the
// http://bedework.org/ns/ namespace (eventregRegistered, eventregCancelled,
// suggest, suggestReply, awaitingApproval, approvalResponse). The mapping:
//
//	{CS or DAV}invite-notification, share-invite-notification  share-invite
//	{CS or DAV}invite-reply, share-reply-notification          share-reply
//	{CS or DAV}resource-change                                 resource-change
//	{CS or DAV}systemstatus                                    system-status
//	{CS or DAV}quota-status, quotastatus                       quota-status
//	{Bedework}eventregRegistered                               eventreg-registered
//	{Bedework}eventregCancelled                                eventreg-cancelled
//	{Bedework}suggest                                          suggest
//	{Bedework}suggestReply                                     suggest-reply
//	{Bedework}awaitingApproval                                 awaiting-approval
//	{Bedework}approvalResponse                                 approval-response
//	anything else                                              other
//
// Elements are matched by namespace and local name whatever their prefix.
// Inside a notification, children are looked up by local name in any of the
// CS, DAV and Bedework namespaces, because servers disagree on which one a
// child uses; elements of other namespaces never match. Prefixes used without
// a declaration (Cyrus and Bedework emit some) are read by convention: CS,
// cs and CSS as CalendarServer's namespace, D, d and DAV as DAV:, BW, bw and
// BSS as Bedework's, C and c as CalDAV's.
//
// Parse never panics and bounds its work: bodies over MaxSize, with more
// than 10000 elements, nested deeper than 64 levels or carrying a DOCTYPE
// are refused. encoding/xml resolves no external entities.
package notification

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// MaxSize is the largest body Parse accepts, in bytes (1 MiB); a larger
// body is refused without being parsed.
const MaxSize = 1 << 20

// Bounds on Notification.Fields, and on the property names kept per change
// (iCalendar and WebDAV name far fewer; the bound keeps de-duplication cheap).
const (
	maxFields     = 50
	maxFieldBytes = 1024
	maxProperties = 100
)

// handler maps one notification element to its type and fills in the
// fields it carries.
type handler struct {
	typ   notifyd.NotificationType
	parse func(n *node, out *notifyd.Notification)
}

// standardTypes are the CalendarServer and DAV sharing notifications, by
// local name; they are recognised in the CS and DAV namespaces alike (Cyrus
// writes systemstatus in DAV:, the early DAV sharing draft invite-notification).
var standardTypes = map[string]handler{
	"invite-notification":       {notifyd.TypeShareInvite, parseShareInvite},
	"share-invite-notification": {notifyd.TypeShareInvite, parseShareInvite},
	"invite-reply":              {notifyd.TypeShareReply, parseShareReply},
	"share-reply-notification":  {notifyd.TypeShareReply, parseShareReply},
	"resource-change":           {notifyd.TypeResourceChange, parseResourceChange},
	"systemstatus":              {notifyd.TypeSystemStatus, parseSystemStatus},
	"quota-status":              {notifyd.TypeQuotaStatus, parseQuotaStatus},
	"quotastatus":               {notifyd.TypeQuotaStatus, parseQuotaStatus},
}

// bedeworkTypes are Bedework's notifications, by local name, in its
// namespace only.
var bedeworkTypes = map[string]handler{
	"eventregRegistered": {notifyd.TypeEventRegRegistered, parseEventReg},
	"eventregCancelled":  {notifyd.TypeEventRegCancelled, parseEventReg},
	"suggest":            {notifyd.TypeSuggest, parseSuggest},
	"suggestReply":       {notifyd.TypeSuggestReply, parseSuggest},
	"awaitingApproval":   {notifyd.TypeAwaitingApproval, parseApproval},
	"approvalResponse":   {notifyd.TypeApprovalResponse, parseApproval},
}

// Parse parses one notification resource (the body of a GET on a member of
// a notification collection). The body's root is a CalendarServer or DAV
// notification element holding a dtstamp and the notification itself. A
// notification of a kind notifyd does not know is returned as TypeOther
// with Fields filled from its leaf elements, never as an error. The error,
// when there is one, says why the body can never be parsed: too large, not
// XML, no notification element, a DOCTYPE, too many or too deeply nested
// elements.
func Parse(body []byte) (*notifyd.Notification, error) {
	if len(body) > MaxSize {
		return nil, fmt.Errorf("notification: body is %d bytes, over the %d-byte limit", len(body), MaxSize)
	}
	root, err := parseTree(body)
	if err != nil {
		return nil, fmt.Errorf("notification: %w", err)
	}
	if !root.is(nsCS, "notification") && !root.is(nsDAV, "notification") {
		return nil, fmt.Errorf("notification: root element is %s, not {%s}notification or {%s}notification",
			root.name(), nsCS, nsDAV)
	}
	var stamp, typ *node
	for _, c := range root.children {
		if c.local == "dtstamp" && c.inKnownSpace() {
			if stamp == nil {
				stamp = c
			}
			continue
		}
		if typ == nil {
			typ = c
		}
	}
	if typ == nil {
		return nil, errors.New("notification: the notification element holds no notification (only a dtstamp, or nothing)")
	}
	out := &notifyd.Notification{Element: typ.name()}
	out.DTStamp, _ = parseTime(stamp.textOf())
	h, ok := lookup(typ)
	if !ok {
		out.Type = notifyd.TypeOther
		out.UID = typ.childText("uid")
		leafFields(typ, out)
		return out, nil
	}
	out.Type = h.typ
	h.parse(typ, out)
	return out, nil
}

// lookup finds the handler of a notification element.
func lookup(n *node) (handler, bool) {
	switch n.space {
	case nsCS, nsDAV:
		h, ok := standardTypes[n.local]
		return h, ok
	case nsBedework:
		h, ok := bedeworkTypes[n.local]
		return h, ok
	}
	return handler{}, false
}

// parseShareInvite reads a CalendarServer invite-notification
// (uid, DAV:href of the sharee, invite status, access, hosturl, organizer,
// summary) or a DAV sharing share-invite-notification (principal of the
// sharer with its displayname, invite status, sharer-resource-uri,
// share-access, prop with the collection's displayname, comment).
func parseShareInvite(n *node, out *notifyd.Notification) {
	out.UID = n.childText("uid")
	out.Status = inviteStatus(n)
	out.Access = access(n.child("access"))
	if out.Access == "" {
		out.Access = access(n.child("share-access"))
	}
	if o := n.child("organizer"); o != nil {
		out.From = person(o)
	} else {
		out.From = person(n.child("principal"))
	}
	out.Calendar.Href = firstOf(n.child("hosturl").childText("href"),
		n.child("sharer-resource-uri").childText("href"))
	prop := n.child("prop")
	out.Calendar.DisplayName = prop.childText("displayname")
	out.Summary = firstOf(n.childText("summary"), n.childText("comment"))
	if d := prop.childIn(nsCalDAV, "calendar-description").textOf(); d != "" {
		setField(out, "calendar-description", d)
	}
}

// parseShareReply reads a CalendarServer invite-reply (DAV:href of the
// sharee who replied, invite status, hosturl, in-reply-to, summary) or a
// DAV sharing share-reply-notification (sharee with its href and invite
// status, DAV:href of the shared collection, comment).
func parseShareReply(n *node, out *notifyd.Notification) {
	out.UID = n.childText("uid")
	sharee := n.child("sharee")
	if sharee != nil {
		out.From = person(sharee)
		out.Status = inviteStatus(sharee)
	} else {
		out.From = person(n)
	}
	if out.Status == "" {
		out.Status = inviteStatus(n)
	}
	out.Calendar.Href = firstOf(n.child("hosturl").childText("href"),
		n.child("sharer-resource-uri").childText("href"))
	if out.Calendar.Href == "" && sharee != nil {
		// In the DAV form the reply's own DAV:href is the shared collection.
		out.Calendar.Href = n.childText("href")
	}
	out.Calendar.DisplayName = n.child("prop").childText("displayname")
	out.InReplyTo = n.childText("in-reply-to")
	out.Summary = firstOf(n.childText("summary"), n.childText("comment"))
}

// inviteStatuses maps the sharing drafts' invite status elements.
var inviteStatuses = map[string]string{
	"invite-noresponse": "noresponse",
	"invite-accepted":   "accepted",
	"invite-declined":   "declined",
	"invite-deleted":    "deleted",
	"invite-invalid":    "invalid",
}

// inviteStatus returns the status of n's first invite status child.
func inviteStatus(n *node) string {
	for _, c := range n.children {
		if s, ok := inviteStatuses[c.local]; ok && c.inKnownSpace() {
			return s
		}
	}
	return ""
}

// access reads an access or share-access element: "read", "read-write" or
// "admin"; "" for no-access and anything unknown.
func access(n *node) string {
	if n == nil {
		return ""
	}
	for _, c := range n.children {
		if !c.inKnownSpace() {
			continue
		}
		switch c.local {
		case "read":
			return "read"
		case "read-write", "read-write-schedule":
			return "read-write"
		case "admin":
			return "admin"
		case "no-access":
			return ""
		}
	}
	return ""
}

// person reads an element naming someone: its DAV:href, and a name from
// common-name, displayname (direct or in a DAV:prop), or first-name and
// last-name. It is nil-safe.
func person(n *node) notifyd.Person {
	if n == nil {
		return notifyd.Person{}
	}
	return notifyd.Person{
		Href: n.childText("href"),
		CommonName: firstOf(n.childText("common-name"),
			n.childText("displayname"),
			n.child("prop").childText("displayname"),
			strings.TrimSpace(n.childText("first-name")+" "+n.childText("last-name"))),
	}
}

// parseResourceChange reads a CalendarServer resource-change: created,
// updated and deleted elements (each with DAV:href and changed-by; updated
// with calendar-changes and DAV:prop; deleted with deleted-details), or a
// collection-changes element coalescing changes in one collection.
func parseResourceChange(n *node, out *notifyd.Notification) {
	var (
		deletedSummary, nextInstance, tzid, displayName string
		collection                                      bool
	)
	for _, c := range n.children {
		if !c.inKnownSpace() {
			continue
		}
		switch c.local {
		case "created", "updated", "deleted":
			ch := notifyd.Change{
				Kind: c.local,
				Href: c.childText("href"),
				By:   person(c.child("changed-by")),
			}
			switch c.local {
			case "updated":
				ch.Properties = changedProperties(c)
			case "deleted":
				dd := c.child("deleted-details")
				ch.Summary = firstOf(dd.childText("deleted-summary"), dd.childText("deleted-displayname"))
				deletedSummary = firstOf(deletedSummary, dd.childText("deleted-summary"))
				displayName = firstOf(displayName, dd.childText("deleted-displayname"))
				if ni := dd.child("deleted-next-instance"); ni != nil && nextInstance == "" {
					nextInstance, tzid = ni.text, ni.attr("tzid")
				}
			}
			out.Changes = append(out.Changes, ch)
		case "collection-changes":
			collection = true
			ch := notifyd.Change{
				Kind:       "updated",
				Href:       c.childText("href"),
				By:         person(c.child("changed-by")),
				Properties: propNames(c.child("prop"), nil),
			}
			for _, k := range []string{"child-created", "child-updated", "child-deleted"} {
				if v := c.childText(k); v != "" {
					setField(out, k, v)
				}
			}
			out.Changes = append(out.Changes, ch)
		}
	}
	for _, ch := range out.Changes {
		if ch.By != (notifyd.Person{}) {
			out.From = ch.By
			break
		}
	}
	href, single := singleHref(out.Changes)
	if !single {
		return
	}
	if collection || strings.HasSuffix(href, "/") {
		out.Calendar = notifyd.Collection{Href: href, DisplayName: displayName}
		return
	}
	ev := &notifyd.Event{Href: href, Summary: deletedSummary}
	ev.Start, ev.AllDay = parseTimeIn(nextInstance, tzid)
	if ev.Start.IsZero() {
		ev.AllDay = false
	}
	out.Event = ev
}

// singleHref returns the href all changes share, if they share one.
func singleHref(changes []notifyd.Change) (string, bool) {
	if len(changes) == 0 || changes[0].Href == "" {
		return "", false
	}
	for _, ch := range changes[1:] {
		if ch.Href != changes[0].Href {
			return "", false
		}
	}
	return changes[0].Href, true
}

// changedProperties lists the iCalendar properties an updated element's
// calendar-changes name (changed-property name attributes, wherever they
// are nested) and the WebDAV properties of its DAV:prop, without repeats.
func changedProperties(updated *node) []string {
	var names []string
	for _, c := range updated.children {
		if !c.inKnownSpace() {
			continue
		}
		switch c.local {
		case "calendar-changes":
			names = changedPropertyNames(c, names, 0)
		case "prop":
			names = propNames(c, names)
		}
	}
	return names
}

// changedPropertyNames appends the name attributes of the changed-property
// elements under n.
func changedPropertyNames(n *node, names []string, depth int) []string {
	if depth > maxDepth {
		return names
	}
	for _, c := range n.children {
		if c.local == "changed-property" && c.inKnownSpace() {
			names = appendUnique(names, c.attr("name"))
		}
		names = changedPropertyNames(c, names, depth+1)
	}
	return names
}

// propNames appends the local names of the properties in a DAV:prop.
func propNames(prop *node, names []string) []string {
	if prop == nil {
		return names
	}
	for _, c := range prop.children {
		names = appendUnique(names, c.local)
	}
	return names
}

// appendUnique appends s to list unless it is empty, already there, or
// list holds maxProperties names.
func appendUnique(list []string, s string) []string {
	if s == "" || len(list) >= maxProperties {
		return list
	}
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// parseSystemStatus reads a systemstatus: its description (Status and
// Summary), its importance attribute type (low, medium, high; Fields
// "type", "low" when absent as the draft's default) and the DAV:href of a
// page describing the status (Fields "href").
func parseSystemStatus(n *node, out *notifyd.Notification) {
	desc := n.childText("description")
	out.Status = desc
	out.Summary = desc
	setField(out, "type", strings.ToLower(firstOf(n.attr("type"), "low")))
	if href := n.childText("href"); href != "" {
		setField(out, "href", href)
	}
}

// parseQuotaStatus reads a quota-status. Status is the type of its most
// severe quota element ("exceeded", the draft's default, before
// "warning"); Fields hold that quota's quota-type (the local name of its
// child), quota-percent-used, quota-count and href.
func parseQuotaStatus(n *node, out *notifyd.Notification) {
	var pick *node
	var pickType string
	for _, q := range n.children {
		if q.local != "quota" || !q.inKnownSpace() {
			continue
		}
		t := strings.ToLower(firstOf(q.attr("type"), "exceeded"))
		if pick == nil || (t == "exceeded" && pickType != "exceeded") {
			pick, pickType = q, t
		}
	}
	if pick == nil {
		return
	}
	out.Status = pickType
	if qt := pick.child("quota-type"); qt != nil {
		if len(qt.children) > 0 {
			setField(out, "quota-type", qt.children[0].local)
		} else if qt.text != "" {
			setField(out, "quota-type", qt.text)
		}
	}
	for _, k := range []string{"quota-percent-used", "quota-count", "href"} {
		if v := pick.childText(k); v != "" {
			setField(out, k, v)
		}
	}
}

// parseEventReg reads Bedework's eventregRegistered and eventregCancelled:
// CS:uid, the event's DAV:href, DAV:principal-URL of the registrant, a
// comment, and for registrations the numbers of tickets requested and
// assigned (Fields eventregNumTicketsRequested, eventregNumTickets).
func parseEventReg(n *node, out *notifyd.Notification) {
	out.UID = n.childText("uid")
	out.From = person(n.child("principal-URL"))
	out.Summary = n.childText("comment")
	out.Event = event(n)
	for _, k := range []string{"eventregNumTicketsRequested", "eventregNumTickets"} {
		if v := n.childText(k); v != "" {
			setField(out, k, v)
		}
	}
}

// parseSuggest reads Bedework's suggest and suggestReply: CS:uid, the
// event's DAV:href, suggesterHref, suggesteeHref, a comment and, in a
// reply, accepted (true or false). From is the suggester of a suggestion
// and the suggestee of a reply; a reply's Status is "accepted" or
// "rejected".
func parseSuggest(n *node, out *notifyd.Notification) {
	out.UID = n.childText("uid")
	out.Summary = n.childText("comment")
	out.Event = event(n)
	if n.local == "suggestReply" {
		out.From = notifyd.Person{Href: n.childText("suggesteeHref")}
		out.Status = acceptance(n.child("accepted"), "accepted", "rejected")
		return
	}
	out.From = notifyd.Person{Href: n.childText("suggesterHref")}
}

// parseApproval reads Bedework's awaitingApproval and approvalResponse:
// CS:uid, the event's DAV:href, DAV:principal-URL of the event's owner
// (From), a comment, calsuiteURL (Fields "calsuiteURL") and, in a response,
// accepted (Status "approved" or "rejected").
func parseApproval(n *node, out *notifyd.Notification) {
	out.UID = n.childText("uid")
	out.From = person(n.child("principal-URL"))
	out.Summary = n.childText("comment")
	out.Event = event(n)
	if href := n.child("calsuiteURL").childText("href"); href != "" {
		setField(out, "calsuiteURL", href)
	}
	if n.local == "approvalResponse" {
		out.Status = acceptance(n.child("accepted"), "approved", "rejected")
	}
}

// acceptance reads a Bedework accepted element ("true" or "false").
func acceptance(n *node, yes, no string) string {
	switch strings.ToLower(n.textOf()) {
	case "true":
		return yes
	case "false":
		return no
	}
	return ""
}

// event reads the event a Bedework notification concerns: its DAV:href
// and, when present, summary, location, dtstart and dtend. It returns nil
// when none is there.
func event(n *node) *notifyd.Event {
	ev := notifyd.Event{
		Href:     n.childText("href"),
		Summary:  n.childText("summary"),
		Location: n.childText("location"),
	}
	var endDate bool
	ev.Start, ev.AllDay = parseTime(n.childText("dtstart"))
	ev.End, endDate = parseTime(n.childText("dtend"))
	if ev.Start.IsZero() {
		ev.AllDay = false
	} else if !ev.End.IsZero() && ev.AllDay != endDate {
		ev.AllDay = false
	}
	if ev == (notifyd.Event{}) {
		return nil
	}
	return &ev
}

// leafFields fills Fields with the text of the leaf elements under n (n
// itself when it is a leaf), by local name, the first occurrence winning.
func leafFields(n *node, out *notifyd.Notification) {
	if len(n.children) == 0 {
		if n.text != "" {
			setField(out, n.local, n.text)
		}
		return
	}
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		for _, c := range n.children {
			if out.Fields != nil && len(out.Fields) >= maxFields {
				return
			}
			if len(c.children) == 0 {
				if c.text != "" {
					setField(out, c.local, c.text)
				}
			} else if depth < maxDepth {
				walk(c, depth+1)
			}
		}
	}
	walk(n, 0)
}

// setField sets Fields[key] unless it is set already or Fields is full,
// cutting the value to maxFieldBytes on a character boundary.
func setField(out *notifyd.Notification, key, value string) {
	if out.Fields == nil {
		out.Fields = make(map[string]string)
	}
	if _, ok := out.Fields[key]; ok || len(out.Fields) >= maxFields {
		return
	}
	out.Fields[key] = truncate(value, maxFieldBytes)
}

// truncate cuts s to at most max bytes without splitting a character.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
