package im

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// Send renders req and sends it as a chat message, if the delivery
// method's presence policy allows (delivery.Channel): online_only skips an
// offline recipient (Result.Skipped), fallback returns an error wrapping
// delivery.ErrFallback, store sends anyway (the server keeps it). A
// message that cannot be rendered, an invalid address and a message the
// server refuses for good are permanent failures; no connection, no
// confirmation from the server and a server's "wait" refusal are
// temporary.
func (c *Channel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	if req == nil || (req.Notification == nil && req.Digest == nil) {
		return delivery.Result{}, errors.New("im: empty request")
	}
	var m *Message
	var err error
	if req.Digest != nil {
		d := message.Collapse(req.Digest.Items)
		if d.Entries == 0 {
			return delivery.Result{Skipped: message.DigestUndone}, nil
		}
		m, err = c.renderer.RenderDigest(DigestInput{Digest: d, System: req.System, Principal: req.Principal,
			Recipient: req.Address, Locale: req.Locale, TimeZone: req.TimeZone, DeliveryID: req.DeliveryID, PreferencesURL: req.PreferencesURL})
	} else {
		m, err = c.renderer.Render(RenderInput{
			Notification:   req.Notification,
			System:         req.System,
			Principal:      req.Principal,
			Recipient:      req.Address,
			Locale:         req.Locale,
			TimeZone:       req.TimeZone,
			CalendarName:   req.CalendarName,
			DeliveryID:     req.DeliveryID,
			PreferencesURL: req.PreferencesURL,
		})
	}
	if err != nil {
		return delivery.Result{}, err
	}
	if req.PreferencesURL != "" && message.LinkURL(req.PreferencesURL) == "" {
		c.log.Debug("im: the preference link is left out of the message: not an absolute http(s) URL a message may show", "delivery_id", req.DeliveryID)
	}
	bare, _, _ := parseJID(m.To) // checked by Render
	pol := policy(req.Method)
	s, reach, detail, err := c.await(ctx, bareKey(bare), bare, pol != notifyd.PresenceStore)
	if err != nil {
		return delivery.Result{}, delivery.Temporary(err, 0)
	}
	send, res, err := decide(pol, reach, bare, detail)
	if !send {
		return res, err
	}
	if err := c.limiter.Wait(ctx, "im to "+bare); err != nil {
		return delivery.Result{}, err
	}
	hint := hintNoStore
	if pol == notifyd.PresenceStore {
		hint = "store"
	}
	if err := c.deliver(ctx, s, bareKey(bare), m, hint); err != nil {
		return delivery.Result{}, err
	}
	return delivery.Result{ProviderID: m.ID}, nil
}

// await returns the session and what is known of key's presence, waiting
// (when wait is true) while it is undecided: just after login, or after a
// subscription request or approval. It asks for the subscription of an
// address it has none to. The error is the connection being down.
func (c *Channel) await(ctx context.Context, key, addr string, wait bool) (*session, reachability, string, error) {
	connectUntil := time.Now().Add(c.connectWait)
	for {
		now := time.Now()
		changed := c.changed.wait() // before reading the state: no change is missed
		s, lastErr := c.link.state()
		if s == nil {
			closed := c.ctx.Err() != nil
			err := downErr(closed, lastErr)
			if lastErr != nil || closed || !now.Before(connectUntil) {
				return nil, 0, "", err
			}
			// The first connection is being made.
			if !sleepOrChange(ctx, changed, connectUntil.Sub(now)) {
				return nil, 0, "", err
			}
			continue
		}
		reach, detail, until, out, ok := c.book.reach(s.id, key, addr, c.approvalWait, now)
		if !ok { // s has just begun or ended
			if !sleepOrChange(ctx, changed, c.connectWait) {
				return nil, 0, "", fmt.Errorf("im: waiting for %s's presence: %w", addr, ctx.Err())
			}
			continue
		}
		s.enqueueAll(c.ctx, out)
		if !wait || until.IsZero() || !now.Before(until) {
			return s, reach, detail, nil
		}
		if !sleepOrChange(ctx, changed, until.Sub(now)) {
			return nil, 0, "", fmt.Errorf("im: waiting for %s's presence: %w", addr, ctx.Err())
		}
	}
}

// sleepOrChange waits for a change of state, d, or ctx; it returns false
// when ctx ended.
func sleepOrChange(ctx context.Context, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// deliver writes the message, then a ping, and waits for the server's
// answer to the ping: the server handles a session's stanzas in order,
// so by then it has routed the message (or stored it offline), or
// bounced it with an error.
func (c *Channel) deliver(ctx context.Context, s *session, key string, m *Message, hint string) error {
	id, p, err := s.acks.add(key)
	if err != nil {
		return delivery.Temporary(downErr(c.ctx.Err() != nil, err), 0)
	}
	defer s.acks.remove(id)

	if err := s.enqueue(ctx, messageStanza(m, hint)); err != nil {
		return delivery.Temporary(fmt.Errorf("im to %s: %w", m.To, err), 0)
	}
	if err := s.enqueue(ctx, pingStanza(id, s.domain)); err != nil {
		return delivery.Temporary(fmt.Errorf("im to %s: the server's confirmation could not be asked for: %w", m.To, err), 0)
	}
	t := time.NewTimer(c.ackTimeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		return err
	case <-t.C:
		return delivery.Temporary(fmt.Errorf("im to %s: no confirmation from the XMPP server after %s", m.To, c.ackTimeout), 0)
	case <-ctx.Done():
		return delivery.Temporary(fmt.Errorf("im to %s: %w", m.To, ctx.Err()), 0)
	}
}
