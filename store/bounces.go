package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/notifyd/notifyd"
)

// DeliveryBounced is an email the recipient's server accepted from the
// relay, then refused for good: a bounce report came back for it (its
// diagnostic is in LastError). Its address is on the suppression list.
const DeliveryBounced = "bounced"

// EventBounce: a bounce report came back for the delivery (Status: the
// delivery's status it left, bounced for a hard bounce; Detail: the
// report's status code and diagnostic).
const EventBounce = "bounce"

// Bounce is a bounce report as it applies to a delivery.
type Bounce struct {
	DeliveryID string
	// Hard says the recipient's server refused the message for good (a
	// 5.x.x status); a soft bounce (4.x.x, a delay) is only recorded.
	Hard bool
	// Recipient is the address the report names; "" when it names none
	// (the delivery's own address is suppressed then).
	Recipient string
	// Detail is the report's status code and diagnostic.
	Detail string
	At     time.Time
}

// BounceOutcome says what RecordBounce did.
type BounceOutcome struct {
	// Delivery is the delivery as it stands after the bounce.
	Delivery *DeliveryRecord
	// Bounced says this report made the delivery bounced; false when it
	// was soft, already recorded (a report sent twice), or the delivery
	// was not one that was sent.
	Bounced bool
	// Suppressed is the address now on the suppression list (hard
	// bounces only): the report's recipient, else the delivery's address.
	Suppressed string
	// Duplicate says the report had been recorded already (sent twice,
	// or read by two replicas): nothing was changed.
	Duplicate bool
}

// RecordBounce applies a bounce report to its delivery in one durable
// write: the event in the delivery's history; for a hard bounce of a sent
// email, the status bounced with the diagnostic, and its address on the
// suppression list (reason hard_bounce). A report received again (a sender
// retrying, several replicas polling one mailbox) changes nothing more.
// It returns notifyd.ErrNotFound when no such email delivery exists.
func (db *DB) RecordBounce(ctx context.Context, b Bounce) (BounceOutcome, error) {
	var out BounceOutcome
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		out = BounceOutcome{}
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1 AND channel = $2`+
			db.lockRow(), b.DeliveryID, string(notifyd.ChannelEmail)))
		if err != nil {
			return notFound(err)
		}
		detail := boundDetail(b.Detail)
		var seen int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM delivery_events WHERE delivery_id = $1 AND kind = $2 AND detail = $3`,
			d.ID, EventBounce, detail).Scan(&seen); err != nil {
			return Classify(err)
		}
		if seen > 0 {
			out.Delivery, out.Duplicate = d, true
			return nil
		}
		if b.Hard && (d.Status == DeliverySent || d.Status == DeliveryDelivered) {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $2, last_error = $3, updated_at = $4 WHERE id = $1`,
				d.ID, DeliveryBounced, detail, micros(b.At)); err != nil {
				return Classify(err)
			}
			d.Status, d.LastError, d.UpdatedAt = DeliveryBounced, detail, fromMicros(micros(b.At))
			out.Bounced = true
		}
		if err := addEvent(ctx, tx, DeliveryEvent{DeliveryID: d.ID, Kind: EventBounce, At: b.At, Status: d.Status, Detail: detail}); err != nil {
			return err
		}
		if b.Hard {
			addr := b.Recipient
			if _, err := NormalizeSuppressionAddress(notifyd.ChannelEmail, addr); err != nil {
				addr = d.Address
			}
			s, _, err := Suppress(ctx, tx, Suppression{Channel: notifyd.ChannelEmail, Address: addr, Reason: SuppressHardBounce,
				Detail: detail, Actor: AuditActor{Kind: ActorKindNotifyd, Name: "bounce report"}, CreatedAt: b.At, DeliveryID: d.ID})
			if err != nil {
				return err
			}
			out.Suppressed = s.Address
		}
		out.Delivery = d
		return nil
	})
	return out, err
}
