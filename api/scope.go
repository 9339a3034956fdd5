package api

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// maxScopedTries bounds how often a scoped key's write is tried again
// when the subscription changed between the scope check and the write.
const maxScopedTries = 8

// scopedSubscriptionWrite runs write on subscription id on behalf of the
// request's actor. For a key scoped to systems, the subscription must be
// of one of them (notifyd.ErrNotFound otherwise, as if it did not exist),
// and the write is made on the version whose system was checked, so that
// a concurrent change of its system cannot slip between the check and the
// write; ifVersion is the client's If-Match (0: none), which a write
// without one does not need: it is tried again on the new version.
func (s *Server) scopedSubscriptionWrite(c *gin.Context, id string, ifVersion int64, write func(version int64) error) error {
	a := actorOf(c)
	if !a.Scoped() {
		return write(ifVersion)
	}
	ctx := c.Request.Context()
	for range maxScopedTries {
		cur, err := s.subs.Get(ctx, id)
		if err != nil {
			return err
		}
		if !a.Sees(cur.System) {
			return notifyd.ErrNotFound
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return notifyd.ErrConflict
		}
		err = write(cur.Version)
		if !errors.Is(err, notifyd.ErrConflict) || ifVersion != 0 {
			return err
		}
	}
	return notifyd.ErrConflict
}

// subscriptionInScope returns the subscription id if the request's actor
// sees its system; notifyd.ErrNotFound otherwise, as if it did not exist.
func (s *Server) subscriptionInScope(ctx context.Context, a Actor, id string) (*notifyd.Subscription, error) {
	sub, err := s.subs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Sees(sub.System) {
		return nil, notifyd.ErrNotFound
	}
	return sub, nil
}

// deliveryInScope returns notifyd.ErrNotFound unless the request's actor
// sees the system of delivery id (or is not scoped).
func (s *Server) deliveryInScope(c *gin.Context, id string) error {
	a := actorOf(c)
	if !a.Scoped() {
		return nil
	}
	d, err := s.deadLog.Delivery(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if !a.Sees(d.System) {
		return notifyd.ErrNotFound
	}
	return nil
}
