package engine_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
)

// multiDAV serves many principals' collections, each with n invites, from
// memory (no network): what remains is notifyd's own cost. It closes done
// at the want-th DELETE.
type multiDAV struct {
	*fakeDAV
	n, want int
	deletes atomic.Int64
	done    chan struct{}
}

func (m *multiDAV) NotificationURL(_ context.Context, p string) (string, error) {
	return p + "notifications/", nil
}

func (m *multiDAV) Sync(_ context.Context, coll, token string) (*caldavclient.SyncResult, error) {
	res := &caldavclient.SyncResult{Token: "v1"}
	if token == "" {
		for i := 0; i < m.n; i++ {
			res.Changed = append(res.Changed, caldavclient.Resource{Href: fmt.Sprintf("%sn%d.xml", coll, i), ETag: `"1"`})
		}
	}
	return res, nil
}

func (m *multiDAV) Get(_ context.Context, href string) ([]byte, string, error) {
	return inviteXML(href), `"1"`, nil
}

func (m *multiDAV) Delete(context.Context, string, string) error {
	if m.deletes.Add(1) == int64(m.want) {
		close(m.done)
	}
	return nil
}

// BenchmarkEngineEndToEnd measures notifyd's own cost of one notification,
// from the ping to the after-delivery DELETE, through the real job queue
// and database: 200 principals with 5 notifications each, an instant
// email channel, policy delete. ns/op is per notification.
func BenchmarkEngineEndToEnd(b *testing.B) {
	const principals, per = 200, 5
	for i := 0; i < b.N; i += principals * per {
		b.StopTimer()
		dav := &multiDAV{fakeDAV: newFakeDAV(), n: per, want: principals * per, done: make(chan struct{})}
		r := newRigOn(b, testdb.Open(b), engine.PolicyDelete, func(o *engine.Options) {
			o.Systems[0].CalDAV = dav
			o.PollInterval, o.RetryBase, o.RetryMax, o.MaxAttempts = 20*time.Millisecond, 0, 0, 0 // the defaults
		})
		hrefs := make([]string, principals)
		for p := range hrefs {
			hrefs[p] = fmt.Sprintf("/p/u%d/", p)
			r.subscribe(b, hrefs[p], fmt.Sprintf("u%d@example.org", p))
		}
		r.start(b)
		b.StartTimer()
		if _, err := r.intake.Enqueue(r.ctx, "cal", hrefs); err != nil {
			b.Fatal(err)
		}
		<-dav.done
		b.StopTimer()
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.eng.Stop(stop)
		cancel()
	}
}
