package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/delivery/im"
	"github.com/notifyd/notifyd/delivery/sms"
	"github.com/notifyd/notifyd/delivery/webhook"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// channelFactories are the delivery channels, one per notifyd.Channels
// entry (TestEveryChannelIsWired checks it).
var channelFactories = map[notifyd.Channel]delivery.Factory{
	notifyd.ChannelEmail:   email.FromConfig,
	notifyd.ChannelSMS:     sms.FromConfig,
	notifyd.ChannelIM:      im.FromConfig,
	notifyd.ChannelWebhook: webhook.FromConfig,
}

// newEngine builds the engine: a CalDAV client per system and every
// channel that is configured.
func newEngine(cfg *config.Config, log *slog.Logger, db *store.DB, subs *subscriptions.Service,
	unsub *subscriptions.Unsubscriber, prefLinks *subscriptions.PreferenceLinker, verp *bounce.VERP, reg prometheus.Registerer) (*engine.Engine, error) {
	var systems []engine.System
	for name, sys := range cfg.Systems {
		client, err := caldavclient.New(caldavclient.Config{
			BaseURL: sys.CalDAVURL, Username: sys.Username, Password: sys.Password.Reveal(),
			BearerToken: sys.BearerToken.Reveal(), Timeout: sys.Timeout, InsecureSkipVerify: sys.InsecureSkipVerify,
			UserAgent: "notifyd/" + version, MaxConnections: sys.MaxConnections,
			Logger: log.With("system", name),
		})
		if err != nil {
			return nil, fmt.Errorf("systems.%s: %w", name, err)
		}
		systems = append(systems, engine.System{Name: name, CalDAV: client, AfterDelivery: sys.AfterDelivery, Policy: new(sys.Policy())})
	}
	channels := make(map[notifyd.Channel]delivery.Channel)
	for _, name := range notifyd.Channels {
		ch, err := channelFactories[name](cfg, log)
		if err != nil {
			return nil, fmt.Errorf("channels: %s: %w", name, err)
		}
		if ch != nil {
			channels[name] = ch
			if c, ok := ch.(prometheus.Collector); ok && reg != nil {
				reg.MustRegister(c)
			}
			if w, ok := ch.(delivery.AddressWatcher); ok {
				w.WatchAddresses(func(ctx context.Context) ([]string, error) { return db.MethodAddresses(ctx, name) })
			}
		}
	}
	if ec, ok := channels[notifyd.ChannelEmail].(*email.Channel); ok && verp != nil {
		ec.UseVERP(verp) // bounces name their delivery
	}
	base := publicBase(cfg)
	r := cfg.Reminders
	grace := make(map[notifyd.Channel]time.Duration, len(notifyd.Channels))
	for _, ch := range notifyd.Channels {
		grace[ch] = r.Grace.For(ch)
	}
	return engine.New(engine.Options{
		DB: db, Logger: log, Systems: systems, Subscriptions: subs, Channels: channels,
		SyncWorkers: cfg.Jobs.SyncWorkers, DeliveryWorkers: cfg.Jobs.DeliveryWorkers, PollInterval: cfg.Jobs.PollInterval,
		RetryBase: cfg.Jobs.RetryBase, RetryMax: cfg.Jobs.RetryMax, MaxAttempts: cfg.Jobs.MaxAttempts, MaxAge: cfg.Jobs.MaxAge,
		JobTimeout: cfg.Jobs.Timeout, RescueAfter: cfg.Jobs.RescueAfter,
		Reminders: engine.ReminderOptions{Enabled: r.Enabled, PollInterval: r.PollInterval, Horizon: r.Horizon,
			MinInterval: r.MinInterval, Grace: grace},
		Updates:    engine.UpdateOptions{Enabled: cfg.Updates.Enabled, BurstWindow: cfg.Updates.BurstWindow},
		Retention:  retention(cfg.Retention),
		Registerer: reg,
		// The embedded database belongs to this process alone.
		OwnsQueue: cfg.Database.Kind() == config.DatabaseSQLite,
		UnsubscribeURL: func(subID string, method notifyd.DeliveryMethod) string {
			return base + "/v1/unsubscribe/" + unsub.Token(subID, method)
		},
		PreferencesURL: preferencesURL(base, prefLinks, cfg.PreferencePage.SMSAndIMLink),
	})
}

// publicBase is the base URL of the links in messages: http.public_url,
// else http:// and http.addr.
func publicBase(cfg *config.Config) string {
	if base := strings.TrimSuffix(cfg.HTTP.PublicURL, "/"); base != "" {
		return base
	}
	return "http://" + cfg.HTTP.Addr
}

// unsubscriber signs unsubscribe links with a key notifyd generates once
// and keeps in its database, so links stay valid across restarts.
func unsubscriber(ctx context.Context, db *store.DB) (*subscriptions.Unsubscriber, error) {
	key, err := db.SettingOrInit(ctx, "unsubscribe_key", func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe key: %w", err)
	}
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("unsubscribe key in the database is damaged; delete the settings row 'unsubscribe_key' to make a new one (old links stop working)")
	}
	// Links made before tokens expired (version 1) work for one
	// lifetime after the first start that makes version 2 ones.
	v1, err := db.SettingOrInit(ctx, "unsubscribe_v1_links_until", func() string {
		return time.Now().Add(subscriptions.LinkLifetime).UTC().Format(time.RFC3339)
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe links: %w", err)
	}
	v1Until, err := time.Parse(time.RFC3339, v1)
	if err != nil {
		return nil, fmt.Errorf("the settings row 'unsubscribe_v1_links_until' is damaged (%q): delete it", v1)
	}
	return subscriptions.NewUnsubscriber(raw, subscriptions.AcceptV1LinksUntil(v1Until)), nil
}

// preferencesURL builds the preference links of messages: every email's,
// and SMS and IM messages' when smsAndIM (webhooks carry none).
func preferencesURL(base string, links *subscriptions.PreferenceLinker, smsAndIM bool) func(string, notifyd.DeliveryMethod) string {
	return func(subID string, method notifyd.DeliveryMethod) string {
		switch {
		case method.Channel == notifyd.ChannelEmail:
		case smsAndIM && (method.Channel == notifyd.ChannelSMS || method.Channel == notifyd.ChannelIM):
		default:
			return ""
		}
		token, _ := links.Token(subID)
		if token == "" {
			return ""
		}
		return base + "/preferences/" + token
	}
}

// preferenceLinker signs preference links with a key notifyd generates
// once and keeps in its database (its own, not the unsubscribe key), so
// links stay valid across restarts and replicas.
func preferenceLinker(ctx context.Context, db *store.DB, ttl time.Duration) (*subscriptions.PreferenceLinker, error) {
	key, err := db.SettingOrInit(ctx, "preference_link_key", func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("preference link key: %w", err)
	}
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("preference link key in the database is damaged; delete the settings row 'preference_link_key' to make a new one (old links stop working)")
	}
	return subscriptions.NewPreferenceLinker(raw, ttl, nil), nil
}
