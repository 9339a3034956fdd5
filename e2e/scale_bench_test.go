package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// BenchmarkScaleOut measures ping intake and end-to-end delivery with the
// embedded SQLite database and with 1, 2 and 3 replicas on one PostgreSQL
// database, all on this machine:
//
//	go test -run XXX -bench ScaleOut -benchtime 1x ./e2e/
//
// Intake: 64 keep-alive clients send one-href pings for distinct
// principals, round-robin over the replicas, for 5 s (the job workers off,
// as in make bench). End to end: 200 Cyrus principals with 5 new
// notifications each, pinged through the replicas in turn, until every
// message is sent and every notification deleted.
func BenchmarkScaleOut(b *testing.B) {
	pg := peertest.StartPostgres(b)
	const principals, perPrincipal = 200, 5
	users := make([]string, principals)
	for i := range users {
		users[i] = fmt.Sprintf("s%03d", i+1)
	}
	cy := peertest.StartCyrus(b, append([]string{"owner"}, users...)...)
	sink := peertest.StartSMTP(b)
	calendars := 0
	shareAll := func() {
		for range perPrincipal {
			calendars++
			name := fmt.Sprintf("cal%d", calendars)
			mkcalendar(b, cy, "owner", name)
			shareWithAll(b, cy, "owner", name, users)
		}
	}
	setups := []struct {
		name     string
		replicas int
		postgres bool
	}{{"sqlite", 1, false}, {"postgres-1", 1, true}, {"postgres-2", 2, true}, {"postgres-3", 3, true}}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			for range b.N {
				dbURL := ""
				if s.postgres {
					dbURL = pg.Database(b)
				}
				intake := scaleReplicas(b, s.replicas, dbURL, cy, sink, false)
				rate, p99 := pingLoad(b, intake, 64, 5*time.Second)
				for _, nd := range intake {
					nd.kill()
				}
				b.ReportMetric(rate, "pings/s")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")

				if s.postgres {
					dbURL = pg.Database(b)
				}
				nds := scaleReplicas(b, s.replicas, dbURL, cy, sink, true)
				subscribeAll(b, nds[0], cy, users)
				// Warm up as in steady state: every principal synced once
				// (collection found, sync token stored).
				for i, nd := range nds {
					pingAll(b, nd, cy, users[i*principals/len(nds):(i+1)*principals/len(nds)])
				}
				waitSum(b, nds, `notifyd_syncs_total{outcome="ok",system="cyrus"}`, principals, time.Minute)
				sent0 := sum(b, nds, `notifyd_deliveries_total{channel="email",status="sent"}`)
				deleted0 := sum(b, nds, `notifyd_caldav_requests_total{method="DELETE",system="cyrus"}`)
				shareAll()
				start := time.Now()
				for i, nd := range nds {
					pingAll(b, nd, cy, users[i*principals/len(nds):(i+1)*principals/len(nds)])
				}
				waitSum(b, nds, `notifyd_deliveries_total{channel="email",status="sent"}`, sent0+principals*perPrincipal, 10*time.Minute)
				waitSum(b, nds, `notifyd_caldav_requests_total{method="DELETE",system="cyrus"}`, deleted0+principals*perPrincipal, 10*time.Minute)
				took := time.Since(start)
				for _, nd := range nds {
					nd.kill()
				}
				b.ReportMetric(principals*perPrincipal/took.Seconds(), "deliveries/s")
				b.Logf("%s: intake %.0f pings/s (p99 %s); end to end %.0f deliveries/s (%d in %s)", s.name, rate, p99,
					principals*perPrincipal/took.Seconds(), principals*perPrincipal, took.Round(time.Millisecond))
			}
		})
	}
}

// scaleReplicas starts n notifyd processes on dbURL (PostgreSQL), or one on
// its own SQLite database when dbURL is empty, with their job workers on
// or off.
func scaleReplicas(b *testing.B, n int, dbURL string, cy *peertest.Cyrus, sink *peertest.SMTP, jobs bool) []*instance {
	var nds []*instance
	for range n {
		nd := newInstanceWith(b, cyrusEmailConfig(b, cy, sink, fmt.Sprintf("  run: %t\n", jobs)))
		if dbURL != "" {
			nd.env = []string{"NOTIFYD_DATABASE_URL=" + dbURL}
		}
		nd.start()
		nds = append(nds, nd)
	}
	return nds
}

func subscribeAll(b *testing.B, nd *instance, cy *peertest.Cyrus, users []string) {
	for _, u := range users {
		code, body := nd.api(b, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "cyrus", "principal": cy.PrincipalHref(u),
			"methods": []map[string]any{{"channel": "email", "address": u + "@example.org"}}})
		if code != http.StatusCreated {
			b.Fatalf("subscribe %s: %d %v", u, code, body)
		}
	}
}

// pingLoad sends one-href pings for distinct principals from clients
// keep-alive clients, round-robin over nds, for d; it returns the accepted
// pings per second and the 99th percentile latency.
func pingLoad(b *testing.B, nds []*instance, clients int, d time.Duration) (float64, time.Duration) {
	var seq, failed atomic.Int64
	lat := make([][]time.Duration, clients)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			nd := nds[c%len(nds)]
			for time.Now().Before(stop) {
				body, _ := json.Marshal(map[string]any{"system": "cyrus", "token": pingToken,
					"hrefs": []string{fmt.Sprintf("/dav/principals/user/load%d/", seq.Add(1))}})
				t0 := time.Now()
				resp, err := client.Post(nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
				if err != nil || resp.StatusCode != http.StatusAccepted {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				resp.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	all := slices.Concat(lat...)
	if n := failed.Load(); n > 0 {
		b.Errorf("%d pings failed", n)
	}
	if len(all) == 0 {
		b.Fatal("no ping accepted")
	}
	slices.Sort(all)
	return float64(len(all)) / d.Seconds(), all[len(all)*99/100]
}

// sum adds one series over the replicas' metrics.
func sum(b *testing.B, nds []*instance, series string) int {
	total := 0.0
	for _, nd := range nds {
		total += metric(b, nd, series)
	}
	return int(total)
}

// waitSum waits until series, summed over the replicas, reaches n.
func waitSum(b *testing.B, nds []*instance, series string, n int, timeout time.Duration) {
	waitUntil(b, timeout, func() bool { return sum(b, nds, series) >= n },
		func() string { return fmt.Sprintf("%s below %d\n%s", series, n, nds[0].log) })
}
