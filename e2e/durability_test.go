package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestAcceptedPingsSurviveSIGKILL is the promise behind every 202: pings
// are sent from many clients, notifyd is killed with SIGKILL while more are
// in flight, and after a restart every principal that got a 202 is still
// dirty with exactly one sync job waiting.
func TestAcceptedPingsSurviveSIGKILL(t *testing.T) {
	in := newInstance(t)
	in.start()

	const clients = 32
	const killAfter = 600 // 202s received before the kill
	var (
		mu       sync.Mutex
		accepted = make(map[string]int) // principal -> 202s received
		total    int
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				// Each client also re-pings a principal of its own, so that
				// coalesced pings are part of what must survive.
				p := fmt.Sprintf("/principals/users/c%d-u%d", c, i)
				shared := fmt.Sprintf("/principals/users/c%d-shared", c)
				code, err := in.ping(ctx, client, p, shared)
				if err != nil || code != http.StatusAccepted {
					return // the kill landed: connection refused or reset
				}
				mu.Lock()
				accepted[p]++
				accepted[shared]++
				total++
				if total >= killAfter {
					once.Do(func() { in.kill(); close(killed) })
				}
				mu.Unlock()
			}
		}(c)
	}
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d pings accepted in 60s\n%s", total, in.log)
	}
	cancel()
	wg.Wait()
	t.Logf("%d pings accepted for %d principals before SIGKILL", total, len(accepted))

	// Restart: recovery of the database must keep everything, and the
	// service must come back ready.
	in.start()
	if err, took := in.stop(); err != nil {
		t.Fatalf("graceful stop after restart: %v (after %s)\n%s", err, took, in.log)
	}

	db := in.db()
	rows, err := db.Query(`SELECT json_extract(args, '$.principal'), count(*) FROM river_job
WHERE kind = 'sync_principal' AND json_extract(args, '$.system') = 'cal' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make(map[string]int)
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			t.Fatal(err)
		}
		jobs[p] = n
	}
	rows.Close()
	var missing, duplicated int
	for p := range accepted {
		switch jobs[p] {
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("principal %s got a 202 but has no sync job after the restart", p)
			}
		case 1:
		default:
			duplicated++
			t.Errorf("principal %s has %d sync jobs, want exactly 1", p, jobs[p])
		}
		var dirty bool
		if err := db.QueryRow(`SELECT dirty_gen > synced_gen FROM principal_state WHERE system = 'cal' AND principal = $1`, p).Scan(&dirty); err != nil || !dirty {
			t.Errorf("principal %s got a 202 but is not marked dirty after the restart (err %v)", p, err)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d accepted principals lost by the SIGKILL", missing, len(accepted))
	}
	// Jobs for principals whose ping was in flight at the kill may exist
	// without a 202; none may exist for a principal never pinged.
	for p, n := range jobs {
		if n != 1 {
			t.Errorf("principal %s has %d sync jobs", p, n)
		}
	}
}

// TestGracefulShutdown checks that SIGTERM/SIGINT stops notifyd with exit
// status 0 well within its shutdown bound, and that a ping accepted just
// before is kept.
func TestGracefulShutdown(t *testing.T) {
	in := newInstance(t)
	in.start()
	code, err := in.ping(context.Background(), http.DefaultClient, "/principals/users/last")
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("ping: %d %v", code, err)
	}
	err, took := in.stop()
	if err != nil {
		t.Fatalf("notifyd exited with %v after SIGINT, want status 0\n%s", err, in.log)
	}
	if took > 6*time.Second {
		t.Fatalf("shutdown took %s, more than the 5s bound configured", took)
	}
	var n int
	if err := in.db().QueryRow(`SELECT count(*) FROM river_job WHERE json_extract(args, '$.principal') = '/principals/users/last'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after shutdown, jobs for the last ping: %d (err %v), want 1", n, err)
	}
}
