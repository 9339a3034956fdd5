package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/store"
)

// inboxMessages turns the items one inbox sync read into notifications,
// deliveries and item records, in change.
type inboxMessages struct {
	e      *Engine
	log    *slog.Logger
	key    store.PrincipalKey
	subs   []*notifyd.Subscription
	addrs  []string
	zone   *time.Location
	items  map[string]store.InboxItem // as recorded before this sync
	change *store.InboxChange
}

// add handles one item read by the sync (listed with etag): gone, it is
// removed; unreadable, recorded as seen and skipped; else its message is
// added with its deliveries.
func (m *inboxMessages) add(o caldavclient.Object, listed string) {
	etag := o.ETag
	if etag == "" {
		etag = listed
	}
	item := store.InboxItem{Href: o.Href, ETag: etag}
	switch {
	case o.Missing:
		m.change.Removed = append(m.change.Removed, o.Href)
		return
	case o.TooLarge || o.Err != nil:
		m.log.Warn("scheduling message not read; it is skipped", "item", o.Href, "too_large", o.TooLarge, "err", o.Err)
		m.change.Seen = append(m.change.Seen, item)
		return
	}
	n, t, err := m.notification(o)
	if err != nil {
		m.log.Warn("scheduling message cannot be read as iTIP; it is skipped (left in the inbox)", "item", o.Href, "err", err)
		m.change.Seen = append(m.change.Seen, item)
		return
	}
	item.UID, item.Method = n.Scheduling.UID, n.Scheduling.Method
	m.change.Seen = append(m.change.Seen, item)
	parsed, err := json.Marshal(n)
	if err != nil {
		m.log.Warn("scheduling message cannot be recorded; it is skipped", "item", o.Href, "err", err)
		return
	}
	sum := sha256.Sum256(o.Data)
	id := digest("itip", m.key.System, m.key.Principal, o.Href, hex.EncodeToString(sum[:]))
	nr := store.NotificationRecord{ID: id, Href: o.Href, ETag: etag, Type: string(t), Parsed: parsed}
	// A message the principal sent itself (issue 15 §4) is not sent to
	// it: its deliveries are recorded as suppressed, with why, unless the
	// subscription asks for its own changes (notify_own_changes).
	own := ""
	if ownChange(n.From.Href, m.key.Principal, m.addrs) {
		own = fmt.Sprintf("suppressed: %s sent this scheduling message (%s %s), and the subscription does not ask for its "+
			"own changes (notify_own_changes)", m.key.Principal, senderField(n.Scheduling.Method), n.From.Href)
	}
	sent := 0
	for _, tg := range targets(m.subs, t) {
		d := store.DeliveryRecord{
			ID: deliveryID(id, tg.Method.Channel, tg.Method.Address), NotificationID: id,
			SubscriptionID: tg.SubscriptionID, MethodID: tg.Method.ID,
			Channel: string(tg.Method.Channel), Address: tg.Method.Address,
		}
		if own != "" && !notifiesOwn(m.subs, tg.SubscriptionID) {
			d.Status, d.LastError = store.DeliverySuppressed, own
			m.change.Unsent = append(m.change.Unsent, d)
			continue
		}
		m.change.Deliveries = append(m.change.Deliveries, d)
		sent++
	}
	if own != "" && sent == 0 {
		nr.Status, nr.Error = store.NotificationDone, "not sent: "+own
	}
	m.change.Notifications = append(m.change.Notifications, nr)
	m.log.Info("scheduling message found", "item", o.Href, "method", n.Scheduling.Method, "type", t,
		"deliveries", sent, "own", own != "")
}

// notification reads the iTIP message of o and builds its notification.
func (m *inboxMessages) notification(o caldavclient.Object) (notifyd.Notification, notifyd.NotificationType, error) {
	msg, err := calendar.ParseMessage(o.Data, calendar.ParseOptions{DefaultLocation: m.zone})
	if err != nil {
		return notifyd.Notification{}, "", err
	}
	s := schedulingOf(msg, o.Href)
	s.ICalendar = string(o.Data)
	var t notifyd.NotificationType
	from := s.Organizer
	switch msg.Method {
	case notifyd.MethodRequest, notifyd.MethodAdd:
		t = notifyd.TypeInvitation
		s.Updated = msg.Method == notifyd.MethodAdd || m.invitedBefore(o.Href, s.UID)
	case notifyd.MethodCancel:
		t = notifyd.TypeInvitationCancelled
	case notifyd.MethodDeclineCounter:
		t = notifyd.TypeCounterProposal
	case notifyd.MethodReply, notifyd.MethodRefresh, notifyd.MethodCounter:
		t = map[string]notifyd.NotificationType{notifyd.MethodReply: notifyd.TypeInvitationReply,
			notifyd.MethodRefresh: notifyd.TypeRefreshRequest, notifyd.MethodCounter: notifyd.TypeCounterProposal}[msg.Method]
		setReplier(s, msg.Attendees[0]) // RFC 5546: the one attendee replying
		from = s.Attendee
	default:
		return notifyd.Notification{}, "", fmt.Errorf("METHOD %q is no message an inbox should hold", msg.Method)
	}
	c := msg.Component
	ev := &notifyd.Event{Href: o.Href, UID: s.UID, Summary: c.Summary, Location: c.Location, AllDay: c.Start.Date}
	ev.Start, ev.End = instantTimes(c)
	n := notifyd.Notification{Type: t, Element: "VCALENDAR", UID: s.UID, From: from,
		Summary: c.Summary, Event: ev, Scheduling: s}
	return n, t, nil
}

// invitedBefore reports an earlier REQUEST for uid recorded in the inbox
// (under another href).
func (m *inboxMessages) invitedBefore(href, uid string) bool {
	for _, it := range m.items {
		if it.Href != href && it.UID == uid && (it.Method == notifyd.MethodRequest || it.Method == notifyd.MethodAdd) {
			return true
		}
	}
	for _, it := range m.change.Seen {
		if it.Href != href && it.UID == uid && (it.Method == notifyd.MethodRequest || it.Method == notifyd.MethodAdd) {
			return true
		}
	}
	return false
}

// instantTimes are c's start and end as Event holds them: instants, or
// for dates midnight UTC of each (the end exclusive). An end given by
// DURATION is worked out; an all-day event without one lasts a day.
func instantTimes(c *calendar.Component) (start, end time.Time) {
	if c.Start.IsZero() {
		return time.Time{}, asEventTime(c.End)
	}
	start = asEventTime(c.Start)
	switch {
	case !c.End.IsZero():
		end = asEventTime(c.End)
	case c.HasDuration:
		end = c.Duration.AddTo(start)
	case c.Start.Date:
		end = start.AddDate(0, 0, 1)
	}
	return start, end
}

// asEventTime is t as Event holds it: a date as midnight UTC of its date,
// else the instant.
func asEventTime(t calendar.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	if t.Date {
		y, mo, d := t.Time.Date()
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	}
	return t.Time
}

// person is a Party as a notification names it.
func person(p calendar.Party) notifyd.Person {
	return notifyd.Person{Href: p.Address, CommonName: p.CommonName}
}

// senderField names the property that says who sent a message of
// method: the attendee's for a reply, refresh or counter, else the
// organizer's.
func senderField(method string) string {
	switch method {
	case notifyd.MethodReply, notifyd.MethodRefresh, notifyd.MethodCounter:
		return "ATTENDEE"
	}
	return "ORGANIZER"
}
