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
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// BenchmarkCalDAVToEmail measures end-to-end delivery against the real
// peers: 200 principals with 5 sharing invites each in Cyrus, every one
// to be emailed through the SMTP sink and then deleted. It first runs the
// floor, a minimal client making the same requests directly at the same
// concurrency (a sync REPORT per principal; a GET, an SMTP message and a
// DELETE per notification), then notifyd on a fresh set of invites, and
// reports both rates and notifyd's CalDAV requests per notification.
//
//	go test -run XXX -bench CalDAVToEmail -benchtime 1x ./e2e/
func BenchmarkCalDAVToEmail(b *testing.B) {
	const principals, perPrincipal, concurrency = 200, 5, 8
	users := make([]string, principals)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i+1)
	}
	cy := peertest.StartCyrus(b, append([]string{"owner"}, users...)...)
	sink := peertest.StartSMTP(b)
	for i := 1; i <= 2*perPrincipal; i++ {
		mkcalendar(b, cy, "owner", fmt.Sprintf("cal%d", i))
	}
	share := func(from, to int) {
		for i := from; i <= to; i++ {
			shareWithAll(b, cy, "owner", fmt.Sprintf("cal%d", i), users)
		}
	}

	for i := 0; i < b.N; i++ {
		// The floor.
		share(1, perPrincipal)
		busy0 := machineBusy(b)
		cyrus0, sink0 := peersCPU(cyrusComms...), peersCPU(sinkComms...)
		start := time.Now()
		n := floor(b, cy, sink, users, concurrency)
		floorTook := time.Since(start)
		floorBusy := machineBusy(b).sub(busy0)
		floorCyrus, floorSink := peersCPU(cyrusComms...)-cyrus0, peersCPU(sinkComms...)-sink0
		if n != principals*perPrincipal {
			b.Fatalf("floor handled %d notifications, want %d", n, principals*perPrincipal)
		}

		// notifyd, warmed up as in steady state: each principal pinged
		// once before (its notification collection found and cached, its
		// sync token stored), as the floor knows the collections.
		nd, stats := benchNotifyd(b, cy, sink, users, concurrency)
		pingAll(b, nd, cy, users)
		waitMetric(b, nd, `notifyd_syncs_total{outcome="ok",system="cyrus"}`, principals, time.Minute)
		before := stats()
		share(perPrincipal+1, 2*perPrincipal)
		cpu0 := processCPU(b, nd.cmd.Process.Pid)
		busy0 = machineBusy(b)
		cyrus0, sink0 = peersCPU(cyrusComms...), peersCPU(sinkComms...)
		start = time.Now()
		pingAll(b, nd, cy, users)
		waitSent(b, nd, principals*perPrincipal, 10*time.Minute)
		ndTook := time.Since(start)
		ndCPU := processCPU(b, nd.cmd.Process.Pid) - cpu0
		ndBusy := machineBusy(b).sub(busy0)
		ndCyrus, ndSink := peersCPU(cyrusComms...)-cyrus0, peersCPU(sinkComms...)-sink0

		floorRate := float64(n) / floorTook.Seconds()
		ndRate := float64(principals*perPrincipal) / ndTook.Seconds()
		b.ReportMetric(floorRate, "floor-deliveries/s")
		b.ReportMetric(ndRate, "notifyd-deliveries/s")
		b.ReportMetric(ndRate/floorRate*100, "%-of-floor")
		b.ReportMetric(ndCPU.Seconds()*1000/float64(principals*perPrincipal), "notifyd-cpu-ms/notification")
		// What the peers (Cyrus, the SMTP sink) spend per notification,
		// serving the floor and serving notifyd: the same requests should
		// cost them the same.
		per := func(d time.Duration, n int) float64 { return d.Seconds() * 1000 / float64(n) }
		b.ReportMetric(per(floorCyrus, n), "cyrus-cpu-ms/floor-notification")
		b.ReportMetric(per(ndCyrus, principals*perPrincipal), "cyrus-cpu-ms/notifyd-notification")
		b.ReportMetric(per(floorSink, n), "sink-cpu-ms/floor-notification")
		b.ReportMetric(per(ndSink, principals*perPrincipal), "sink-cpu-ms/notifyd-notification")
		reqs := stats()
		for m := range reqs {
			reqs[m] -= before[m]
			b.ReportMetric(reqs[m]/float64(principals*perPrincipal), m+"/notification")
		}
		b.Logf("floor %.0f/s (%s, machine %.0f%% busy), notifyd %.0f/s (%s, %s of its own CPU, machine %.0f%% busy), %.0f%% of the floor; CalDAV requests %v",
			floorRate, floorTook.Round(time.Millisecond), floorBusy.percent(), ndRate, ndTook.Round(time.Millisecond),
			ndCPU.Round(time.Millisecond), ndBusy.percent(), ndRate/floorRate*100, reqs)
	}
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
func benchNotifyd(b *testing.B, cy *peertest.Cyrus, sink *peertest.SMTP, users []string, workers int) (*instance, func() map[string]float64) {
	nd := newInstanceWith(b, cyrusEmailConfig(b, cy, sink, fmt.Sprintf("  sync_workers: %d\n  delivery_workers: %d\n", workers, 2*workers)))
	nd.start()
	for _, u := range users {
		body, _ := json.Marshal(map[string]any{"system": "cyrus", "principal": cy.PrincipalHref(u),
			"methods": []map[string]any{{"channel": "email", "address": u + "@example.org"}}})
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

// metricPoll is how often the benchmark reads notifyd's /metrics while it
// waits: each read costs notifyd about half a millisecond of CPU, which
// at 20ms was a tax of several percent on what is measured.
const metricPoll = 50 * time.Millisecond

// waitMetric polls the metrics until series reaches n.
func waitMetric(b testing.TB, nd *instance, series string, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for metric(b, nd, series) < float64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%s below %d after %s\n%s", series, n, timeout, nd.log)
		}
		time.Sleep(metricPoll)
	}
}

// waitSent polls the metrics until n deliveries were sent and n
// notifications deleted (the floor's work includes the DELETE too).
func waitSent(b *testing.B, nd *instance, n int, timeout time.Duration) {
	waitMetric(b, nd, `notifyd_deliveries_total{channel="email",status="sent"}`, n, timeout)
	deadline := time.Now().Add(timeout)
	for {
		if metric(b, nd, `notifyd_caldav_requests_total{method="DELETE",system="cyrus"}`) >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("fewer than %d deliveries sent after %s\n%s", n, timeout, nd.log)
		}
		time.Sleep(metricPoll)
	}
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

// scrape reads every sample of notifyd's /metrics at baseURL, by series
// (name and labels as written).
func scrape(baseURL string) (map[string]float64, error) {
	resp, err := http.Get(baseURL + "/metrics")
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

// processCPU is the user+system CPU time a process has used.
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

func processCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
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

func machineBusy(b *testing.B) cpuJiffies {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
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
