package email

import (
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// The .ics attachment of a reminder.
const (
	icsName = "reminder.ics"
	icsType = "text/calendar; charset=utf-8; method=PUBLISH"
)

// reminderAttachment is the .ics file of a reminder's event or task
// instance (see [message.ReminderCalendar]), nil when n is not a reminder
// or has nothing to describe. Its fields are cut to message.MaxFieldRunes
// characters, or to message.TightFieldRunes when that is over
// MaxAttachmentBytes; it is left out when even that is over. shortened
// reports either.
func reminderAttachment(n *notifyd.Notification) (a *Attachment, shortened bool) {
	if n.Type != notifyd.TypeReminder || n.Reminder == nil {
		return nil, false
	}
	stamp := n.DTStamp
	if stamp.IsZero() {
		stamp = n.Reminder.Trigger
	}
	if stamp.IsZero() {
		stamp = time.Now()
	}
	for i, maxRunes := range []int{message.MaxFieldRunes, message.TightFieldRunes} {
		short, _ := message.Shorten(n, maxRunes)
		lines := message.ReminderCalendar(short, stamp)
		if lines == nil {
			return nil, i > 0
		}
		if ics := message.FoldICal(lines); len(ics) <= MaxAttachmentBytes {
			return &Attachment{Name: icsName, ContentType: icsType, Data: []byte(ics)}, i > 0
		}
	}
	return nil, true
}
