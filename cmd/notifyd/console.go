package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/console"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// withConsole mounts the operator console under /console/ in front of
// the API when console.enabled; otherwise it returns api unchanged.
func withConsole(ctx context.Context, cfg *config.Config, log *slog.Logger, db *store.DB, subs *subscriptions.Service,
	eng *engine.Engine, api http.Handler) (http.Handler, error) {
	if !cfg.Console.Enabled {
		return api, nil
	}
	key, err := db.SettingOrInit(ctx, "console_session_key", func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("console session key: %w", err)
	}
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("console session key in the database is damaged; delete the settings row 'console_session_key' to make a new one (every console session ends)")
	}
	preview, err := console.NewPreviewer(cfg.Channels.SMTP.TemplatesDir, cfg.Channels.Twilio.MaxSegments)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	systems := slices.Sorted(maps.Keys(cfg.Systems))
	var retrier console.Retrier
	if cfg.Jobs.Run {
		retrier = eng
	}
	c, err := console.New(console.Options{
		Authenticate:  apiKeyIdentities(reveal(cfg.APIKeys)),
		Systems:       systems,
		Store:         db,
		Backlog:       db.Backlog,
		Subscriptions: subs,
		Retrier:       retrier,
		Previewer:     preview,
		SessionKey:    raw,
		Secure:        strings.HasPrefix(strings.ToLower(cfg.HTTP.PublicURL), "https://"),
		IdleTimeout:   cfg.Console.IdleTimeout,
		Lifetime:      cfg.Console.SessionLifetime,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, c)
	mux.Handle("GET /console", http.RedirectHandler(console.Prefix, http.StatusMovedPermanently))
	mux.Handle("/", api)
	log.Info("console enabled", "url", publicBase(cfg)+console.Prefix)
	return mux, nil
}

// apiKeyIdentities authenticates the console's sign-ins with the API keys
// of api_keys: each is an admin of every system, named key-1, key-2… in
// its order (the names the audit trail gives them). It compares the
// key's digest with every key's, in constant time.
func apiKeyIdentities(keys []string) func(string) (console.Identity, bool) {
	var digests [][sha256.Size]byte
	for _, k := range keys {
		if k != "" {
			digests = append(digests, sha256.Sum256([]byte(k)))
		}
	}
	return func(key string) (console.Identity, bool) {
		d := sha256.Sum256([]byte(key))
		found := -1
		for i := range digests {
			found = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(d[:], digests[i][:]), i, found)
		}
		if found < 0 {
			return console.Identity{}, false
		}
		return console.Identity{Name: "key-" + strconv.Itoa(found+1), Role: console.RoleAdmin}, true
	}
}
