package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// multiDAV serves many principals' collections, each with n invites, from
// memory (no network): what remains is notifyd's own cost.
type multiDAV struct {
	*fakeDAV
	n int
}

func (m *multiDAV) NotificationURL(_ context.Context, p string) (string, error) {
	m.hit("PROPFIND")
	return p + "notifications/", nil
}

func (m *multiDAV) Sync(_ context.Context, coll, token string) (*caldavclient.SyncResult, error) {
	m.hit("REPORT")
	res := &caldavclient.SyncResult{Token: "v1"}
	if token == "" {
		for i := 0; i < m.n; i++ {
			res.Changed = append(res.Changed, caldavclient.Resource{Href: fmt.Sprintf("%sn%d.xml", coll, i), ETag: `"1"`})
		}
	}
	return res, nil
}

func (m *multiDAV) Get(_ context.Context, href string) ([]byte, string, error) {
	m.hit("GET")
	return inviteXML(href), `"1"`, nil
}

func (m *multiDAV) Delete(context.Context, string, string) error { m.hit("DELETE"); return nil }

// BenchmarkEngineEndToEnd measures notifyd's own cost of one notification,
// from the ping to the after-delivery DELETE, through the real job queue
// and database: 200 principals with 5 notifications each, an instant
// email channel, policy delete. ns/op is per notification.
func BenchmarkEngineEndToEnd(b *testing.B) {
	const principals, per = 200, 5
	for i := 0; i < b.N; i += principals * per {
		b.StopTimer()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		db, err := store.OpenSQLite(filepath.Join(b.TempDir(), "notifyd.db"))
		if err != nil {
			b.Fatal(err)
		}
		dav := &multiDAV{fakeDAV: newFakeDAV(), n: per}
		ch := &fakeChannel{}
		subs := subscriptions.NewService(db, func(string) bool { return true })
		e, err := engine.New(engine.Options{DB: db, Logger: log, Subscriptions: subs,
			Systems:      []engine.System{{Name: "cal", CalDAV: dav, AfterDelivery: engine.PolicyDelete}},
			Channels:     map[notifyd.Channel]delivery.Channel{notifyd.ChannelEmail: ch},
			PollInterval: 20 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		db.Migrate(ctx)
		e.Queue().Migrate(ctx)
		var hrefs []string
		for p := 0; p < principals; p++ {
			href := fmt.Sprintf("/p/u%d/", p)
			hrefs = append(hrefs, href)
			if _, err := subs.Create(ctx, subscriptions.Input{System: "cal", Principal: href,
				Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: fmt.Sprintf("u%d@example.org", p)}}}); err != nil {
				b.Fatal(err)
			}
		}
		intake := engine.NewIntake(db, e.Queue())
		e.Start(ctx)
		b.StartTimer()
		if _, err := intake.Enqueue(ctx, "cal", hrefs); err != nil {
			b.Fatal(err)
		}
		for dav.count("DELETE") < principals*per {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		intake.Close()
		stop, c := context.WithTimeout(context.Background(), 5*time.Second)
		e.Stop(stop)
		c()
		cancel()
		db.Close()
	}
}
