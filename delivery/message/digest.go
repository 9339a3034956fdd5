package message

import (
	"strings"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// Digest is what a digest tells a person once the notifications it
// gathers are collapsed ([Collapse]): one entry per event, task or
// calendar in its latest state, grouped by calendar, nothing for what
// was undone inside the window.
type Digest struct {
	// Groups are the calendars, in the order their first notification
	// came; the notifications without a calendar come last, in a group
	// with an empty Href and Name.
	Groups []DigestGroup
	// Entries counts the entries of every group.
	Entries int
	// Undone are the delivery ids of the items that cancelled out (an
	// event created then deleted, a change reverted) or that an entry
	// made moot (the changes of one occurrence of an event deleted).
	Undone []string
}

// DigestGroup is one calendar's entries.
type DigestGroup struct {
	// Href is the calendar's href ("" for the group of notifications
	// without a calendar).
	Href string
	// Name is the calendar's display name as its latest entry has it
	// ([Cleaner.Calendar] of the name the engine read, else the
	// notification's), "" for the group without a calendar.
	Name string
	// Entries are what happened in the calendar, those about one event
	// or task together, in the order each event's first notification
	// came.
	Entries []DigestEntry
}

// DigestEntry is one thing a digest says: the net of the notifications
// about one event, task or calendar, or one notification without such an
// identity (a sharing invitation, a reminder) as it came.
type DigestEntry struct {
	// Notification is the net notification: the latest one, its change
	// (Update.Fields) from before the first to after the last, a
	// creation when the event was created inside the window. It is a
	// copy when it differs from the item's; items are never modified.
	Notification *notifyd.Notification
	// CalendarName is the calendar's name the engine read for the latest
	// item ("" if none).
	CalendarName string
	// DeliveryIDs are the deliveries the entry stands for, oldest first.
	DeliveryIDs []string
}

// Collapse folds a digest's items (oldest first) into what a person
// needs to read:
//
//   - the calendar updates of one event or task (by UID and occurrence,
//     else by object href) become one entry in its latest state: created
//     then changed is a creation; changed several times is one change
//     from the first value to the last, each field that came back to
//     its value left out; changed then deleted is a deletion;
//   - what was undone inside the window says nothing: created then
//     deleted, or changes that net to nothing; the changes of one
//     occurrence of an event deleted, or created, inside the window are
//     folded into that deletion or creation;
//   - the same for a calendar's own updates (by its href);
//   - the scheduling messages about one event become its latest one per
//     sender (the organizer's latest invitation or cancellation, each
//     attendee's latest reply, refresh request or counter-proposal); an
//     invitation cancelled inside the window says nothing;
//   - any other notification (a sharing invitation, a reminder, a
//     server's notice) and any without an identity is an entry of its
//     own, as it came.
//
// Entries are grouped by calendar (the latest notification's) and,
// within a calendar, those about one event are put together.
func Collapse(items []delivery.DigestItem) Digest {
	var d Digest
	type chain struct {
		key   string
		items []delivery.DigestItem
	}
	var chains []*chain
	byKey := map[string]*chain{}
	for _, it := range items {
		if it.Notification == nil {
			continue
		}
		key := identity(it.Notification)
		if key == "" {
			chains = append(chains, &chain{items: []delivery.DigestItem{it}})
			continue
		}
		c := byKey[key]
		if c == nil {
			c = &chain{key: key}
			byKey[key] = c
			chains = append(chains, c)
		}
		c.items = append(c.items, it)
	}

	// Net each chain; remember the whole-event creations and deletions,
	// which fold the changes of the event's occurrences.
	entries := make([]*DigestEntry, len(chains))
	whole := map[string]string{} // "upd|uid" → "created" or "deleted"
	for i, c := range chains {
		e, ok := net(c.items)
		ids := deliveryIDs(c.items)
		if !ok {
			d.Undone = append(d.Undone, ids...)
			continue
		}
		e.DeliveryIDs = ids
		entries[i] = &e
		if u := e.Notification.Update; u != nil && u.RecurrenceID == "" && u.UID != "" && u.Component != "calendar" {
			if a := strings.ToLower(u.Action); a == "created" || a == "deleted" {
				whole["upd|"+u.UID] = a
			}
		}
	}
	for i, e := range entries {
		if e == nil {
			continue
		}
		u := e.Notification.Update
		if u == nil || u.RecurrenceID == "" || u.UID == "" {
			continue
		}
		if _, ok := whole["upd|"+u.UID]; ok {
			d.Undone = append(d.Undone, e.DeliveryIDs...)
			entries[i] = nil
		}
	}

	// Group by calendar, then by event within a calendar.
	groupOf := map[string]int{}
	var orphans DigestGroup
	for _, e := range entries {
		if e == nil {
			continue
		}
		href := calendarHref(e.Notification)
		if href == "" {
			orphans.Entries = append(orphans.Entries, *e)
			d.Entries++
			continue
		}
		gi, ok := groupOf[href]
		if !ok {
			gi = len(d.Groups)
			groupOf[href] = gi
			d.Groups = append(d.Groups, DigestGroup{Href: href})
		}
		g := &d.Groups[gi]
		g.Name = Cleaner{}.Calendar(e.CalendarName, e.Notification.Calendar)
		if g.Name == "" {
			g.Name = Cleaner{}.LastSegment(href)
		}
		g.Entries = append(g.Entries, *e)
		d.Entries++
	}
	if len(orphans.Entries) > 0 {
		d.Groups = append(d.Groups, orphans)
	}
	for i := range d.Groups {
		d.Groups[i].Entries = byEvent(d.Groups[i].Entries)
	}
	return d
}

// byEvent puts the entries about one event together, where the first of
// them is, keeping their order otherwise.
func byEvent(entries []DigestEntry) []DigestEntry {
	var out []DigestEntry
	done := make([]bool, len(entries))
	for i, e := range entries {
		if done[i] {
			continue
		}
		out = append(out, e)
		uid := eventUID(e.Notification)
		if uid == "" {
			continue
		}
		for j := i + 1; j < len(entries); j++ {
			if !done[j] && eventUID(entries[j].Notification) == uid {
				out = append(out, entries[j])
				done[j] = true
			}
		}
	}
	return out
}

// identity is what makes notifications about one thing fold together:
// "" for one that stands on its own.
func identity(n *notifyd.Notification) string {
	switch {
	case IsUpdate(n.Type):
		comp, _, _ := strings.Cut(string(n.Type), "-")
		if u := n.Update; u != nil && u.Component != "" {
			comp = component(u.Component)
		}
		if comp == "calendar" {
			if n.Calendar.Href == "" {
				return ""
			}
			return "cal|" + n.Calendar.Href
		}
		u := n.Update
		if u == nil {
			return ""
		}
		switch {
		case u.UID != "":
			return "upd|" + u.UID + "|" + u.RecurrenceID
		case u.Object != "":
			return "obj|" + u.Object + "|" + u.RecurrenceID
		}
		return ""
	case IsScheduling(n.Type):
		s := n.Scheduling
		if s == nil || s.UID == "" {
			return ""
		}
		key := "sched|" + s.UID + "|" + s.RecurrenceID + "|"
		switch n.Type {
		case notifyd.TypeInvitation, notifyd.TypeInvitationCancelled:
			return key + "organizer"
		}
		who := s.Attendee.Href
		if who == "" {
			who = n.From.Href
		}
		if who == "" {
			return ""
		}
		return key + string(n.Type) + "|" + strings.ToLower(who)
	}
	return ""
}

// eventUID is the UID of the event or task n is about, "" if none.
func eventUID(n *notifyd.Notification) string {
	switch {
	case n.Update != nil && n.Update.UID != "":
		return n.Update.UID
	case n.Reminder != nil && n.Reminder.UID != "":
		return n.Reminder.UID
	case n.Scheduling != nil && n.Scheduling.UID != "":
		return n.Scheduling.UID
	case n.Event != nil:
		return n.Event.UID
	}
	return ""
}

// calendarHref is the href of the calendar n is about, "" if none.
func calendarHref(n *notifyd.Notification) string {
	switch {
	case n.Calendar.Href != "":
		return n.Calendar.Href
	case n.Reminder != nil && n.Reminder.Calendar != "":
		return n.Reminder.Calendar
	}
	return ""
}

// deliveryIDs lists the items' delivery ids.
func deliveryIDs(items []delivery.DigestItem) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.DeliveryID
	}
	return ids
}

// net is the one entry that the items about one thing (oldest first)
// come to, and false when they cancel out.
func net(items []delivery.DigestItem) (DigestEntry, bool) {
	last := items[len(items)-1]
	e := DigestEntry{Notification: last.Notification, CalendarName: last.CalendarName}
	if len(items) == 1 {
		return e, true
	}
	first := items[0].Notification
	switch {
	case IsUpdate(first.Type):
		return netUpdate(items, e)
	case IsScheduling(first.Type):
		if last.Notification.Type == notifyd.TypeInvitationCancelled &&
			first.Type == notifyd.TypeInvitation && first.Scheduling != nil && !first.Scheduling.Updated {
			return e, false // invited, then the invitation withdrawn
		}
		if last.Notification.Type == notifyd.TypeInvitation && first.Type == notifyd.TypeInvitation &&
			first.Scheduling != nil && !first.Scheduling.Updated && last.Notification.Scheduling.Updated {
			// Still a new invitation, in its latest form.
			n, s := *last.Notification, *last.Notification.Scheduling
			s.Updated = false
			n.Scheduling = &s
			e.Notification = &n
		}
	}
	return e, true
}

// action is a calendar update's action: "created", "modified" or
// "deleted".
func action(n *notifyd.Notification) string {
	if n.Update != nil && n.Update.Action != "" {
		return strings.ToLower(n.Update.Action)
	}
	_, a, _ := strings.Cut(string(n.Type), "-")
	return a
}

// netUpdate nets the updates of one event, task or calendar into e (the
// latest's).
func netUpdate(items []delivery.DigestItem, e DigestEntry) (DigestEntry, bool) {
	first, last := items[0].Notification, e.Notification
	existed := action(first) != "created"
	exists := action(last) != "deleted"
	switch {
	case !existed && !exists:
		return e, false // created, then deleted
	case !exists:
		return e, true // the deletion says it
	}
	n := *last
	u := notifyd.Update{}
	if last.Update != nil {
		u = *last.Update
	}
	comp, _, _ := strings.Cut(string(last.Type), "-")
	if !existed {
		// Created inside the window: a creation in its latest state.
		n.Type = notifyd.NotificationType(comp + "-created")
		u.Action, u.Fields = "created", nil
		u.By = sameBy(items)
		n.Update = &u
		e.Notification = &n
		return e, true
	}
	// It was there before and still is: the net change of each field.
	recreated := false
	var order []string
	changes := map[string]notifyd.FieldChange{}
	for i, it := range items {
		if i > 0 && action(it.Notification) == "created" {
			recreated = true
		}
		if it.Notification.Update == nil || action(it.Notification) != "modified" {
			continue
		}
		for _, f := range it.Notification.Update.Fields {
			key := strings.ToLower(f.Field)
			prev, seen := changes[key]
			if !seen {
				order = append(order, key)
				changes[key] = f
				continue
			}
			prev.To, prev.ToTime, prev.AllDay = f.To, f.ToTime, f.AllDay
			changes[key] = prev
		}
	}
	var fields []notifyd.FieldChange
	for _, key := range order {
		if f := changes[key]; f.From != f.To || !f.FromTime.Equal(f.ToTime) {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 && !recreated {
		return e, false // every change undone
	}
	n.Type = notifyd.NotificationType(comp + "-modified")
	u.Action, u.Fields = "modified", fields
	u.By = sameBy(items)
	n.Update = &u
	e.Notification = &n
	return e, true
}

// sameBy is who made every change of items, zero when they were not all
// made by the same person (or it is not known).
func sameBy(items []delivery.DigestItem) notifyd.Person {
	var by notifyd.Person
	for i, it := range items {
		var p notifyd.Person
		if it.Notification.Update != nil {
			p = it.Notification.Update.By
		}
		if i > 0 && p != by {
			return notifyd.Person{}
		}
		by = p
	}
	return by
}

// DigestUndone is the reason a channel gives for a digest it does not
// send (delivery.Result.Skipped): every notification it gathered
// cancelled out.
const DigestUndone = "every change in the digest was undone inside its window: nothing to tell"
