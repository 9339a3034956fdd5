package engine

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// subscriptionCache reads each subscription a job needs once: a batch
// job's deliveries are one principal's, mostly of one subscription. It
// belongs to one job (no locking); forget drops a copy the job changed.
type subscriptionCache struct {
	store *subscriptions.Service
	read  map[string]cachedSubscription
}

type cachedSubscription struct {
	sub *notifyd.Subscription
	err error // nil or notifyd.ErrNotFound
}

// get returns subscription id, read from the store the first time.
func (c *subscriptionCache) get(ctx context.Context, id string) (*notifyd.Subscription, error) {
	if r, ok := c.read[id]; ok {
		return r.sub, r.err
	}
	sub, err := c.store.Get(ctx, id)
	if err == nil || errors.Is(err, notifyd.ErrNotFound) {
		if c.read == nil {
			c.read = make(map[string]cachedSubscription)
		}
		c.read[id] = cachedSubscription{sub, err}
	}
	return sub, err
}

// forget drops the copy of subscription id: it is read again next time.
func (c *subscriptionCache) forget(id string) { delete(c.read, id) }
