package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/store"
)

// bounceVERP makes the per-delivery envelope senders when
// channels.smtp.bounce_domain is set (nil otherwise), keyed by a key
// notifyd generates once and keeps in its database (settings row
// bounce_key), so bounce addresses stay valid across restarts and
// replicas.
func bounceVERP(ctx context.Context, cfg *config.Config, db *store.DB) (*bounce.VERP, error) {
	domain := cfg.Channels.SMTP.BounceDomain
	if domain == "" {
		return nil, nil
	}
	key, err := db.SettingOrInit(ctx, "bounce_key", func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("bounce key: %w", err)
	}
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("bounce key in the database is damaged; delete the settings row 'bounce_key' to make a new one (bounces of mail sent before are then refused)")
	}
	v, err := bounce.NewVERP("", domain, raw)
	if err != nil {
		return nil, fmt.Errorf("channels.smtp.bounce_domain: %w", err)
	}
	return v, nil
}

// startBounceListener runs the inbound SMTP server for bounce reports
// and complaints when channels.smtp.bounce_listener.addr is set (nil
// otherwise); each report goes to handle.
func startBounceListener(cfg *config.Config, verp *bounce.VERP, handle bounce.Handler, log *slog.Logger) (*bounce.Listener, error) {
	addr := cfg.Channels.SMTP.BounceListener.Addr
	if addr == "" || verp == nil {
		return nil, nil
	}
	l, err := bounce.Listen(bounce.ListenerOptions{Addr: addr, VERP: verp, Handle: handle, Logger: log.With("component", "bounces")})
	if err != nil {
		return nil, fmt.Errorf("channels.smtp.bounce_listener.addr: %w", err)
	}
	go func() {
		if err := l.Serve(); err != nil {
			log.Error("bounce listener stopped", "err", err)
		}
	}()
	log.Info("bounce listener ready", "addr", l.Addr().String(), "domain", verp.Domain(), "feedback_address", verp.FeedbackAddress())
	return l, nil
}

// pollBounceMailbox reads bounce reports from the IMAP mailbox of
// channels.smtp.bounce_mailbox, at once and then every poll_interval,
// until ctx ends; nothing when its addr is empty.
func pollBounceMailbox(ctx context.Context, cfg *config.Config, verp *bounce.VERP, handle bounce.Handler, log *slog.Logger) {
	mb := cfg.Channels.SMTP.BounceMailbox
	if mb.Addr == "" || verp == nil {
		return
	}
	log = log.With("component", "bounces", "imap", mb.Addr, "mailbox", mb.Mailbox)
	opts := bounce.MailboxOptions{Addr: mb.Addr, TLS: mb.TLS, Username: mb.Username, Password: mb.Password.Reveal(),
		Mailbox: mb.Mailbox, VERP: verp, Handle: handle, Logger: log}
	log.Info("reading bounce reports from a mailbox", "every", mb.PollInterval.String())
	go func() {
		t := time.NewTicker(mb.PollInterval)
		defer t.Stop()
		for {
			if n, err := bounce.PollMailbox(ctx, opts); err != nil && ctx.Err() == nil {
				log.Warn("reading the bounce mailbox failed; trying again at the next poll", "err", err, "handled", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}
