package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/config"
)

// keyPollInterval is how often the key files are checked for a change.
const keyPollInterval = 5 * time.Second

// apiKeys are the API keys of cfg: those of api_keys (admin keys of every
// system, key-1, key-2...), then named_api_keys.
func apiKeys(cfg *config.Config) []api.Key {
	keys := api.LegacyKeys(reveal(cfg.APIKeys))
	for _, k := range cfg.NamedAPIKeys {
		keys = append(keys, api.Key{Name: k.Name, Secret: k.Key.Reveal(), Role: api.Role(k.Role), Systems: k.Systems})
	}
	return keys
}

// forgetKeys drops the plaintext keys from cfg once the keyring holds
// their digests, so that the process keeps no reference to them (Go
// cannot wipe memory: the garbage collector reclaims it).
func forgetKeys(cfg *config.Config) {
	cfg.APIKeys = nil
	for i := range cfg.NamedAPIKeys {
		cfg.NamedAPIKeys[i].Key = ""
	}
}

// keyWatcher rotates the API keys without a restart: on SIGHUP, and
// when one of the files they come from changes (a stat poll every
// interval: size, modification time or the file itself, as when a
// secret manager swaps a symlink), it reads the configuration again and
// makes its API keys the accepted ones. If the configuration or its keys
// are not valid, the current keys stay and the log says what to fix.
// Other settings need a restart.
type keyWatcher struct {
	keys *api.Keyring
	load func() (*config.Config, error)
	// configFile is the configuration file ("" for none); files are it
	// and the key files, as stat'ed in seen.
	configFile string
	files      []string
	seen       []fileStat
	interval   time.Duration
	log        *slog.Logger
	hup        chan os.Signal
}

// newKeyWatcher starts taking SIGHUP and notes the files of cfg (the
// configuration the keys were loaded from) as they are now: a change
// from here on rotates the keys once run runs.
func newKeyWatcher(keys *api.Keyring, load func() (*config.Config, error), configFile string, cfg *config.Config,
	interval time.Duration, log *slog.Logger) *keyWatcher {
	w := &keyWatcher{keys: keys, load: load, configFile: configFile, interval: interval, log: log,
		hup: make(chan os.Signal, 1)}
	w.files = w.watched(cfg)
	w.seen = statFiles(w.files)
	signal.Notify(w.hup, syscall.SIGHUP)
	return w
}

// run reloads the keys when told to, until ctx ends.
func (w *keyWatcher) run(ctx context.Context) {
	defer signal.Stop(w.hup)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-w.hup:
			why = "SIGHUP"
		case <-tick.C:
			if slices.EqualFunc(statFiles(w.files), w.seen, sameStat) {
				continue
			}
			why = "a key file changed"
		}
		w.reload(why)
	}
}

// reload makes the keys of the configuration as it is now the accepted
// ones, if they are valid.
func (w *keyWatcher) reload(why string) {
	// The files are noted before they are read: a change while they are
	// read is seen at the next poll.
	w.seen = statFiles(w.files)
	cfg, err := w.load()
	if err != nil {
		w.log.Error("API keys not reloaded: the configuration has problems; the current keys stay in use until they are fixed",
			"trigger", why, "err", err)
		return
	}
	defer forgetKeys(cfg)
	if err := w.keys.Replace(apiKeys(cfg)); err != nil {
		w.log.Error("API keys not reloaded: fix the keys; the current keys stay in use", "trigger", why, "err", err)
		return
	}
	w.log.Info("API keys reloaded", "trigger", why, "keys", w.keys.Names())
	if files := w.watched(cfg); !slices.Equal(files, w.files) {
		w.files, w.seen = files, statFiles(files)
	}
}

// watched are the files the keys of cfg come from.
func (w *keyWatcher) watched(cfg *config.Config) []string {
	var files []string
	if w.configFile != "" {
		files = append(files, w.configFile)
	}
	return append(files, cfg.KeyFiles()...)
}

// fileStat is what the poll compares of a key file (nil info: missing).
type fileStat struct {
	info os.FileInfo
}

func statFiles(files []string) []fileStat {
	out := make([]fileStat, len(files))
	for i, f := range files {
		out[i].info, _ = os.Stat(f)
	}
	return out
}

func sameStat(a, b fileStat) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}
