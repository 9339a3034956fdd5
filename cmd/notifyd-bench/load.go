package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorSamples is how many distinct error messages a run keeps.
const maxErrorSamples = 5

// Load describes one load-generation run.
type Load struct {
	URL         *url.URL
	Concurrency int
	Warmup      time.Duration // requests started before Warmup has passed are not counted
	Duration    time.Duration // length of the measured window after the warmup
	System      string
	Token       string
	Bearer      bool   // send the token as "Authorization: Bearer" instead of in the body
	Prefix      string // principal href prefix; request n pings Prefix+n
	// Mode is "ping" (POST /v1/notifications: request n pings the
	// principal Prefix+n) or "publish" (POST /v1/events: request n
	// publishes the creation of event n, an iCalendar payload, for the
	// principal Prefix+n).
	Mode string
}

// Load modes.
const (
	ModePing    = "ping"
	ModePublish = "publish"
)

// benchEvent is the payload of a publish, JSON-escaped, around the
// event's number: a small event as a calendar server publishes it.
var benchEvent = [2]string{
	`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd-bench//EN\r\nBEGIN:VEVENT\r\nUID:`,
	`@bench.example.org\r\nDTSTAMP:20261201T080000Z\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\n` +
		`SUMMARY:Benchmark event\r\nLOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
}

// bodyParts returns the request body's parts, between which the request's
// number goes, with JSON escaping done once here.
func (l *Load) bodyParts() [][]byte {
	head := []byte(`{"system":"`)
	head = append(head, jsonString(l.System)...)
	if !l.Bearer {
		head = append(head, `","token":"`...)
		head = append(head, jsonString(l.Token)...)
	}
	if l.Mode == ModePublish {
		head = append(head, `","topic":"event-create","content_type":"text/calendar","principal":"`...)
		head = append(head, jsonString(l.Prefix)...)
		// The event's UID is unique to the run: the principal prefix's
		// last segment (bench-<run>-) and the number.
		uid := l.Prefix[strings.LastIndexByte(l.Prefix, '/')+1:]
		mid := []byte(`","payload":"` + benchEvent[0])
		mid = append(mid, jsonString(uid)...)
		return [][]byte{head, mid, []byte(benchEvent[1] + `"}`)}
	}
	head = append(head, `","hrefs":["`...)
	head = append(head, jsonString(l.Prefix)...)
	return [][]byte{head, []byte(`"]}`)}
}

// Result is what a run observed. Only requests started inside the measured
// window are counted, except WarmupRequests and WarmupErrors.
type Result struct {
	Requests       uint64         // requests in the measured window
	Accepted       uint64         // of those, answered 202 with a readable body
	Errors         uint64         // of those, non-202 or transport errors
	WarmupRequests uint64         // requests during the warmup
	WarmupErrors   uint64         // errors during the warmup
	Elapsed        time.Duration  // from window start until the last counted request finished
	Status         map[int]uint64 // status code counts in the window; 0 means transport error
	ErrorSamples   []string       // first few distinct error messages (warmup included)
	Latency        Histogram      // latency of requests in the window
}

// errorLog keeps the first few distinct error messages from all workers.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (e *errorLog) add(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.msgs) >= maxErrorSamples {
		return
	}
	for _, m := range e.msgs {
		if m == msg {
			return
		}
	}
	e.msgs = append(e.msgs, msg)
}

// jsonString returns s as a JSON string literal without the quotes.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return b[1 : len(b)-1]
}

// Run generates load until the measured window ends and returns the totals.
// windowStart is called once when the measured window begins.
func (l *Load) Run(windowStart func()) *Result {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        max(l.Concurrency, 100),
		MaxIdleConnsPerHost: l.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()

	start := time.Now()
	r := &run{
		client:       &http.Client{Transport: transport},
		measureFrom:  start.Add(l.Warmup),
		measureUntil: start.Add(l.Warmup + l.Duration),
	}
	// One deadline for every request instead of a timer per request: a hung
	// server cannot stall the run for more than 30s past the window.
	ctx, cancel := context.WithDeadline(context.Background(), r.measureUntil.Add(30*time.Second))
	defer cancel()

	r.parts = l.bodyParts()

	var err error
	r.template, err = http.NewRequestWithContext(ctx, http.MethodPost, l.URL.String(), nil)
	if err != nil {
		panic(err) // the URL was parsed already
	}
	r.template.Header.Set("Content-Type", "application/json")
	r.template.Header.Set("User-Agent", "notifyd-bench")
	if l.Bearer {
		r.template.Header.Set("Authorization", "Bearer "+l.Token)
	}

	var wg sync.WaitGroup
	workers := make([]*worker, l.Concurrency)
	for i := range workers {
		workers[i] = &worker{status: make(map[int]uint64)}
		wg.Go(func() { workers[i].loop(r) })
	}
	time.Sleep(time.Until(r.measureFrom))
	if windowStart != nil {
		windowStart()
	}
	wg.Wait()

	res := &Result{Status: make(map[int]uint64)}
	end := r.measureUntil
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		res.WarmupRequests += w.warmupRequests
		res.WarmupErrors += w.warmupErrors
		for code, c := range w.status {
			res.Status[code] += c
		}
		res.Latency.Merge(&w.hist)
		if w.lastDone.After(end) {
			end = w.lastDone
		}
	}
	res.Accepted = res.Requests - res.Errors
	res.Elapsed = end.Sub(r.measureFrom)
	res.ErrorSamples = r.errLog.msgs
	return res
}

// run is the state shared, read-only except for next and errLog, by the
// workers of one Load.Run.
type run struct {
	client       *http.Client
	template     *http.Request // method, URL, headers and deadline of every request
	parts        [][]byte      // request body around the request's number
	measureFrom  time.Time     // requests started before this are warmup
	measureUntil time.Time     // no request is started at or after this
	next         atomic.Uint64 // principal counter
	errLog       errorLog
}

// worker holds one client goroutine's private counters, merged at the end.
type worker struct {
	hist           Histogram
	status         map[int]uint64
	requests       uint64
	errors         uint64
	warmupRequests uint64
	warmupErrors   uint64
	lastDone       time.Time
}

// loop sends pings one after another until the measured window is over.
func (w *worker) loop(r *run) {
	for {
		began := time.Now()
		if !began.Before(r.measureUntil) {
			return
		}
		n := r.next.Add(1)
		size := 0
		for _, p := range r.parts {
			size += len(p) + 20
		}
		buf := make([]byte, 0, size)
		for i, p := range r.parts {
			if i > 0 {
				buf = strconv.AppendUint(buf, n, 10)
			}
			buf = append(buf, p...)
		}

		req := new(http.Request)
		*req = *r.template // shallow copy; the shared Header is only read
		// Each request gets its own small buffer: the transport may still
		// read or close a body after Client.Do returns. It must be a
		// NopCloser'd *bytes.Reader, which net/http recognizes as in-memory
		// and sends with the headers in one write; any other body type costs
		// a second write and TCP segment per request.
		req.Body = io.NopCloser(bytes.NewReader(buf))
		req.ContentLength = int64(len(buf))

		code, errMsg := send(r.client, req)
		done := time.Now()
		if errMsg != "" {
			r.errLog.add(errMsg)
		}
		if began.Before(r.measureFrom) {
			w.warmupRequests++
			if errMsg != "" {
				w.warmupErrors++
			}
			continue
		}
		w.requests++
		w.status[code]++
		if errMsg != "" {
			w.errors++
		}
		w.hist.Record(done.Sub(began))
		w.lastDone = done
	}
}

// send performs one request, drains and closes the response body, and
// returns the status code (0 on transport error) and an error message, which
// is empty when the ping was accepted.
func send(client *http.Client, req *http.Request) (int, string) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return resp.StatusCode, "reading body: " + err.Error()
		}
		return resp.StatusCode, ""
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, resp.Body) // drain so the connection is reused
	return resp.StatusCode, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(snippet))
}
