// Command notifyd-bench is a load generator for notifyd's intakes: the
// ping endpoint, and with -mode publish the publish endpoint.
//
// It keeps -c keep-alive HTTP clients busy sending POST /v1/notifications
// pings, each for a principal never used before in the run (-mode
// publish: POST /v1/events, each publishing the creation of an event
// never published before, with a small text/calendar payload), first for a
// -warmup period that is not counted and then for the measured -d window. It
// prints throughput, errors and latency percentiles and, given the server's
// -pid, the server's memory before and after and the CPU it used in the
// window. It exits 1 if any counted request failed or none was made.
//
// Usage:
//
//	notifyd-bench -token TOKEN [-mode ping|publish] [-url URL] [-c 64] [-d 10s] [-warmup 2s] [-pid PID] [-json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	load := Load{}
	var (
		rawURL = flag.String("url", "", "endpoint URL (default http://127.0.0.1:8080/v1/notifications, or /v1/events with -mode publish)")
		pid    = flag.Int("pid", 0, "server process ID; if set, report its memory and CPU use from /proc")
		asJSON = flag.Bool("json", false, "print a JSON summary instead of text")
	)
	flag.IntVar(&load.Concurrency, "c", 64, "number of concurrent keep-alive clients")
	flag.DurationVar(&load.Duration, "d", 10*time.Second, "length of the measured window")
	flag.DurationVar(&load.Warmup, "warmup", 2*time.Second, "load period before the window, not counted")
	flag.StringVar(&load.System, "system", "bench", "system name sent with each ping")
	flag.StringVar(&load.Token, "token", os.Getenv("NOTIFYD_BENCH_TOKEN"), "ping token (default $NOTIFYD_BENCH_TOKEN)")
	flag.BoolVar(&load.Bearer, "bearer", false, "send the token as an Authorization: Bearer header instead of in the body")
	flag.StringVar(&load.Prefix, "prefix", "", "principal href prefix; a unique one per run is generated if empty")
	flag.StringVar(&load.Mode, "mode", ModePing, "what to send: ping (POST /v1/notifications) or publish (POST /v1/events)")
	flag.Parse()
	if *rawURL == "" {
		*rawURL = "http://127.0.0.1:8080/v1/notifications"
		if load.Mode == ModePublish {
			*rawURL = "http://127.0.0.1:8080/v1/events"
		}
	}

	u, err := url.Parse(*rawURL)
	switch {
	case err != nil:
		usage("bad -url: %v", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		usage("bad -url %q: want http://host:port/path", *rawURL)
	case load.Mode != ModePing && load.Mode != ModePublish:
		usage("bad -mode %q: want ping or publish", load.Mode)
	case load.Concurrency < 1:
		usage("-c must be at least 1")
	case load.Duration <= 0 || load.Warmup < 0:
		usage("-d must be positive and -warmup not negative")
	case load.Token == "":
		usage("no token: pass -token or set NOTIFYD_BENCH_TOKEN")
	case flag.NArg() > 0:
		usage("unexpected arguments: %q", flag.Args())
	}
	load.URL = u
	if load.Prefix == "" {
		runID := strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.Itoa(os.Getpid())
		load.Prefix = "/principals/users/bench-" + runID + "-"
	}

	sum := Summary{URL: u.String(), Concurrency: load.Concurrency, Warmup: load.Warmup, Duration: load.Duration}
	var serverCPU0, selfCPU0 time.Duration
	if *pid > 0 {
		sum.Server = &ServerStats{PID: *pid}
		if sum.Server.Before, err = readMemory(*pid); err != nil {
			fatal("server memory: %v", err)
		}
	}
	res := load.Run(func() {
		selfCPU0, _ = readCPU(os.Getpid())
		if *pid > 0 {
			serverCPU0, _ = readCPU(*pid)
		}
	})
	selfCPU1, _ := readCPU(os.Getpid())
	sum.BenchCPU = selfCPU1 - selfCPU0
	if *pid > 0 {
		cpu, err := readCPU(*pid)
		if err != nil {
			fatal("server CPU: %v", err)
		}
		sum.Server.CPU = cpu - serverCPU0
		if sum.Server.After, err = readMemory(*pid); err != nil {
			fatal("server memory: %v", err)
		}
	}
	sum.fill(res)

	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else {
		sum.print(os.Stdout)
	}
	if res.Errors > 0 || res.Requests == 0 {
		os.Exit(1)
	}
}

// usage reports a command-line mistake and exits with status 2.
func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "notifyd-bench: "+format+"\n", args...)
	flag.Usage()
	os.Exit(2)
}

// fatal reports a runtime failure and exits with status 1.
func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "notifyd-bench: "+format+"\n", args...)
	os.Exit(1)
}
