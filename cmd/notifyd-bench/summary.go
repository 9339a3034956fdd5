package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Summary is the report of one run; -json prints it as is. Durations are in
// nanoseconds in JSON.
type Summary struct {
	URL            string         `json:"url"`
	Concurrency    int            `json:"concurrency"`
	Warmup         time.Duration  `json:"warmup_ns"`
	Duration       time.Duration  `json:"duration_ns"`
	Elapsed        time.Duration  `json:"elapsed_ns"`
	Requests       uint64         `json:"requests"`
	WarmupRequests uint64         `json:"warmup_requests"`
	AcceptedPerSec float64        `json:"accepted_per_sec"`
	Errors         uint64         `json:"errors"`
	WarmupErrors   uint64         `json:"warmup_errors"`
	Status         map[int]uint64 `json:"status"` // 0 means transport error
	ErrorSamples   []string       `json:"error_samples,omitempty"`
	P50            time.Duration  `json:"p50_ns"`
	P90            time.Duration  `json:"p90_ns"`
	P99            time.Duration  `json:"p99_ns"`
	Max            time.Duration  `json:"max_ns"`
	BenchCPU       time.Duration  `json:"bench_cpu_ns"` // CPU used by this tool in the window
	Server         *ServerStats   `json:"server,omitempty"`
}

// ServerStats is what /proc said about the server process (-pid).
type ServerStats struct {
	PID    int           `json:"pid"`
	Before Memory        `json:"before"`
	After  Memory        `json:"after"`
	CPU    time.Duration `json:"cpu_ns"` // user+system CPU used in the window
}

// fill copies the run's results into s.
func (s *Summary) fill(r *Result) {
	s.Elapsed = r.Elapsed
	s.Requests = r.Requests
	s.WarmupRequests = r.WarmupRequests
	if r.Elapsed > 0 {
		s.AcceptedPerSec = float64(r.Accepted) / r.Elapsed.Seconds()
	}
	s.Errors = r.Errors
	s.WarmupErrors = r.WarmupErrors
	s.Status = r.Status
	s.ErrorSamples = r.ErrorSamples
	s.P50 = r.Latency.Percentile(50)
	s.P90 = r.Latency.Percentile(90)
	s.P99 = r.Latency.Percentile(99)
	s.Max = r.Latency.Max()
}

// print writes s as human-readable text.
func (s *Summary) print(w io.Writer) {
	fmt.Fprintf(w, "target        POST %s  c=%d  warmup=%s  window=%s (elapsed %s)\n",
		s.URL, s.Concurrency, s.Warmup, s.Duration, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "requests      %d  (+%d warmup, not counted)\n", s.Requests, s.WarmupRequests)
	fmt.Fprintf(w, "accepted/s    %.0f\n", s.AcceptedPerSec)
	fmt.Fprintf(w, "errors        %d  (warmup: %d)\n", s.Errors, s.WarmupErrors)
	var codes []string
	for _, code := range slices.Sorted(maps.Keys(s.Status)) {
		name := "transport-error"
		if code != 0 {
			name = fmt.Sprintf("%d %s", code, http.StatusText(code))
		}
		codes = append(codes, fmt.Sprintf("%s: %d", name, s.Status[code]))
	}
	fmt.Fprintf(w, "status        %s\n", strings.Join(codes, ", "))
	for _, msg := range s.ErrorSamples {
		fmt.Fprintf(w, "  error       %s\n", msg)
	}
	fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s\n", ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	fmt.Fprintf(w, "bench CPU     %.2fs (%.2f cores)\n", s.BenchCPU.Seconds(), cores(s.BenchCPU, s.Elapsed))
	if sv := s.Server; sv != nil {
		fmt.Fprintf(w, "server RSS    before %s (peak %s)  after %s (peak %s)\n",
			mb(sv.Before.RSSBytes), mb(sv.Before.HWMBytes), mb(sv.After.RSSBytes), mb(sv.After.HWMBytes))
		fmt.Fprintf(w, "server CPU    %.2fs (%.2f cores)\n", sv.CPU.Seconds(), cores(sv.CPU, s.Elapsed))
	}
}

// ms formats d in milliseconds with microsecond resolution.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

// mb formats a byte count in MiB.
func mb(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// cores is the average number of CPUs busy: cpu time over wall time.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
