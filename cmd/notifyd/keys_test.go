package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/config"
)

// A key file changed on disk rotates the key without a restart; a broken
// configuration keeps the keys in use.
func TestKeyFileRotation(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ops.key")
	cfgFile := filepath.Join(dir, "notifyd.yaml")
	write := func(name, content string) {
		t.Helper()
		// A new file swapped in, as secret managers do.
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil {
			t.Fatal(err)
		}
	}
	write(keyFile, "first-key-0123456789\n")
	write(cfgFile, "named_api_keys:\n  - {name: ops, key_file: ops.key, role: operator}\n")
	load := func() (*config.Config, error) { return config.Load(cfgFile, nil) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	logged := make(chan string, 100)
	keys, err := api.NewKeyring(apiKeys(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if files := cfg.KeyFiles(); len(files) != 1 || files[0] != keyFile {
		t.Fatalf("key files %q", files)
	}
	w := newKeyWatcher(keys, load, cfgFile, cfg, time.Millisecond, slog.New(chanHandler{logged}))
	forgetKeys(cfg)
	if cfg.NamedAPIKeys[0].Key != "" {
		t.Fatal("the configuration keeps the key")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.run(ctx)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 30s", what)
			}
			// A poll of a condition, no duration asserted: the 30 s bound
			// is only how long a broken reload may take to be reported.
			// The watcher's own stat poll has no event to wait on.
			time.Sleep(time.Millisecond)
		}
	}
	works := func(key string) func() bool {
		return func() bool { _, ok := keys.Lookup(key); return ok }
	}
	if !works("first-key-0123456789")() {
		t.Fatal("first key refused")
	}
	write(keyFile, "second-key-0123456789\n")
	waitFor("the second key", works("second-key-0123456789"))
	if works("first-key-0123456789")() {
		t.Error("the first key still works after the rotation")
	}
	// A configuration with problems: the keys in use stay.
	for len(logged) > 0 {
		<-logged
	}
	write(cfgFile, "named_api_keys:\n  - {name: ops, key_file: ops.key, role: superuser}\n")
	for msg := range logged {
		if strings.HasPrefix(msg, "API keys not reloaded") {
			break
		}
	}
	if !works("second-key-0123456789")() {
		t.Error("the second key stopped working on a broken configuration")
	}
	// Fixed (the configuration file is watched too): taken.
	write(keyFile, "third-key-0123456789\n")
	write(cfgFile, "named_api_keys:\n  - {name: ops, key_file: ops.key, role: viewer}\n")
	waitFor("the third key", works("third-key-0123456789"))
	if a, _ := keys.Lookup("third-key-0123456789"); a.Role != api.RoleViewer {
		t.Errorf("role %q after the reload, want viewer", a.Role)
	}
}

// chanHandler sends each log message to a channel.
type chanHandler struct{ c chan<- string }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.c <- r.Message:
	default:
	}
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }
