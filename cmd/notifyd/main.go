// Command notifyd is the notification delivery engine for CalDAV calendar
// servers.
//
// Usage:
//
//	notifyd [-config FILE] [serve]   run the service (the default)
//	notifyd [-config FILE] migrate   apply database migrations and exit
//	notifyd version                  print the version and exit
//
// The configuration file may also be named by NOTIFYD_CONFIG; every key can
// be set by an environment variable (see docs/configuration.md). With no file at
// all, notifyd runs on an embedded SQLite database under ./data.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // IANA zones for subscriptions, even in a scratch image

	"github.com/notifyd/notifyd/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// The live heap is small and the ping path allocates briskly: collect
	// less often than Go's default (100) unless the operator set GOGC.
	// Memory at idle is unchanged; under load it trades tens of MB for CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifyd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("NOTIFYD_CONFIG"), "YAML configuration `file` (env NOTIFYD_CONFIG)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: notifyd [-config FILE] [serve|migrate|version]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd := "serve"
	if fs.NArg() > 0 {
		cmd = fs.Arg(0)
		// Accept the flag after the command too: notifyd serve -config FILE.
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fs.Usage()
			return 2
		}
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "notifyd", version)
		return 0
	}
	if cmd != "serve" && cmd != "migrate" {
		fmt.Fprintf(stderr, "notifyd: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}

	cfg, err := config.Load(*configPath, os.Environ())
	if err != nil {
		fmt.Fprintln(stderr, "notifyd:", err)
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	switch cmd {
	case "migrate":
		err = migrate(ctx, cfg, log)
	default:
		// Key rotation reads the configuration again (keys.go).
		reload := func() (*config.Config, error) { return config.Load(*configPath, os.Environ()) }
		err = serve(ctx, cfg, *configPath, reload, log)
	}
	if err != nil {
		log.Error("notifyd stopped on an error", "err", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
