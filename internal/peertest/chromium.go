package peertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium (package chromium), which
// scripts/peers/install.sh installs.
const ChromiumPath = "/usr/bin/chromium"

// Chromium starts a headless Chromium of its own (a fresh profile in a
// temporary directory) and returns a browser context to drive it with
// chromedp; Chromium stops when the test ends. Like every peer, a missing
// Chromium fails the test under CI and skips it elsewhere. As root (the
// test machines), Chromium's sandbox cannot start: it runs with
// --no-sandbox there, which is safe for pages the test itself serves.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	Need(t, ChromiumPath)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	// Start the browser now, so that a broken install fails here. (No
	// timeout: the first call's context would stop the browser with it.)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}
