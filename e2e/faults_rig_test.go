package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The fault scenarios (faults_*_test.go) each build a faultRig: Cyrus
// with an owner and users, whose calendars the owner shares so that Cyrus
// itself makes the notifications; the peers the scenario delivers
// through; and notifyd configured for them. The rig records what Cyrus
// produced and reconciles it with what the peers received
// (faults_reconcile_test.go).

// faultSystem is the calendar system the rigs configure.
const faultSystem = "cal"

// faultOwner is the Cyrus user whose calendars are shared.
const faultOwner = "owner"

// noticeKey names one notification Cyrus made: the invite of user to a
// calendar of faultOwner (each calendar is shared with each user once).
type noticeKey struct{ user, calendar string }

// method is one delivery method of a user's subscription.
type method struct{ channel, address string }

// rigOptions describe a scenario's rig.
type rigOptions struct {
	// tag names the scenario's calendars, "<tag>-cal<N>".
	tag string
	// users is how many Cyrus users (principals) there are.
	users int
	// policy is the system's after_delivery policy (default keep).
	policy string
	// channels is the YAML under "channels:" (indented by 2).
	channels string
	// caldav, if not nil, returns the CalDAV URL notifyd is given in place
	// of Cyrus's (a proxy in front of it).
	caldav func(cyrusURL string) string
	// methods are user i's delivery methods.
	methods func(user string, i int) []method
	// presence is the IM methods' presence policy ("" for the default).
	presence string
	// prepare, if not nil, is called with notifyd's instance before its
	// first start (its data directory is in.dir/data).
	prepare func(in *instance)
}

// faultRig is one scenario's world.
type faultRig struct {
	t       *testing.T
	o       rigOptions
	cy      *peertest.Cyrus
	nd      *instance
	users   []string
	methods map[string][]method
	calRE   *regexp.Regexp

	rngMu sync.Mutex
	rng   *rand.Rand

	mu        sync.Mutex
	receivers []receiver
	produced  map[noticeKey]string // the notification's href in Cyrus
	aside     map[noticeKey]bool   // produced, but not to be delivered
	calendars int
	kills     int
}

// newFaultRig starts Cyrus with the owner and o.users users.
func newFaultRig(t *testing.T, o rigOptions) *faultRig {
	t.Helper()
	users := make([]string, o.users)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i+1)
	}
	r := &faultRig{t: t, o: o, users: users, methods: map[string][]method{},
		produced: map[noticeKey]string{}, aside: map[noticeKey]bool{}, rng: faultRand(t),
		calRE: regexp.MustCompile(`\b` + regexp.QuoteMeta(o.tag) + `-cal\d+\b`)}
	r.cy = peertest.StartCyrus(t, append([]string{faultOwner}, users...)...)
	for i, u := range users {
		r.methods[u] = o.methods(u, i)
	}
	return r
}

// faultRand is the scenario's random source: seeded from
// NOTIFYD_FAULT_SEED when set (to replay a run), else at random; the seed
// is logged.
func faultRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NOTIFYD_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NOTIFYD_FAULT_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("random seed %d (NOTIFYD_FAULT_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed>>1))
}

// start configures and starts notifyd, and subscribes every user.
func (r *faultRig) start(receivers ...receiver) {
	r.t.Helper()
	r.receivers = receivers
	url := r.cy.BaseURL
	if r.o.caldav != nil {
		url = r.o.caldav(url)
	}
	policy := r.o.policy
	if policy == "" {
		policy = "keep"
	}
	r.nd = newInstanceWith(r.t, fmt.Sprintf(`systems:
  %s:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    principal_prefix: /dav/principals/
    after_delivery: %s
    timeout: 5s
channels:
%s
jobs:
  sync_workers: 4
  delivery_workers: %d
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 2s
  max_attempts: 100
`, faultSystem, url, pingToken, policy, r.o.channels, faultDeliveryWorkers))
	if r.o.prepare != nil {
		r.o.prepare(r.nd)
	}
	r.nd.start()
	if dir := os.Getenv("NOTIFYD_FAULT_LOGDIR"); dir != "" {
		// notifyd's whole log, kept for a look after the run.
		r.t.Cleanup(func() {
			path := filepath.Join(dir, "notifyd-"+r.o.tag+".log")
			if err := os.WriteFile(path, []byte(r.nd.log.String()), 0o644); err != nil {
				r.t.Errorf("keeping notifyd's log: %v", err)
			}
		})
	}
	for _, u := range r.users {
		var ms []map[string]any
		for _, m := range r.methods[u] {
			jm := map[string]any{"channel": m.channel, "address": m.address}
			if m.channel == "im" && r.o.presence != "" {
				jm["presence"] = r.o.presence
			}
			ms = append(ms, jm)
		}
		code, body := r.nd.api(r.t, http.MethodPost, "/v1/subscriptions", map[string]any{
			"system": faultSystem, "principal": r.cy.PrincipalHref(u), "time_zone": "Europe/Paris", "methods": ms})
		if code != http.StatusCreated {
			r.t.Fatalf("subscribe %s: %d %v", u, code, body)
		}
	}
}

// faultDeliveryWorkers is jobs.delivery_workers in the rigs: the most
// messages of one channel in flight at once, so the most a SIGKILL can
// make notifyd send twice.
const faultDeliveryWorkers = 8

// wave produces one notification per user in users, then pings notifyd
// for them (retrying until it answers 202, as a calendar server does while
// notifyd restarts).
func (r *faultRig) wave(t testing.TB, users []string) {
	r.produce(t, users)
	r.ping(t, users)
}

// produce makes Cyrus produce one notification per user in users (the
// owner shares a new calendar with them) and records what Cyrus made,
// without pinging notifyd. It returns the calendar's name.
func (r *faultRig) produce(t testing.TB, users []string) string {
	r.mu.Lock()
	r.calendars++
	cal := fmt.Sprintf("%s-cal%02d", r.o.tag, r.calendars)
	r.mu.Unlock()
	mkcalendar(t, r.cy, faultOwner, cal)
	shareWithAll(t, r.cy, faultOwner, cal, users)
	r.capture(t, users)
	for _, u := range users {
		r.mu.Lock()
		_, ok := r.produced[noticeKey{u, cal}]
		r.mu.Unlock()
		if !ok {
			t.Fatalf("Cyrus made no notification for %s about %s", u, cal)
		}
	}
	return cal
}

// capture lists users' notification collections and records the
// notifications not seen before, with the calendar each is about.
func (r *faultRig) capture(t testing.TB, users []string) {
	known := map[string]bool{}
	r.mu.Lock()
	for _, href := range r.produced {
		known[href] = true
	}
	r.mu.Unlock()
	hostURL := regexp.MustCompile(`hosturl>\s*<[^>]*href[^>]*>[^<]*/` + regexp.QuoteMeta(faultOwner) + `/([^/<]+)/?<`)
	parallel(users, 4, func(u string) {
		for _, href := range r.cy.ListNotifications(t, u) {
			if known[href] {
				continue
			}
			code, _, body := r.cy.Request(t, peertest.CyrusNotifier, http.MethodGet, href, "", "")
			if code != http.StatusOK {
				t.Errorf("GET %s: %d %s", href, code, body)
				continue
			}
			m := hostURL.FindSubmatch(body)
			if m == nil {
				t.Errorf("%s is not an invite to a calendar of %s:\n%s", href, faultOwner, body)
				continue
			}
			r.mu.Lock()
			r.produced[noticeKey{u, string(m[1])}] = href
			r.mu.Unlock()
		}
	})
}

// setAside marks the notification of k as one notifyd must not deliver
// (a poison one), and returns its href: a message for it is unexpected.
func (r *faultRig) setAside(k noticeKey) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aside[k] = true
	return r.produced[k]
}

// parallel runs fn for each item, n at a time.
func parallel[T any](items []T, n int, fn func(T)) {
	work := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				fn(it)
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
}

// ping tells notifyd that users have new notifications, retrying until it
// answers 202 (for at most a minute).
func (r *faultRig) ping(t testing.TB, users []string) {
	hrefs := make([]string, len(users))
	for i, u := range users {
		hrefs[i] = r.cy.PrincipalHref(u)
	}
	body, _ := json.Marshal(map[string]any{"system": faultSystem, "token": pingToken, "hrefs": hrefs})
	client := &http.Client{Timeout: 10 * time.Second}
	var status int
	var err error
	// Sent again until notifyd takes it (it may be down or out of disk),
	// as a calendar server does.
	if !peertest.Poll(2*time.Minute, 100*time.Millisecond, func() bool {
		var resp *http.Response
		if resp, err = client.Post(r.nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body)); err != nil {
			return false
		}
		resp.Body.Close()
		status = resp.StatusCode
		return status == http.StatusAccepted
	}) {
		t.Errorf("ping of %d principals not accepted within 2 minutes: last status %d, error %v", len(users), status, err)
	}
}

// kill SIGKILLs notifyd and starts it again on the same data.
func (r *faultRig) kill() {
	r.t.Helper()
	r.nd.kill()
	r.mu.Lock()
	r.kills++
	r.mu.Unlock()
	r.nd.start()
}

// idle reports whether notifyd has nothing to do now or later
// (queueIdle).
func (r *faultRig) idle(t testing.TB) bool { return queueIdle(t, r.nd.baseURL) }

// backlog scrapes notifyd's work outstanding, by kind, for messages.
func (r *faultRig) backlog(t testing.TB) map[string]float64 {
	m, err := scrape(r.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, work := range backlogKinds {
		out[work] = m[`notifyd_backlog{work="`+work+`"}`]
	}
	return out
}

// logEntry is what awaitRetried reads of a line of notifyd's log.
type logEntry struct{ Msg, Principal, Notification, Delivery string }

// awaitRetried waits until notifyd's log, from since (a logMark), shows
// one request tried n times and failed each time with an error containing
// every one of parts (a peer being down): notifyd has retried it through
// its backoff. key names the request a line is about (a delivery, the
// sync of a principal, …), or returns "" for a line to pass over. It
// returns how many requests failed so.
func (r *faultRig) awaitRetried(t testing.TB, since, n int, parts []string, key func(logEntry) string) int {
	t.Helper()
	failed := map[string]int{}
	r.nd.awaitLog(t, 3*time.Minute, since, fmt.Sprintf("request failing %d times with %q", n, parts), func(line string) bool {
		var e logEntry
		if !containsAll(line, parts) || json.Unmarshal([]byte(line), &e) != nil {
			return false
		}
		k := key(e)
		if k == "" {
			return false
		}
		failed[k]++
		return failed[k] >= n
	})
	return len(failed)
}

// logLines counts the lines of notifyd's log that contain every one of
// parts.
func (r *faultRig) logLines(parts ...string) int {
	n := 0
	for _, line := range strings.Split(r.nd.log.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// random returns a number in [0, 1) from the scenario's random source
// (safe for concurrent use).
func (r *faultRig) random() float64 {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return r.rng.Float64()
}

// sleep waits a random time between lo and hi. It is no wait for
// something to happen: it spaces a scenario's waves and faults at random
// (replayable from the logged seed), and no assertion depends on how
// long it lasts.
func (r *faultRig) sleep(lo, hi time.Duration) {
	time.Sleep(lo + time.Duration(r.random()*float64(hi-lo)))
}

// sinkCA writes the SMTP sink's certificate to a file notifyd can trust.
func sinkCA(t testing.TB, sink *peertest.SMTP) string {
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca
}

// smtpChannel is the channels YAML for the SMTP sink.
func smtpChannel(t testing.TB, sink *peertest.SMTP) string {
	return fmt.Sprintf(`  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s`, sink.Host, sink.Port, sinkCA(t, sink))
}

// emailTo is user's email method.
func emailTo(user string, _ int) []method {
	return []method{{"email", user + "@example.org"}}
}
