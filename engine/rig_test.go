package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

func TestMain(m *testing.M) { os.Exit(peertest.WithPostgres(m.Run)) }

const principal = "/dav/principals/user/wilma/"

// The kinds of the engine's jobs.
var (
	syncKind    = (engine.SyncPrincipalArgs{}).Kind()
	batchKind   = (engine.DeliverBatchArgs{}).Kind()
	deliverKind = (engine.DeliverArgs{}).Kind()
	finishKind  = (engine.FinishArgs{}).Kind()
	sweepKind   = (engine.SweepArgs{}).Kind()
)

// inviteTo is a sharing invite from fred to wilma, as Cyrus serves it, to
// the calendar at hosturl.
func inviteTo(uid, hosturl string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T052657Z</CS:dtstamp><CS:invite-notification>
<CS:uid>` + uid + `</CS:uid><D:href xmlns:D="DAV:">/dav/principals/user/wilma/</D:href><CS:invite-noresponse/>
<CS:access><CS:read-write/></CS:access><CS:hosturl><D:href xmlns:D="DAV:">` + hosturl + `</D:href></CS:hosturl>
<CS:organizer><D:href xmlns:D="DAV:">/dav/principals/user/fred/</D:href><CS:common-name>Fred</CS:common-name></CS:organizer>
</CS:invite-notification></CS:notification>`
}

// inviteXML is an invite to fred's calendar.
func inviteXML(uid string) []byte { return []byte(inviteTo(uid, "/dav/calendars/user/fred/Default/")) }

// fakeDAV is an in-memory notification collection with a change log,
// counting the requests made.
type fakeDAV struct {
	mu         sync.Mutex
	collection string                  // where discovery says the collection is
	resources  map[string]fakeResource // href -> resource
	version    int
	down       error // returned by every call while set
	requests   map[string]int
	deleted    []string
	badTokens  map[string]bool
	tooLarge   string            // the href whose GET says caldavclient.ErrTooLarge
	onDelete   func(href string) // called before each DELETE, if set
	puts       []fakePut         // the PUTs that replaced a resource
	refusePut  bool              // PUT says caldavclient.ErrNotSupported, as Cyrus's 405
	removed    map[string]int    // href -> version at which someone else removed it
}

// fakePut is a PUT as the server received it.
type fakePut struct {
	href, ifMatch, contentType string
	body                       []byte
}

type fakeResource struct {
	body    []byte
	etag    string
	version int
}

func newFakeDAV() *fakeDAV {
	return &fakeDAV{resources: map[string]fakeResource{}, requests: map[string]int{}, badTokens: map[string]bool{},
		collection: "/dav/notifications/user/wilma/"}
}

func (f *fakeDAV) add(name string, body []byte) {
	f.locked(func() {
		f.version++
		f.resources["/dav/notifications/user/wilma/"+name] = fakeResource{body: body, etag: fmt.Sprintf(`"e%d"`, f.version), version: f.version}
	})
}

// remove deletes a resource as a user or the server would: the next
// sync reports it deleted.
func (f *fakeDAV) remove(name string) {
	f.locked(func() {
		f.version++
		href := "/dav/notifications/user/wilma/" + name
		delete(f.resources, href)
		if f.removed == nil {
			f.removed = map[string]int{}
		}
		f.removed[href] = f.version
	})
}

// locked runs fn with f locked: a change made while the engine runs.
func (f *fakeDAV) locked(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeDAV) count(m string) (n int) {
	f.locked(func() { n = f.requests[m] })
	return n
}

// hit counts a request of method m and locks f: the caller unlocks it.
func (f *fakeDAV) hit(m string) error {
	f.mu.Lock()
	f.requests[m]++
	return f.down
}

func (f *fakeDAV) NotificationURL(ctx context.Context, p string) (string, error) {
	defer f.mu.Unlock()
	if err := f.hit("PROPFIND"); err != nil {
		return "", err
	}
	if p != principal {
		return "", caldavclient.ErrNotFound
	}
	return f.collection, nil
}
func (f *fakeDAV) ForgetNotificationURL(string) {}
func (f *fakeDAV) Sync(ctx context.Context, coll, token string) (*caldavclient.SyncResult, error) {
	defer f.mu.Unlock()
	if err := f.hit("REPORT"); err != nil {
		return nil, err
	}
	if coll != f.collection {
		return nil, caldavclient.ErrNotFound
	}
	if f.badTokens[token] {
		return nil, caldavclient.ErrInvalidSyncToken
	}
	from := 0
	if token != "" {
		fmt.Sscanf(token, "v%d", &from)
	}
	res := &caldavclient.SyncResult{Token: fmt.Sprintf("v%d", f.version)}
	for href, r := range f.resources {
		if r.version > from {
			res.Changed = append(res.Changed, caldavclient.Resource{Href: href, ETag: r.etag})
		}
	}
	sort.Slice(res.Changed, func(i, j int) bool { return res.Changed[i].Href < res.Changed[j].Href })
	for href, v := range f.removed {
		if token != "" && v > from {
			res.Deleted = append(res.Deleted, href)
		}
	}
	return res, nil
}
func (f *fakeDAV) Get(ctx context.Context, href string) ([]byte, string, error) {
	defer f.mu.Unlock()
	if err := f.hit("GET"); err != nil {
		return nil, "", err
	}
	r, ok := f.resources[href]
	switch {
	case !ok:
		return nil, "", caldavclient.ErrNotFound
	case href == f.tooLarge:
		return nil, "", fmt.Errorf("%w: GET %s: Content-Length 52428800 > 10485760 bytes", caldavclient.ErrTooLarge, href)
	}
	return r.body, r.etag, nil
}
func (f *fakeDAV) Delete(ctx context.Context, href, etag string) error {
	defer f.mu.Unlock()
	if err := f.hit("DELETE"); err != nil {
		return err
	}
	if f.onDelete != nil {
		f.onDelete(href)
	}
	if r, ok := f.resources[href]; ok && r.etag != etag {
		return caldavclient.ErrPreconditionFailed
	}
	delete(f.resources, href)
	f.deleted = append(f.deleted, href)
	return nil
}
func (f *fakeDAV) Put(_ context.Context, href, etag string, body []byte, contentType string) error {
	defer f.mu.Unlock()
	if err := f.hit("PUT"); err != nil {
		return err
	}
	r, ok := f.resources[href]
	switch {
	case f.refusePut:
		return caldavclient.ErrNotSupported
	case !ok:
		return caldavclient.ErrNotFound
	case r.etag != etag:
		return caldavclient.ErrPreconditionFailed
	}
	f.puts = append(f.puts, fakePut{href: href, ifMatch: etag, contentType: contentType, body: body})
	f.version++
	f.resources[href] = fakeResource{body: body, etag: fmt.Sprintf(`"e%d"`, f.version), version: f.version}
	return nil
}
func (f *fakeDAV) CalendarName(ctx context.Context, p, href string) (string, error) {
	defer f.mu.Unlock()
	if err := f.hit("PROPFIND"); err != nil {
		return "", err
	}
	return "Fred's calendar", nil
}

// fakeChannel records what it sends; fail, if set, decides the outcome of
// each attempt.
type fakeChannel struct {
	mu   sync.Mutex
	sent []*delivery.Request
	fail func(ctx context.Context, req *delivery.Request, attempt int) error
	seen map[string]int // sends by delivery ID, failed ones included
}

func (c *fakeChannel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[req.DeliveryID]++
	if c.fail != nil {
		if err := c.fail(ctx, req, c.seen[req.DeliveryID]); err != nil {
			return delivery.Result{}, err
		}
	}
	c.sent = append(c.sent, req)
	return delivery.Result{ProviderID: "fake-" + req.DeliveryID}, nil
}

func (c *fakeChannel) sentTo() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.sent {
		out = append(out, r.Address)
	}
	sort.Strings(out)
	return out
}

// rig is an engine on a database of its own, with a fake CalDAV server
// and a fake email channel. Its tests run in parallel.
type rig struct {
	db     *store.DB
	dav    *fakeDAV
	email  *fakeChannel
	subs   *subscriptions.Service
	intake *engine.Intake
	eng    *engine.Engine
	ctx    context.Context // cancelled when the test ends
}

// newRig starts a rig whose system applies policy; adjust change the
// engine's options.
func newRig(tb testing.TB, policy string, adjust ...func(*engine.Options)) *rig {
	tb.Helper()
	r := newRigOn(tb, testdb.Open(tb), policy, adjust...)
	r.start(tb)
	return r
}

// newRigOn builds a rig on db with the store migrated, but neither the
// job queue's migrations applied nor the workers started.
func newRigOn(tb testing.TB, db *store.DB, policy string, adjust ...func(*engine.Options)) *rig {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{db: db, dav: newFakeDAV(), email: &fakeChannel{seen: map[string]int{}}, ctx: ctx}
	r.subs = subscriptions.NewService(db, func(s string) bool { return s == "cal" })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db.SetLogger(log)
	opts := engine.Options{
		DB: db, Logger: log, Subscriptions: r.subs,
		Systems:      []engine.System{{Name: "cal", CalDAV: r.dav, AfterDelivery: policy}},
		Channels:     map[notifyd.Channel]delivery.Channel{notifyd.ChannelEmail: r.email},
		PollInterval: 10 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxAttempts: 5,
	}
	for _, a := range adjust {
		a(&opts)
	}
	e, err := engine.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	r.eng = e
	r.intake = engine.NewIntake(db, e.Queue())
	tb.Cleanup(func() { // before testdb's, which closes db
		r.intake.Close()
		stop, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		e.Stop(stop)
		cancel()
	})
	return r
}

// start applies the job queue's migrations and starts the workers.
func (r *rig) start(tb testing.TB) {
	tb.Helper()
	if _, err := r.eng.Queue().Migrate(r.ctx); err != nil {
		tb.Fatal(err)
	}
	if err := r.eng.Start(r.ctx); err != nil {
		tb.Fatal(err)
	}
}

func (r *rig) subscribe(tb testing.TB, p string, addrs ...string) {
	tb.Helper()
	in := subscriptions.Input{System: "cal", Principal: p}
	for _, a := range addrs {
		in.Methods = append(in.Methods, subscriptions.MethodInput{Channel: notifyd.ChannelEmail, Address: a})
	}
	if _, err := r.subs.Create(context.Background(), in); err != nil {
		tb.Fatal(err)
	}
}

func (r *rig) ping(tb testing.TB, p string) {
	tb.Helper()
	if _, err := r.intake.Enqueue(context.Background(), "cal", []string{p}); err != nil {
		tb.Fatal(err)
	}
}

// invite subscribes wilma with addrs (if any), puts an invite (n1) in
// her collection and pings.
func (r *rig) invite(t *testing.T, addrs ...string) {
	t.Helper()
	if len(addrs) > 0 {
		r.subscribe(t, principal, addrs...)
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
}

// failWith makes the email channel's sends fail as fail says (nil: never).
func (r *rig) failWith(fail func(ctx context.Context, req *delivery.Request, attempt int) error) {
	r.email.mu.Lock()
	defer r.email.mu.Unlock()
	r.email.fail = fail
}

// endKinds are the events of a job's end (for now or for good).
var endKinds = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed,
	river.EventKindJobCancelled, river.EventKindJobSnoozed}

// jobEnds subscribes, until the test ends, to the ends of jobs: subscribe
// before what queues the jobs to wait for.
func (r *rig) jobEnds(t *testing.T) <-chan *river.Event {
	events, cancel := r.eng.SubscribeForTest(endKinds...)
	t.Cleanup(cancel)
	return events
}

// nextEnd waits for the next end of a job of kind and fails the test
// unless it ended as want. The failsafe, a minute, is never reached
// unless the job is lost.
func nextEnd(t *testing.T, events <-chan *river.Event, kind string, want river.EventKind) *rivertype.JobRow {
	t.Helper()
	failsafe := time.After(time.Minute)
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind != kind {
				continue
			}
			if ev.Kind != want {
				t.Fatalf("%s job %d ended %s (%v), want %s", kind, ev.Job.ID, ev.Kind, ev.Job.Errors, want)
			}
			return ev.Job
		case <-failsafe:
			t.Fatalf("no %s job ended within a minute", kind)
		}
	}
}

// waitUntil waits until cond holds, checking it again whenever a job
// ends: what the engine does, a job does before it ends. (Events a full
// subscription drops are made up for by those still buffered.)
func (r *rig) waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	// Subscribed before the first check, so that a job ending between a
	// check and the wait still wakes it.
	events, cancel := r.eng.SubscribeForTest(endKinds...)
	defer cancel()
	failsafe := time.After(time.Minute)
	for !cond() {
		select {
		case <-events:
		case <-failsafe:
			tb.Fatalf("still not %s after a minute", what)
		}
	}
}

// settle waits until no job is unfinished (but the periodic sweep, which
// always comes back) and returns the delivery log.
func (r *rig) settle(tb testing.TB) []store.DeliveryListItem {
	tb.Helper()
	r.waitUntil(tb, "settled", func() bool {
		for _, j := range r.jobs(tb, "", rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled) {
			// Not the sweep, nor an orphan Start cancelled (River
			// finalises it later).
			if j.Kind != sweepKind && !bytes.Contains(j.Metadata, []byte(`"cancel_attempted_at"`)) {
				return false
			}
		}
		return true
	})
	return r.deliveryLog(tb)
}

// deliveryLog returns the rig's delivery log.
func (r *rig) deliveryLog(tb testing.TB) []store.DeliveryListItem {
	tb.Helper()
	items, err := r.db.Deliveries(context.Background(), store.DeliveryFilter{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	return items
}

// jobs lists the jobs of kind ("": all) in states (any if none).
func (r *rig) jobs(tb testing.TB, kind string, states ...rivertype.JobState) []*rivertype.JobRow {
	tb.Helper()
	jobs, err := r.eng.JobsForTest(context.Background(), kind, states...)
	if err != nil {
		tb.Fatal(err)
	}
	return jobs
}

func byAddress(log []store.DeliveryListItem) map[string]store.DeliveryListItem {
	out := map[string]store.DeliveryListItem{}
	for _, d := range log {
		out[d.Address] = d
	}
	return out
}
