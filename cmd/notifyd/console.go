package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/console"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// withConsole mounts the operator console under /console/ in front of
// the API when console.enabled; otherwise it returns api unchanged.
func withConsole(ctx context.Context, cfg *config.Config, log *slog.Logger, db *store.DB, subs *subscriptions.Service,
	eng *engine.Engine, keys *api.Keyring, apiHandler http.Handler) (http.Handler, error) {
	if !cfg.Console.Enabled {
		return apiHandler, nil
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
		Authenticate:  consoleIdentities(keys),
		Audit:         consoleAudit,
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
	mux.Handle("/", apiHandler)
	log.Info("console enabled", "url", publicBase(cfg)+console.Prefix)
	return mux, nil
}

// consoleIdentities authenticates the console's sign-ins with the API
// keys of keys (rotated with them): a key's name, role and systems are
// the console identity's.
func consoleIdentities(keys *api.Keyring) func(string) (console.Identity, bool) {
	return func(key string) (console.Identity, bool) {
		a, ok := keys.Lookup(key)
		if !ok {
			return console.Identity{}, false
		}
		return console.Identity{Name: a.Name, Role: console.Role(a.Role), Systems: a.Systems}, true
	}
}

// consoleAudit records the console's changes in the audit trail as made
// by the signed-in key, as the API records its own.
func consoleAudit(ctx context.Context, who console.Identity) context.Context {
	return store.WithAudit(ctx, store.Audit{Actor: store.AuditActor{Kind: store.ActorKindAPIKey, Name: who.Name}})
}
