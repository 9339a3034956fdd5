package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/notifyd/notifyd"
)

// EventComplaint: a feedback loop's report (ARF) said the recipient
// marked the delivery's message as spam (Status: the delivery's status,
// which a complaint does not change: the message was delivered; Detail:
// the feedback type and who reported it).
const EventComplaint = "complaint"

// Complaint is a spam complaint as it applies to a delivery.
type Complaint struct {
	DeliveryID string
	// Detail says what the report was and who sent it ("feedback type
	// abuse from arf.mail.yahoo.com (Yahoo!-Mail-Feedback/2.0)").
	Detail string
	At     time.Time
}

// ComplaintOutcome says what RecordComplaint did.
type ComplaintOutcome struct {
	// Delivery is the delivery complained about.
	Delivery *DeliveryRecord
	// Duplicate says the delivery had a complaint recorded already (a
	// report sent twice, or read by two replicas): nothing was changed.
	Duplicate bool
	// Suppressed is the delivery's address, on the suppression list now
	// (with reason complaint, or the reason it had already); "" for a
	// duplicate.
	Suppressed string
	// Added says this complaint put the address on the list; false when
	// it was there already, for any reason.
	Added bool
}

// RecordComplaint applies a spam complaint to its delivery in one durable
// write: the event in the delivery's history, and the delivery's address
// on the suppression list (reason complaint, audited as added by notifyd;
// an address already on the list keeps its first reason). The address is
// the delivery's own: the one notifyd sent to, which is what it must stop
// sending to (providers redact the complaining recipient, and one who
// forwards mail complains from another address). The delivery's status
// does not change. A delivery is complained about once: a complaint
// received again changes nothing. It returns notifyd.ErrNotFound when no
// such email delivery exists.
func (db *DB) RecordComplaint(ctx context.Context, c Complaint) (ComplaintOutcome, error) {
	var out ComplaintOutcome
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		out = ComplaintOutcome{}
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1 AND channel = $2`+
			db.lockRow(), c.DeliveryID, string(notifyd.ChannelEmail)))
		if err != nil {
			return notFound(err)
		}
		out.Delivery = d
		var seen int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM delivery_events WHERE delivery_id = $1 AND kind = $2`,
			d.ID, EventComplaint).Scan(&seen); err != nil {
			return Classify(err)
		}
		if seen > 0 {
			out.Duplicate = true
			return nil
		}
		detail := boundDetail(c.Detail)
		if err := addEvent(ctx, tx, DeliveryEvent{DeliveryID: d.ID, Kind: EventComplaint, At: c.At, Status: d.Status, Detail: detail}); err != nil {
			return err
		}
		s, added, err := Suppress(ctx, tx, Suppression{Channel: notifyd.ChannelEmail, Address: d.Address, Reason: SuppressComplaint,
			Detail: detail, Actor: AuditActor{Kind: ActorKindNotifyd, Name: "complaint report"}, CreatedAt: c.At, DeliveryID: d.ID})
		if err != nil {
			return err
		}
		out.Suppressed, out.Added = s.Address, added
		return nil
	})
	return out, err
}

// lockRow is what a SELECT of one row ends with to lock it until the
// transaction ends: on PostgreSQL, FOR UPDATE, so that two transactions
// recording a report about one delivery at once (two replicas reading
// one mailbox) take turns, and the second sees the first's event;
// nothing on SQLite, which runs one write transaction at a time.
func (db *DB) lockRow() string {
	if db.pool != nil {
		return " FOR UPDATE"
	}
	return ""
}
