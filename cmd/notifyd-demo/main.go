// Command notifyd-demo shows notifyd at work in two minutes (make demo):
// it starts the peers the end-to-end tests use (Cyrus IMAP with the users
// fred, wilma and betty, and the SMTP sink), a notifyd configured for them
// with the console on and an admin key it makes up, has fred share his
// calendar with wilma (Cyrus puts a sharing invitation in wilma's
// notification collection and pings notifyd, which emails wilma), puts an
// event with an alarm in wilma's calendar a few minutes ahead, and prints
// where to look. Ctrl-C (or SIGTERM) stops everything it started and
// removes its temporary directory.
//
// It needs root (Cyrus's master drops to the cyrus user) and the peers
// installed (scripts/peers/install.sh cyrus smtp; make demo runs it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("notifyd", "", "the notifyd binary to run (empty: build ./cmd/notifyd into the demo's temporary directory)")
	reminderIn := flag.Duration("reminder-in", 2*time.Minute, "when wilma's reminder rings (its event starts 5 minutes later); 0: no reminder")
	flag.Parse()

	// Signals first: a Ctrl-C while the peers start also stops those
	// already started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	d := &demo{bin: *bin, reminderIn: *reminderIn, log: logger, out: os.Stdout}
	err := d.run(ctx)
	if cerr := d.close(); cerr != nil {
		logger.Error("stopping the demo", "err", cerr)
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		logger.Error("demo", "err", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, "Stopped notifyd, Cyrus and the SMTP sink; removed", d.dir)
}

// run starts everything, prints where to look, reports wilma's messages
// as notifyd sends them, and returns when ctx ends (nil) or notifyd exits
// (an error).
func (d *demo) run(ctx context.Context) error {
	if err := d.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while starting: close stops what started
		}
		return err
	}
	d.printWelcome()
	go d.watchDeliveries(ctx)
	select {
	case <-ctx.Done():
		fmt.Fprintln(d.out, "\nStopping…")
		return nil
	case err := <-d.exited:
		d.exited = nil
		return fmt.Errorf("notifyd exited: %v (its log: %s)", err, tail(d.logPath(), 20))
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' && i < len(b)-1 {
			if lines++; lines == n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
