package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// cluster is several notifyd replicas on one PostgreSQL database, with
// Cyrus and an SMTP sink.
type cluster struct {
	pg       *peertest.Postgres
	cyrus    *peertest.Cyrus
	smtp     *peertest.SMTP
	replicas []*instance
	users    []string
	// calendars counts the calendars the owner made, to share.
	calendars int
}

func newCluster(t *testing.T, replicas, users int) *cluster {
	t.Helper()
	c := &cluster{pg: peertest.StartPostgres(t)}
	for i := 1; i <= users; i++ {
		c.users = append(c.users, fmt.Sprintf("r%03d", i))
	}
	c.cyrus = peertest.StartCyrus(t, append([]string{"owner"}, c.users...)...)
	c.smtp = peertest.StartSMTP(t)
	dbURL := c.pg.Database(t)
	for i := 0; i < replicas; i++ {
		nd := newInstanceWith(t, cyrusEmailConfig(t, c.cyrus, c.smtp, `  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
  timeout: 5s
  rescue_after: 8s
`))
		nd.env = []string{"NOTIFYD_DATABASE_URL=" + dbURL}
		c.replicas = append(c.replicas, nd)
	}
	// Started together: they race to migrate, and the lock lets one do it.
	done := make(chan struct{})
	for _, nd := range c.replicas {
		go func() { defer func() { done <- struct{}{} }(); nd.start() }()
	}
	for range c.replicas {
		<-done
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, u := range c.users {
		code, body := c.replicas[0].api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
			"system": "cyrus", "principal": c.cyrus.PrincipalHref(u),
			"methods": []map[string]any{{"channel": "email", "address": u + "@example.org"}}})
		if code != http.StatusCreated {
			t.Fatalf("subscribe %s: %d %v", u, code, body)
		}
	}
	return c
}

// share makes n new calendars shared with every user: n new notifications
// for each.
func (c *cluster) share(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c.calendars++
		name := fmt.Sprintf("cal%d", c.calendars)
		mkcalendar(t, c.cyrus, "owner", name)
		shareWithAll(t, c.cyrus, "owner", name, c.users)
	}
}

// pingSpread pings every user through two different live replicas (the
// same principal through different replicas), a few users per ping. A ping
// answered 503 (the database away) is sent again, as a calendar server
// does; it reports how many 503s it saw, and calls onUnavailable (if not
// nil) at each.
func (c *cluster) pingSpread(t *testing.T, live []*instance, onUnavailable func()) (unavailable int) {
	t.Helper()
	const perPing = 10
	for round := 0; round < 2; round++ {
		for i := 0; i < len(c.users); i += perPing {
			nd := live[(i/perPing+round)%len(live)]
			var hrefs []string
			for _, u := range c.users[i:min(i+perPing, len(c.users))] {
				hrefs = append(hrefs, c.cyrus.PrincipalHref(u))
			}
			body, _ := json.Marshal(map[string]any{"system": "cyrus", "token": pingToken, "hrefs": hrefs})
			var resp *http.Response
			// Sent again until the database is back (peertest.Poll: its
			// return is another process's doing).
			accepted := peertest.Poll(2*time.Minute, 500*time.Millisecond, func() bool {
				var err error
				if resp, err = http.Post(nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body)); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
					return true // accepted, or refused in a way no retry mends
				}
				unavailable++
				if onUnavailable != nil {
					onUnavailable()
				}
				return false
			})
			if !accepted || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("ping through %s: %d (Retry-After %q), want 202, or 503 with Retry-After while the database is away",
					nd.baseURL, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
	}
	return unavailable
}

// mail counts the messages the sink holds per recipient and per
// Message-ID (a message sent twice has the same Message-ID).
func (c *cluster) mail(t *testing.T) (perUser map[string]int, dupes int) {
	t.Helper()
	return countMail(c.smtp.Messages(t))
}

// countMail counts msgs per recipient and the repeats of a Message-ID.
func countMail(msgs []peertest.ReceivedMessage) (perUser map[string]int, dupes int) {
	perUser = map[string]int{}
	seen := map[string]bool{}
	for _, m := range msgs {
		id := m.Header.Get("Message-Id")
		if seen[id] {
			dupes++
			continue
		}
		seen[id] = true
		for _, r := range m.RcptTo {
			perUser[strings.TrimSuffix(r, "@example.org")]++
		}
	}
	return perUser, dupes
}

// waitMail waits until every user has want distinct messages, looking
// each time a message lands in the sink.
func (c *cluster) waitMail(t *testing.T, want int, timeout time.Duration) (dupes int) {
	t.Helper()
	var perUser map[string]int
	c.smtp.Await(t, timeout, fmt.Sprintf("%d distinct messages for each of %d users", want, len(c.users)), func(msgs []peertest.ReceivedMessage) bool {
		perUser, dupes = countMail(msgs)
		for _, u := range c.users {
			if perUser[u] < want {
				return false
			}
		}
		return true
	})
	for _, u := range c.users {
		if perUser[u] != want {
			t.Fatalf("%s got %d distinct messages, want exactly %d", u, perUser[u], want)
		}
	}
	return dupes
}

// settle waits until the delivery log, which every replica shares, holds
// no delivery still to be sent (queued or retrying), and returns the
// messages sent twice. Every message having arrived does not mean nothing
// more will be sent: the jobs a killed replica left running are rescued
// (after rescue_after, at the rescuer's next pass) and run again after a
// random retry delay, in any order. One whose message the killed replica
// had sent but not recorded (its delivery still queued) sends it again,
// possibly after the rescued jobs that sent the missing messages. Once
// settled, nothing is left to send: no duplicate of this round can
// surface during the next one and be counted there.
func (c *cluster) settle(t *testing.T, nd *instance, timeout time.Duration) (dupes int) {
	t.Helper()
	// The replicas are other processes, read through their API (waitUntil).
	waitUntil(t, timeout, func() bool {
		pending := 0
		for _, status := range []string{"queued", "retrying"} {
			code, body := nd.api(t, http.MethodGet, "/v1/deliveries?limit=1&status="+status, nil)
			items, ok := body["items"].([]any)
			if code != http.StatusOK || !ok {
				t.Fatalf("GET /v1/deliveries?status=%s: %d %v", status, code, body)
			}
			pending += len(items)
		}
		return pending == 0
	}, func() string { return "deliveries still queued or retrying" })
	_, dupes = c.mail(t)
	return dupes
}

// TestReplicasOnPostgres runs three replicas on one PostgreSQL database:
// every notification is delivered exactly once while pings for the same
// principals arrive through different replicas, when one replica is
// killed mid-run (only its in-flight deliveries may repeat, and are
// counted), and across a restart of PostgreSQL.
func TestReplicasOnPostgres(t *testing.T) {
	c := newCluster(t, 3, 100)
	want := 0

	// Three replicas, every principal pinged through two of them.
	c.share(t, 2)
	want += 2
	c.pingSpread(t, c.replicas, nil)
	c.waitMail(t, want, 2*time.Minute)
	if dupes := c.settle(t, c.replicas[0], time.Minute); dupes != 0 {
		t.Fatalf("%d messages sent twice with all replicas up, want 0", dupes)
	}
	t.Logf("three replicas: %d notifications delivered exactly once", want*len(c.users))

	// One replica killed mid-run and not restarted.
	c.share(t, 2)
	want += 2
	c.pingSpread(t, c.replicas, nil)
	victim := c.replicas[2]
	sentBefore := metric(t, victim, `notifyd_deliveries_total{channel="email",status="sent"}`)
	// Killed once it has sent 5 messages of this round (or after a
	// minute, mid-run all the same): its metrics are polled closely, so
	// that it dies with deliveries in flight.
	peertest.Poll(time.Minute, 5*time.Millisecond, func() bool {
		return metric(t, victim, `notifyd_deliveries_total{channel="email",status="sent"}`) >= sentBefore+5
	})
	inRound := metric(t, victim, `notifyd_deliveries_total{channel="email",status="sent"}`) - sentBefore
	victim.kill()
	t.Logf("killed replica 2 after it sent %v messages in this round", inRound)
	early := c.waitMail(t, want, 3*time.Minute)
	// The jobs the killed replica left running are rescued, and those it
	// had sent without recording send again: counted here, in the round
	// they belong to.
	dupes := c.settle(t, c.replicas[0], 2*time.Minute)
	// Only deliveries the killed replica had in flight can repeat: at most
	// its delivery workers (16 by default).
	if dupes > 16 {
		t.Fatalf("%d messages sent twice after the kill, more than the killed replica's 16 delivery workers had in flight", dupes)
	}
	t.Logf("one replica killed: everything delivered; %d messages sent twice (deliveries in flight at the kill), %d of them once every message had arrived",
		dupes, dupes-early)

	// PostgreSQL restarted mid-run: pings meanwhile get 503 and are sent
	// again; nothing is lost.
	live := c.replicas[:2]
	c.share(t, 1)
	want++
	c.pg.Stop(t)
	resp, err := http.Get(live[0].baseURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down: %s, want 503", resp.Status)
	}
	// PostgreSQL comes back once a ping has been refused for its absence.
	refused, restarted := make(chan struct{}), make(chan struct{})
	var once sync.Once
	go func() {
		<-refused
		c.pg.Start(t)
		close(restarted)
	}()
	unavailable := c.pingSpread(t, live, func() { once.Do(func() { close(refused) }) })
	once.Do(func() { close(refused) }) // no ping refused: the check below says so
	<-restarted
	if unavailable == 0 {
		t.Errorf("no ping was answered 503 while PostgreSQL was down")
	}
	c.waitMail(t, want, 3*time.Minute)
	dupesAfter := c.settle(t, live[0], 2*time.Minute)
	if dupesAfter != dupes {
		t.Fatalf("%d more messages sent twice across the PostgreSQL restart, want 0", dupesAfter-dupes)
	}
	t.Logf("PostgreSQL restarted: %d pings answered 503 and sent again; every notification delivered exactly once", unavailable)
}
