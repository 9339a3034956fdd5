package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/internal/peertest"
)

// BenchmarkCalDAVToEmail measures end-to-end delivery against the real
// peers: 200 principals with 5 sharing invites each in Cyrus, every one
// to be emailed through the SMTP sink and then deleted. The floor, a
// minimal client making the same requests directly at the same
// concurrency (a sync REPORT per principal; a GET, an SMTP message and a
// DELETE per notification), and notifyd take turns for benchRounds rounds,
// each on a fresh set of invites, so that a change in the machine's speed
// during the run weighs on both alike. It reports both rates over all
// rounds, their ratio, what each side and the peers spent in CPU, and
// notifyd's CalDAV requests per notification.
//
// It runs twice: with subscriptions that want the notification
// collection's types only ("invites"), the path the floor takes, and with
// subscriptions that want every type ("all"), where reminders make each
// ping sync the principal's calendars too (a listing of the calendar home,
// shared on Cyrus by the pings of a burst).
//
//	go test -run XXX -bench CalDAVToEmail -benchtime 1x ./e2e/
func BenchmarkCalDAVToEmail(b *testing.B) {
	b.Run("types=invites", func(b *testing.B) { benchCalDAVToEmail(b, []notifyd.NotificationType{notifyd.TypeShareInvite}) })
	b.Run("types=all", func(b *testing.B) { benchCalDAVToEmail(b, nil) })
}

func benchCalDAVToEmail(b *testing.B, types []notifyd.NotificationType) {
	const principals, perPrincipal, concurrency = 200, 5, 8
	const perRound = principals * perPrincipal
	users := make([]string, principals)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i+1)
	}
	cy := peertest.StartCyrus(b, append([]string{"owner"}, users...)...)
	sink := peertest.StartSMTP(b)
	calendars := 0
	// invite gives every user perPrincipal new invites in Cyrus.
	invite := func() {
		for i := 0; i < perPrincipal; i++ {
			calendars++
			name := fmt.Sprintf("cal%d", calendars)
			mkcalendar(b, cy, "owner", name)
			shareWithAll(b, cy, "owner", name, users)
		}
	}

	for i := 0; i < b.N; i++ {
		// notifyd, warmed up as in steady state: each principal pinged
		// once before (its notification collection found and cached, its
		// sync token stored), as the floor knows the collections. It is
		// stopped (SIGSTOP) while the floor runs.
		nd, stats := benchNotifyd(b, cy, sink, users, concurrency, types)
		pingAll(b, nd, cy, users)
		waitMetric(b, nd, `notifyd_syncs_total{outcome="ok",system="cyrus"}`, float64(principals), time.Minute)
		before := stats()
		signal := func(sig syscall.Signal) {
			if err := nd.cmd.Process.Signal(sig); err != nil {
				b.Fatal(err)
			}
		}

		var floorSide, ndSide benchSide
		for r := 0; r < benchRounds; r++ {
			signal(syscall.SIGSTOP)
			invite()
			m := startMeasure(0)
			if n := floor(b, cy, sink, users, concurrency); n != perRound {
				b.Fatalf("floor handled %d notifications, want %d", n, perRound)
			}
			floorSide.add(m.stop(perRound))
			signal(syscall.SIGCONT)

			invite()
			sent := watchSink(b, sink)
			m = startMeasure(nd.cmd.Process.Pid)
			pingAll(b, nd, cy, users)
			waitSent(b, nd, sent, perRound, (r+1)*perRound, 10*time.Minute)
			ndSide.add(m.stop(perRound))
			b.Logf("round %d: floor %.0f/s, notifyd %.0f/s, %.0f%% of the floor", r+1,
				floorSide.last.rate(), ndSide.last.rate(), ndSide.last.rate()/floorSide.last.rate()*100)
		}

		b.ReportMetric(floorSide.rate(), "floor-deliveries/s")
		b.ReportMetric(ndSide.rate(), "notifyd-deliveries/s")
		b.ReportMetric(ndSide.rate()/floorSide.rate()*100, "%-of-floor")
		b.ReportMetric(ndSide.perNotification(ndSide.self), "notifyd-cpu-ms/notification")
		b.ReportMetric(floorSide.perNotification(floorSide.self), "floor-client-cpu-ms/notification")
		// What the peers (Cyrus, the SMTP sink) spend per notification,
		// serving the floor and serving notifyd: the same requests should
		// cost them the same.
		b.ReportMetric(floorSide.perNotification(floorSide.cyrus), "cyrus-cpu-ms/floor-notification")
		b.ReportMetric(ndSide.perNotification(ndSide.cyrus), "cyrus-cpu-ms/notifyd-notification")
		b.ReportMetric(floorSide.perNotification(floorSide.sink), "sink-cpu-ms/floor-notification")
		b.ReportMetric(ndSide.perNotification(ndSide.sink), "sink-cpu-ms/notifyd-notification")
		reqs := stats()
		for m := range reqs {
			reqs[m] -= before[m]
			b.ReportMetric(reqs[m]/float64(ndSide.n), m+"/notification")
		}
		b.Logf("floor %.0f/s (%d notifications in %s, machine %.0f%% busy), notifyd %.0f/s (%d in %s, %s of its own CPU, machine %.0f%% busy), %.0f%% of the floor; CalDAV requests %v",
			floorSide.rate(), floorSide.n, floorSide.took.Round(time.Millisecond), floorSide.busy.percent(),
			ndSide.rate(), ndSide.n, ndSide.took.Round(time.Millisecond), ndSide.self.Round(time.Millisecond), ndSide.busy.percent(),
			ndSide.rate()/floorSide.rate()*100, reqs)
	}
}

// benchRounds is how many turns the floor and notifyd each take.
const benchRounds = 3

// measure is a measurement in progress of one side's turn.
type measure struct {
	pid                  int // notifyd's, or 0 for the floor (in this process)
	start                time.Time
	busy                 cpuJiffies
	self, cyrus, sinkCPU time.Duration
}

func startMeasure(pid int) *measure {
	return &measure{pid: pid, start: time.Now(), busy: machineBusy(), self: processCPU(pid),
		cyrus: peersCPU(cyrusComms...), sinkCPU: peersCPU(sinkComms...)}
}

// stop ends the measurement of a turn that handled n notifications.
func (m *measure) stop(n int) turn {
	return turn{n: n, took: time.Since(m.start), busy: machineBusy().sub(m.busy), self: processCPU(m.pid) - m.self,
		cyrus: peersCPU(cyrusComms...) - m.cyrus, sink: peersCPU(sinkComms...) - m.sinkCPU}
}

// turn is what one side did in one round.
type turn struct {
	n                 int
	took              time.Duration
	busy              cpuJiffies
	self, cyrus, sink time.Duration
}

func (t turn) rate() float64 { return float64(t.n) / t.took.Seconds() }

// benchSide adds up one side's turns.
type benchSide struct {
	turn
	last turn
}

func (s *benchSide) add(t turn) {
	s.last = t
	s.n += t.n
	s.took += t.took
	s.busy.busy += t.busy.busy
	s.busy.total += t.busy.total
	s.self += t.self
	s.cyrus += t.cyrus
	s.sink += t.sink
}

func (s *benchSide) perNotification(d time.Duration) float64 {
	return d.Seconds() * 1000 / float64(s.n)
}

func mkcalendar(b testing.TB, cy *peertest.Cyrus, owner, name string) {
	body := `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
		`<D:set><D:prop><D:displayname>` + name + `</D:displayname></D:prop></D:set></C:mkcalendar>`
	if code, _, resp := cy.Request(b, owner, "MKCALENDAR", cy.CalendarHome(owner)+name+"/", "application/xml", body); code != http.StatusCreated {
		b.Fatalf("MKCALENDAR %s: %d %s", name, code, resp)
	}
}

func shareWithAll(b testing.TB, cy *peertest.Cyrus, owner, cal string, users []string) {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:">`)
	for _, u := range users {
		sb.WriteString(`<D:sharee><D:href>mailto:` + u + `@localhost</D:href><D:share-access><D:read/></D:share-access></D:sharee>`)
	}
	sb.WriteString(`</D:share-resource>`)
	code, _, resp := cy.Request(b, owner, http.MethodPost, cy.CalendarHome(owner)+cal+"/", "application/davsharing+xml", sb.String())
	if code/100 != 2 {
		b.Fatalf("share %s: %d %s", cal, code, resp)
	}
}

// floor syncs, fetches, mails and deletes every notification of users
// directly, concurrency principals at a time, and returns how many.
func floor(b *testing.B, cy *peertest.Cyrus, sink *peertest.SMTP, users []string, concurrency int) int {
	work := make(chan string)
	var mu sync.Mutex
	total := 0
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	do := func(method, path, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, cy.BaseURL+path, strings.NewReader(body))
		req.SetBasicAuth(peertest.CyrusNotifier, cy.Password(peertest.CyrusNotifier))
		if body != "" {
			req.Header.Set("Content-Type", "application/xml")
		}
		// The same headers as notifyd's: uncompressed (notifyd asks so
		// that the ETag is the strong one the sync reports), and its
		// Accept for the GET.
		req.Header.Set("Accept-Encoding", "identity")
		if method == http.MethodGet {
			req.Header.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
		}
		resp, err := client.Do(req)
		if err != nil {
			fail(err)
			return &http.Response{Header: http.Header{}}, nil
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		return resp, buf.Bytes()
	}
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc, err := dialSink(sink)
			if err != nil {
				fail(err)
				for range work {
				}
				return
			}
			defer mc.Quit()
			for u := range work {
				_, ms := do("REPORT", cy.NotificationCollection(u), `<?xml version="1.0" encoding="utf-8"?>`+
					`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
				for _, href := range members(ms, cy.NotificationCollection(u)) {
					resp, body := do(http.MethodGet, href, "")
					etag := resp.Header.Get("ETag")
					// As large as notifyd's message (text and HTML
					// alternatives, about 3.3 kB), so that the sink's
					// work is the same.
					msg := fmt.Sprintf("From: notifyd@localhost\r\nTo: %s@example.org\r\nSubject: invite\r\n\r\n%d bytes of notification\r\n%s", u, len(body), floorPadding)
					if err := sendMail(mc, u+"@example.org", msg); err != nil {
						fail(err)
						continue
					}
					req, _ := http.NewRequest(http.MethodDelete, cy.BaseURL+href, nil)
					req.SetBasicAuth(peertest.CyrusNotifier, cy.Password(peertest.CyrusNotifier))
					req.Header.Set("If-Match", etag)
					r, err := client.Do(req)
					if err != nil {
						fail(err)
						continue
					}
					r.Body.Close()
					if r.StatusCode/100 != 2 {
						fail(fmt.Errorf("DELETE %s: %s", href, r.Status))
						continue
					}
					mu.Lock()
					total++
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("floor: %v", firstErr)
	}
	return total
}

// floorPadding brings the floor's message to the size of notifyd's.
var floorPadding = strings.Repeat("A line of the message's text and HTML alternatives, as notifyd sends.\r\n", 45)

func dialSink(sink *peertest.SMTP) (*smtp.Client, error) {
	conn, err := net.Dial("tcp", sink.Addr)
	if err != nil {
		return nil, err
	}
	c, err := smtp.NewClient(conn, sink.Host)
	if err != nil {
		return nil, err
	}
	return c, c.StartTLS(&tls.Config{ServerName: sink.Host, RootCAs: sink.CertPool()})
}

func sendMail(c *smtp.Client, to, msg string) error {
	if err := c.Mail("notifyd@localhost"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write([]byte(msg)); err != nil {
		return err
	}
	return wc.Close()
}

func members(ms []byte, coll string) []string {
	var doc struct {
		Responses []struct {
			Href   string `xml:"DAV: href"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: response"`
	}
	xml.Unmarshal(ms, &doc)
	var out []string
	for _, r := range doc.Responses {
		h := strings.TrimSpace(r.Href)
		if strings.TrimSuffix(h, "/") != strings.TrimSuffix(coll, "/") && !strings.Contains(r.Status, " 404 ") {
			out = append(out, h)
		}
	}
	return out
}

// benchNotifyd starts notifyd on the peers with every user subscribed, and
// returns it with a reader of its CalDAV request counters.
// types are what the subscriptions want (nil: every type).
func benchNotifyd(b *testing.B, cy *peertest.Cyrus, sink *peertest.SMTP, users []string, workers int,
	types []notifyd.NotificationType) (*instance, func() map[string]float64) {
	nd := newInstanceWith(b, cyrusEmailConfig(b, cy, sink, fmt.Sprintf("  sync_workers: %d\n  delivery_workers: %d\n", workers, 2*workers)))
	nd.start()
	for _, u := range users {
		sub := map[string]any{"system": "cyrus", "principal": cy.PrincipalHref(u),
			"methods": []map[string]any{{"channel": "email", "address": u + "@example.org"}}}
		if types != nil {
			sub["types"] = types
		}
		body, _ := json.Marshal(sub)
		req, _ := http.NewRequest(http.MethodPost, nd.baseURL+"/v1/subscriptions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("subscribe %s: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
	return nd, func() map[string]float64 { return caldavRequests(b, nd) }
}

func pingAll(b *testing.B, nd *instance, cy *peertest.Cyrus, users []string) {
	var hrefs []string
	for _, u := range users {
		hrefs = append(hrefs, cy.PrincipalHref(u))
	}
	body, _ := json.Marshal(map[string]any{"system": "cyrus", "token": pingToken, "hrefs": hrefs})
	resp, err := http.Post(nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		b.Fatalf("ping: %v %v", resp, err)
	}
	resp.Body.Close()
}

// waitSent waits until the sink has received messages messages since
// sent began watching and notifyd has deleted deleted notifications (the
// floor's work includes the DELETE too) and has nothing left to do: the
// count of DELETEs includes those sent but not yet answered, and a DELETE
// Cyrus has not yet handled when notifyd is stopped for the floor's turn
// leaves the floor one notification too many. It reads notifyd's metrics
// only once the messages are all there, then every few milliseconds: a
// scrape costs notifyd about a millisecond of CPU, a tax that polling
// /metrics throughout would add to what is measured.
func waitSent(b *testing.B, nd *instance, sent *sinkWatch, messages, deleted int, timeout time.Duration) {
	sent.wait(b, messages, timeout)
	const series = `notifyd_caldav_requests_total{method="DELETE",system="cyrus"}`
	waitUntilEvery(b, 5*time.Millisecond, timeout, func() bool {
		return metric(b, nd, series) >= float64(deleted) && queueIdle(b, nd.baseURL)
	}, func() string {
		return fmt.Sprintf("fewer than %d notifications deleted, or notifyd not idle\n%s", deleted, nd.log)
	})
}

func caldavRequests(b *testing.B, nd *instance) map[string]float64 {
	out := map[string]float64{}
	for _, m := range []string{"PROPFIND", "REPORT", "GET", "DELETE", "PUT"} {
		out[m] = metric(b, nd, `notifyd_caldav_requests_total{method="`+m+`",system="cyrus"}`)
	}
	out["connections"] = metric(b, nd, `notifyd_caldav_connections_total{system="cyrus"}`)
	return out
}

// metric reads one sample from /metrics (0 when absent).
func metric(b testing.TB, nd *instance, series string) float64 {
	m, err := scrape(nd.baseURL)
	if err != nil {
		b.Fatal(err)
	}
	return m[series]
}

// scrapeClient asks for /metrics uncompressed, as a scraper on the same
// host would: compressing each answer would cost notifyd CPU that the
// benchmark then counts against it.
var scrapeClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// scrape reads every sample of notifyd's /metrics at baseURL, by series
// (name and labels as written).
func scrape(baseURL string) (map[string]float64, error) {
	resp, err := scrapeClient.Get(baseURL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		var v float64
		fmt.Sscanf(line[i+1:], "%g", &v)
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// peersCPU is the CPU time used so far by the processes named in comms
// (Cyrus's httpd and master, the SMTP sink's python3), with that of their
// children already reaped.
func peersCPU(comms ...string) time.Duration {
	var total int64
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		data, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil || !slices.Contains(comms, string(data[bytes.IndexByte(data, '(')+1:bytes.LastIndexByte(data, ')')])) {
			continue
		}
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
		for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
			var v int64
			fmt.Sscan(f[i], &v)
			total += v
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// processCPU is the user+system CPU time process pid (0: this one) has
// used.
func processCPU(pid int) time.Duration {
	stat := "/proc/self/stat"
	if pid != 0 {
		stat = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(stat)
	if err != nil {
		panic(err)
	}
	// Fields after the command (which may contain spaces) start after ")".
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// cpuJiffies are the machine's CPU counters from /proc/stat.
type cpuJiffies struct{ busy, total uint64 }

func machineBusy() cpuJiffies {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		panic(err)
	}
	line := strings.SplitN(string(data), "\n", 2)[0] // "cpu  user nice system idle iowait ..."
	var j cpuJiffies
	for i, f := range strings.Fields(line)[1:] {
		var v uint64
		fmt.Sscan(f, &v)
		j.total += v
		if i != 3 && i != 4 { // idle, iowait
			j.busy += v
		}
	}
	return j
}

func (j cpuJiffies) sub(o cpuJiffies) cpuJiffies {
	return cpuJiffies{busy: j.busy - o.busy, total: j.total - o.total}
}

// percent is how busy the machine's cores were, all together.
func (j cpuJiffies) percent() float64 { return float64(j.busy) / float64(j.total) * 100 }

// The process names of the peers the benchmark measures: Cyrus (its
// master and httpd processes) and the SMTP sink.
var (
	cyrusComms = []string{"master", "httpd"}
	sinkComms  = []string{"python3"}
)
