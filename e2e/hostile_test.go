package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostilePing is a 1 MiB ping built to make a validator work: an unknown
// system and 349,000 wrong items, or 60,000 unknown members.
func hostilePing(members bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"system":"nosuch"`)
	if !members {
		b.WriteString(`,"hrefs":[1`)
	}
	for i := 0; b.Len() < 1<<20-32; i++ {
		if members {
			b.WriteString(`,"k` + strconv.Itoa(i) + `":1`)
		} else {
			b.WriteString(",1")
		}
	}
	if !members {
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// residentBytes is process pid's resident memory (VmRSS).
func residentBytes(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Eight clients that send hostile 1 MiB pings without a token and never
// read the answer cost the real binary little CPU and memory, and the
// server lets go of their connections by itself. Before, the same
// took 55 s of CPU and 7.8 GB, not released after they closed.
func TestHostilePingsWithClientsThatNeverRead(t *testing.T) {
	in := newInstance(t)
	in.env = []string{"NOTIFYD_HTTP_WRITE_TIMEOUT=2s", "NOTIFYD_HTTP_IDLE_TIMEOUT=2s"}
	in.start()
	pid := in.cmd.Process.Pid
	rejectedTotal := func() float64 {
		resp, err := http.Get(in.baseURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sum float64
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "notifyd_pings_rejected_total{") {
				v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
				sum += v
			}
		}
		return sum
	}
	// Warm up: one hostile ping answered and read, so the baseline has
	// the server's buffers.
	if code, _ := postRaw(t, in.baseURL, hostilePing(false)); code != http.StatusUnauthorized {
		t.Fatalf("warm-up: %d, want 401", code)
	}
	before := rejectedTotal()
	rss0, cpu0 := residentBytes(t, pid), processCPU(pid)

	const clients = 8
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(in.baseURL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body := hostilePing(i%2 == 1)
		fmt.Fprintf(c, "POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		if _, err := c.Write(body); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	// Every ping is answered (and counted) while no client reads: a
	// counter of another process, polled (waitUntil).
	waitUntil(t, time.Minute, func() bool { return rejectedTotal() >= before+clients }, func() string {
		return fmt.Sprintf("%v of %d pings refused", rejectedTotal()-before, clients)
	})
	rss1, cpu1 := residentBytes(t, pid), processCPU(pid)
	t.Logf("8 hostile pings: resident memory %+d MB, CPU %v", (rss1-rss0)>>20, cpu1-cpu0)
	if grown := rss1 - rss0; grown > 50<<20 {
		t.Errorf("resident memory grew by %d MB, want under 50 MB", grown>>20)
	}
	if cpu := cpu1 - cpu0; cpu > time.Second {
		t.Errorf("8 hostile pings took %v of CPU, want well under 1s", cpu)
	}
	// The server closes each connection by itself (idle and write
	// timeouts): a client that never reads holds nothing. Reading now
	// finds the small answer, then the end of the connection.
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("client %d: the server did not close the connection: %v", i, err)
		}
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 401 ")) || len(got) > 16<<10 {
			t.Errorf("client %d: answer of %d bytes: %.200s", i, len(got), got)
		}
	}
}

// postRaw posts body as a ping and returns the status and answer.
func postRaw(t *testing.T, baseURL string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
