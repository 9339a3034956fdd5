package engine

import (
	"context"
	"fmt"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// suppressReasons are the suppression reasons as the delivery log tells
// them.
var suppressReasons = map[string]string{
	store.SuppressHardBounce:  "hard bounce",
	store.SuppressComplaint:   "spam complaint",
	store.SuppressUnsubscribe: "unsubscribed",
	store.SuppressStop:        "replied STOP",
	store.SuppressManual:      "added by an operator",
}

// suppressed says why channel's address is on the suppression list
// (store.Suppressed: one lookup of its key, before every send), "" when
// it is not: "address suppressed: hard bounce on 2026-12-07 (550 5.1.1
// user unknown); DELETE /v1/suppressions/email/… to send to it again".
func (e *Engine) suppressed(ctx context.Context, channel, address string) (string, error) {
	s, err := e.db.Suppressed(ctx, channel, address)
	if err != nil || s == nil {
		return "", err
	}
	why := suppressReasons[s.Reason]
	if why == "" {
		why = s.Reason
	}
	out := fmt.Sprintf("address suppressed: %s on %s by %s", why, s.CreatedAt.Format("2006-01-02 15:04 MST"), s.Actor.Name)
	if s.Detail != "" {
		out += " (" + s.Detail + ")"
	}
	return out + fmt.Sprintf("; remove it from the suppression list (DELETE /v1/suppressions/%s/%s) to send to it again",
		s.Channel, s.Address), nil
}

// suppressStop suppresses the phone number of SMS delivery d, which
// Twilio refused because its recipient replied STOP (sendErr wraps
// delivery.ErrRecipientGone): Twilio blocks the number for the whole
// account, so no subscription is to send to it, not only d's method.
func (e *Engine) suppressStop(ctx context.Context, d *store.DeliveryRecord, sendErr error) error {
	if d.Channel != string(notifyd.ChannelSMS) {
		return nil
	}
	_, added, err := e.db.AddSuppression(ctx, store.Suppression{Channel: notifyd.ChannelSMS, Address: d.Address,
		Reason: store.SuppressStop, Detail: sendErr.Error(), DeliveryID: d.ID})
	if added {
		e.log.Info("phone number suppressed: its recipient replied STOP", "delivery", d.ID)
	}
	return err
}
