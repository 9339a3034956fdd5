package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

const principal = "/dav/principals/user/wilma/"

// inviteXML is a sharing invite as Cyrus serves it, from fred.
func inviteXML(uid string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T052657Z</CS:dtstamp><CS:invite-notification>
<CS:uid>` + uid + `</CS:uid><D:href xmlns:D="DAV:">/dav/principals/user/wilma/</D:href><CS:invite-noresponse/>
<CS:access><CS:read-write/></CS:access><CS:hosturl><D:href xmlns:D="DAV:">/dav/calendars/user/fred/Default/</D:href></CS:hosturl>
<CS:organizer><D:href xmlns:D="DAV:">/dav/principals/user/fred/</D:href><CS:common-name>Fred</CS:common-name></CS:organizer>
</CS:invite-notification></CS:notification>`)
}

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
	onDelete   func(href string) // called before each DELETE, if set
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
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.resources["/dav/notifications/user/wilma/"+name] = fakeResource{body: body, etag: fmt.Sprintf(`"e%d"`, f.version), version: f.version}
}

func (f *fakeDAV) count(m string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[m]
}

func (f *fakeDAV) hit(m string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[m]++
	return f.down
}

func (f *fakeDAV) NotificationURL(ctx context.Context, p string) (string, error) {
	if err := f.hit("PROPFIND"); err != nil {
		return "", err
	}
	if p != principal {
		return "", caldavclient.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.collection, nil
}
func (f *fakeDAV) ForgetNotificationURL(string) {}
func (f *fakeDAV) Sync(ctx context.Context, coll, token string) (*caldavclient.SyncResult, error) {
	if err := f.hit("REPORT"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
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
	return res, nil
}
func (f *fakeDAV) Get(ctx context.Context, href string) ([]byte, string, error) {
	if err := f.hit("GET"); err != nil {
		return nil, "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.resources[href]
	if !ok {
		return nil, "", caldavclient.ErrNotFound
	}
	return r.body, r.etag, nil
}
func (f *fakeDAV) Delete(ctx context.Context, href, etag string) error {
	if err := f.hit("DELETE"); err != nil {
		return err
	}
	if f.onDelete != nil {
		f.onDelete(href)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.resources[href]; ok && r.etag != etag {
		return caldavclient.ErrPreconditionFailed
	}
	delete(f.resources, href)
	f.deleted = append(f.deleted, href)
	return nil
}
func (f *fakeDAV) Put(context.Context, string, string, []byte, string) error {
	f.hit("PUT")
	return caldavclient.ErrNotSupported
}
func (f *fakeDAV) CalendarName(ctx context.Context, p, href string) (string, error) {
	if err := f.hit("PROPFIND"); err != nil {
		return "", err
	}
	return "Fred's calendar", nil
}

// fakeChannel records what it sends; fail decides an outcome per address.
type fakeChannel struct {
	mu   sync.Mutex
	sent []*delivery.Request
	fail func(req *delivery.Request, attempt int) error
	seen map[string]int
}

func (c *fakeChannel) Send(ctx context.Context, req *delivery.Request) (delivery.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	c.seen[req.DeliveryID]++
	if c.fail != nil {
		if err := c.fail(req, c.seen[req.DeliveryID]); err != nil {
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

type rig struct {
	db     *store.DB
	dav    *fakeDAV
	email  *fakeChannel
	subs   *subscriptions.Service
	intake *engine.Intake
	eng    *engine.Engine
	ctx    context.Context // cancelled when the test ends
}

func newRig(t *testing.T, policy string) *rig { return newRigWith(t, policy, 0) }

func newRigWith(t *testing.T, policy string, sweep time.Duration) *rig {
	return newRigOpts(t, policy, func(o *engine.Options) { o.SweepInterval = sweep })
}

func newRigOpts(t *testing.T, policy string, adjust func(*engine.Options)) *rig {
	t.Helper()
	r := newRigUnstarted(t, policy, adjust)
	r.start(t)
	return r
}

// newRigUnstarted builds a rig on a database with the store migrated, but
// neither the job queue's migrations applied nor the workers started.
func newRigUnstarted(t *testing.T, policy string, adjust func(*engine.Options)) *rig {
	t.Helper()
	return newRigOn(t, testdb.Open(t), policy, adjust)
}

// newRigOn is newRigUnstarted on db.
func newRigOn(t *testing.T, db *store.DB, policy string, adjust func(*engine.Options)) *rig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{db: db, dav: newFakeDAV(), email: &fakeChannel{}, ctx: ctx}
	r.subs = subscriptions.NewService(db, func(s string) bool { return s == "cal" })
	opts := engine.Options{
		DB: db, Logger: log, Subscriptions: r.subs,
		Systems:      []engine.System{{Name: "cal", CalDAV: r.dav, AfterDelivery: policy}},
		Channels:     map[notifyd.Channel]delivery.Channel{notifyd.ChannelEmail: r.email},
		PollInterval: 10 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxAttempts: 5,
	}
	adjust(&opts)
	e, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r.eng = e
	r.intake = engine.NewIntake(db, e.Queue())
	t.Cleanup(func() {
		r.intake.Close()
		stop, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		e.Stop(stop)
		cancel()
		db.Close()
	})
	return r
}

// start applies the job queue's migrations and starts the workers.
func (r *rig) start(t *testing.T) {
	t.Helper()
	if _, err := r.eng.Queue().Migrate(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) subscribe(t *testing.T, p string, addrs ...string) {
	t.Helper()
	in := subscriptions.Input{System: "cal", Principal: p}
	for _, a := range addrs {
		in.Methods = append(in.Methods, subscriptions.MethodInput{Channel: notifyd.ChannelEmail, Address: a})
	}
	if _, err := r.subs.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) ping(t *testing.T, p string) {
	t.Helper()
	if _, err := r.intake.Enqueue(context.Background(), "cal", []string{p}); err != nil {
		t.Fatal(err)
	}
}

// settle waits until no job is unfinished (but the periodic sweep, which
// always comes back) and returns the delivery log.
func (r *rig) settle(t *testing.T) []store.DeliveryListItem {
	t.Helper()
	// Subscribed before counting, so that a job ending between the count
	// and the wait still wakes it.
	events, cancel := r.eng.SubscribeForTest(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer cancel()
	deadline := time.After(time.Minute)
	for {
		n, err := r.eng.UnfinishedJobsForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-events:
		case <-deadline:
			t.Fatalf("%d jobs still unfinished after a minute", n)
		}
	}
	items, err := r.db.Deliveries(context.Background(), store.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestSyncDeliversOnceAndDeletesWhenDone(t *testing.T) {
	r := newRig(t, engine.PolicyDelete)
	r.subscribe(t, principal, "wilma@example.org", "wilma@work.example")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	log := r.settle(t)

	if got := r.email.sentTo(); strings.Join(got, ",") != "wilma@example.org,wilma@work.example" {
		t.Fatalf("sent to %v, want each subscribed address once", got)
	}
	for _, d := range log {
		if d.Status != store.DeliverySent || d.Attempts != 1 || d.NotificationType != string(notifyd.TypeShareInvite) {
			t.Errorf("delivery %+v, want sent in one attempt", d)
		}
	}
	req := r.email.sent[0]
	if req.Notification.From.CommonName != "Fred" || req.CalendarName != "Fred's calendar" || req.TimeZone == nil {
		t.Errorf("request lacks what a readable message needs: %+v / %+v", req, req.Notification)
	}
	if len(r.dav.deleted) != 1 {
		t.Fatalf("deleted %v, want the delivered notification deleted once", r.dav.deleted)
	}
	// Requests: one discovery, one REPORT, one GET, one DELETE, one
	// PROPFIND for the calendar's name.
	if r.dav.count("REPORT") != 1 || r.dav.count("GET") != 1 || r.dav.count("DELETE") != 1 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("CalDAV requests %v", r.dav.requests)
	}

	// A second ping with nothing new sends nothing and makes no GET.
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 2 {
		t.Fatalf("after an idle ping %d messages, want still 2", n)
	}
	if r.dav.count("GET") != 1 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("idle ping made requests %v (discovery must be cached)", r.dav.requests)
	}
}

func TestTenPingsAtOnceSendOneMessage(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.ping(t, principal) }()
	}
	wg.Wait()
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("10 pings sent %d messages, want 1", len(got))
	}
	if len(r.dav.deleted) != 0 {
		t.Fatalf("policy keep deleted %v", r.dav.deleted)
	}
}

func TestPrincipalWithoutSubscriptionAdvancesTokenAndFetchesNothing(t *testing.T) {
	r := newRig(t, engine.PolicyDelete)
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	st, err := r.db.Principal(context.Background(), "cal", principal)
	if err != nil {
		t.Fatal(err)
	}
	if st.SyncToken != "v1" || st.SyncedGen != st.DirtyGen {
		t.Fatalf("state %+v: want token advanced and the principal clean", st)
	}
	if r.dav.count("GET") != 0 || len(r.dav.deleted) != 0 || len(r.email.sentTo()) != 0 {
		t.Fatalf("no subscription, yet requests %v deleted %v sent %v", r.dav.requests, r.dav.deleted, r.email.sentTo())
	}
}

func TestRejectedSyncTokenResyncsWithoutDuplicates(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	// The server forgets its tokens: the stored one is now refused.
	r.dav.mu.Lock()
	r.dav.badTokens["v1"] = true
	r.dav.mu.Unlock()
	r.dav.add("n2.xml", inviteXML("n2"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 2 {
		t.Fatalf("after a full resync %d messages, want 2 (n1 once, n2 once)", len(got))
	}
}

func TestCalDAVOutageIsRetriedUntilItIsBack(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.dav.mu.Lock()
	r.dav.down = &caldavclient.HTTPError{Method: "PROPFIND", Status: 503}
	r.dav.mu.Unlock()
	r.ping(t, principal)
	time.Sleep(150 * time.Millisecond)
	if len(r.email.sentTo()) != 0 {
		t.Fatal("sent while the server was down")
	}
	r.dav.mu.Lock()
	r.dav.down = nil
	r.dav.mu.Unlock()
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("after the outage %d messages, want 1", len(got))
	}
}

func TestTemporaryFailureIsRetriedPermanentIsRecorded(t *testing.T) {
	r := newRig(t, engine.PolicyDelete)
	r.subscribe(t, principal, "flaky@example.org", "gone@example.org")
	r.email.fail = func(req *delivery.Request, attempt int) error {
		switch {
		case req.Address == "flaky@example.org" && attempt < 3:
			return delivery.Temporary(errors.New("451 4.3.0 try again later"), 0)
		case req.Address == "gone@example.org":
			return errors.New("550 5.1.1 no such mailbox")
		}
		return nil
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	log := r.settle(t)
	byAddr := map[string]store.DeliveryListItem{}
	for _, d := range log {
		byAddr[d.Address] = d
	}
	if d := byAddr["flaky@example.org"]; d.Status != store.DeliverySent || d.Attempts != 3 {
		t.Errorf("flaky: %+v, want sent at the third attempt", d)
	}
	if d := byAddr["gone@example.org"]; d.Status != store.DeliveryFailed || !strings.Contains(d.LastError, "550 5.1.1") {
		t.Errorf("gone: %+v, want failed with the server's reply", d)
	}
	// Both final: the policy applies even though one failed.
	if len(r.dav.deleted) != 1 {
		t.Errorf("deleted %v, want the notification deleted once both deliveries are final", r.dav.deleted)
	}
}

func TestPoisonNotificationDoesNotBlockTheOthers(t *testing.T) {
	r := newRig(t, engine.PolicyDelete)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("bad.xml", []byte("this is not XML <<<"))
	r.dav.add("good.xml", inviteXML("good"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v, want the good notification delivered", got)
	}
	var status, reason string
	testdb.QueryRow(r.db, `SELECT status, error FROM notifications WHERE href LIKE '%bad.xml'`).Scan(&status, &reason)
	if status != store.NotificationDead || reason == "" {
		t.Fatalf("poison notification: status %q reason %q, want dead with a reason", status, reason)
	}
	if len(r.dav.deleted) != 1 || !strings.HasSuffix(r.dav.deleted[0], "good.xml") {
		t.Fatalf("deleted %v: the poison one must stay on the server", r.dav.deleted)
	}
}

func TestUnknownPrincipalIsRecordedNotRetried(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, "/dav/principals/user/nobody/", "x@example.org")
	r.ping(t, "/dav/principals/user/nobody/")
	r.settle(t)
	st, _ := r.db.Principal(context.Background(), "cal", "/dav/principals/user/nobody/")
	if !st.Gone || st.LastError == "" || st.SyncedGen != st.DirtyGen {
		t.Fatalf("state %+v, want gone with the reason and settled", st)
	}
	if n := r.dav.count("PROPFIND"); n != 1 {
		t.Fatalf("%d discovery requests, want 1 (no retries)", n)
	}
}

func TestDisabledMethodIsSkipped(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	subs, _ := r.subs.ForPrincipal(context.Background(), "cal", principal)
	if _, err := r.subs.DisableMethod(context.Background(), subs[0].ID, subs[0].Methods[0].ID); err != nil {
		t.Fatal(err)
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	if len(r.email.sentTo()) != 0 {
		t.Fatal("sent to a disabled method")
	}
}

// A process that stops between recording a notification's last delivery
// and deleting it leaves it settled but unfinished: the sweep finishes it.
func TestSweepFinishesWhatAnInterruptedRunLeft(t *testing.T) {
	r := newRigWith(t, engine.PolicyDelete, 100*time.Millisecond)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	if len(r.dav.deleted) != 1 {
		t.Fatalf("deleted %v, want n1 deleted right after its delivery", r.dav.deleted)
	}
	// As if the run had stopped before the DELETE.
	if _, err := testdb.Exec(r.db, `UPDATE notifications SET status = 'delivered', finish_queued = FALSE, settled_at = 1, finished_at = 0`); err != nil {
		t.Fatal(err)
	}
	// The sweep is a periodic job: it runs once this process is elected
	// leader, which River takes a few seconds to decide.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status string
		testdb.QueryRow(r.db, `SELECT status FROM notifications`).Scan(&status)
		r.dav.mu.Lock()
		n := len(r.dav.deleted)
		r.dav.mu.Unlock()
		if status == store.NotificationDone && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: status %q, deletes %d; want the sweep to apply the policy", status, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(r.email.sentTo()) != 1 {
		t.Fatalf("the sweep sent again: %v", r.email.sentTo())
	}
}

// A notification no method of the principal's subscriptions wants is not
// sent, and the delete policy leaves it in the collection: nobody was told.
func TestUnwantedTypeIsKeptNotDeleted(t *testing.T) {
	r := newRig(t, engine.PolicyDelete)
	in := subscriptions.Input{System: "cal", Principal: principal, Types: []notifyd.NotificationType{notifyd.TypeReminder},
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "wilma@example.org"}}}
	if _, err := r.subs.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	if len(r.email.sentTo()) != 0 || len(r.dav.deleted) != 0 {
		t.Fatalf("sent %v deleted %v: an unwanted invite must be neither sent nor deleted", r.email.sentTo(), r.dav.deleted)
	}
	var status, note string
	testdb.QueryRow(r.db, `SELECT status, error FROM notifications`).Scan(&status, &note)
	if status != store.NotificationDone || !strings.Contains(note, "kept") {
		t.Fatalf("notification %q %q, want done and kept", status, note)
	}
	// A second full sync does not reconsider it.
	r.dav.mu.Lock()
	r.dav.badTokens["v1"] = true
	r.dav.mu.Unlock()
	r.ping(t, principal)
	r.settle(t)
	if r.dav.count("GET") != 1 {
		t.Fatalf("%d GETs, want 1: a handled notification is not fetched again", r.dav.count("GET"))
	}
}

// A collection that moved (404 where it was) is discovered again, and
// what is in it is delivered.
func TestMovedCollectionIsRediscovered(t *testing.T) {
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.ping(t, principal)
	r.settle(t)
	r.dav.mu.Lock()
	r.dav.collection = "/dav/notifications/user/wilma-moved/"
	r.dav.mu.Unlock()
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v after the collection moved, want the invite delivered", got)
	}
	st, _ := r.db.Principal(context.Background(), "cal", principal)
	if st.CollectionURL != "/dav/notifications/user/wilma-moved/" {
		t.Fatalf("stored collection %q, want the new one", st.CollectionURL)
	}
}

// A delivery that keeps failing for now is given up once it is older than
// MaxAge, even with attempts left: a dead letter, not a late message.
func TestDeliveryOlderThanMaxAgeIsGivenUp(t *testing.T) {
	r := newRigOpts(t, engine.PolicyKeep, func(o *engine.Options) {
		o.MaxAge, o.MaxAttempts = 150*time.Millisecond, 1000
	})
	r.email.fail = func(*delivery.Request, int) error {
		return delivery.Temporary(errors.New("451 4.3.0 mailbox busy"), 0)
	}
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	log := r.settle(t)
	if len(log) != 1 || log[0].Status != store.DeliveryFailed || !strings.Contains(log[0].LastError, "max_age") {
		t.Fatalf("deliveries %+v, want one failed for its age", log)
	}
	if len(r.email.sentTo()) != 0 {
		t.Fatal("sent after all")
	}
	// Retried by an operator once the cause is fixed, the dead letter
	// counts its age from the retry, and goes.
	r.email.fail = nil
	time.Sleep(200 * time.Millisecond)
	if _, err := r.eng.RetryDelivery(context.Background(), log[0].ID); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("after the retry, sent %v, want the message once", got)
	}
}
