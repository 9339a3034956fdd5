package im

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// refreshWith runs one watch round with addrs.
func (c *Channel) refreshWith(t *testing.T, addrs ...string) {
	t.Helper()
	c.lists.mu.Lock()
	c.lists.list = func(context.Context) ([]string, error) { return addrs, nil }
	c.lists.mu.Unlock()
	c.refresh()
	synctest.Wait()
}

func TestWatchAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.mutual("fred@example.org", true)
		c := fakeChannel(t, srv, func(c *Channel) { c.watchEvery = 20 * time.Millisecond })
		calls := make(chan struct{}, 100)
		c.WatchAddresses(func(ctx context.Context) ([]string, error) {
			calls <- struct{}{}
			if len(calls) == 3 {
				return nil, errors.New("database busy") // keeps the previous list
			}
			return []string{wilmaJID, "fred@example.org", "not a JID", "WILMA@example.org"}, nil
		})
		srv.waitWrote(t, "to='wilma@example.org'", "type='subscribe'")
		srv.waitWrote(t, "to='wilma@example.org'", "type='subscribed'") // pre-approval: mutual at once when she asks
		for range 5 {
			<-calls
		}
		synctest.Wait()
		if n := srv.wrote("to='wilma@example.org'", "type='subscribe'"); n != 1 {
			t.Errorf("wilma asked %d times, want once (the request is pending)", n)
		}
		if n := srv.wrote("fred@example.org", "type='subscribe"); n != 0 {
			t.Errorf("fred, already mutual, was asked again")
		}
		if !c.isWatched(wilmaJID) {
			t.Error("wilma not watched after a failed listing")
		}

		// A contact asks for notifyd's presence: approved; a watched one
		// whose presence is not visible is asked in return.
		srv.mu.Lock()
		srv.conn.push(xmppPresence("barney@example.org/x", "subscribe"))
		srv.mu.Unlock()
		srv.waitWrote(t, "to='barney@example.org'", "type='subscribed'")
		if n := srv.wrote("to='barney@example.org'", "type='subscribe'"); n != 0 {
			t.Error("an unwatched contact was asked for their presence")
		}
	})
}
