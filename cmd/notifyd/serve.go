package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/sms"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/subscriptions"
)

// serve runs the service until ctx ends (SIGTERM or SIGINT), then stops
// taking connections, finishes the requests in flight and the pings being
// committed, and returns within the configured shutdown timeout.
// reload reads the configuration again, for the API keys (keys.go).
// configFile is the configuration file ("" for none).
func serve(ctx context.Context, cfg *config.Config, configFile string, reload func() (*config.Config, error), log *slog.Logger) error {
	log.Info("starting notifyd", "version", version, "config", cfg)
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	db, q, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	// The database is migrated at start (on PostgreSQL, by the first
	// replica to take the migration lock).
	if err := applyMigrations(ctx, db, q, log); err != nil {
		return err
	}
	known := func(name string) bool { _, ok := cfg.Systems[name]; return ok }
	subs := subscriptions.NewService(db, known)
	unsub, err := unsubscriber(ctx, db)
	if err != nil {
		return err
	}
	prefLinks, err := preferenceLinker(ctx, db, cfg.PreferencePage.LinkTTL)
	if err != nil {
		return err
	}
	verp, err := bounceVERP(ctx, cfg, db)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng, err := newEngine(cfg, log, db, subs, unsub, prefLinks, verp, reg)
	if err != nil {
		return err
	}
	q = eng.Queue()
	metrics := api.NewMetrics(reg)
	api.RegisterBacklog(reg, db.Backlog, log)
	api.RegisterDeadLetters(reg, db.DeadLetterCounts, log)
	db.ObserveWrites(metrics.ObserveWrite)
	// With reminders and updates off, a ping naming a calendar is refused
	// like any other href that is no principal.
	intake := engine.NewIntake(db, q, engine.CalendarPings(cfg.Reminders.Enabled || cfg.Updates.Enabled))
	publisher := engine.NewPublisher(db, q)

	keys, err := api.NewKeyring(apiKeys(cfg))
	if err != nil {
		return fmt.Errorf("API keys: %w", err)
	}
	// SIGHUP and changes of the configuration or key files rotate the
	// keys from here on.
	watcher := newKeyWatcher(keys, reload, configFile, cfg, keyPollInterval, log)
	forgetKeys(cfg) // the keyring holds their digests
	go watcher.run(ctx)
	opts := api.Options{
		Keys:           keys,
		Audit:          db,
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		Intake:         intake,
		Publisher:      publisher,
		Subscriptions:  subs,
		Deliveries:     db,
		DeadLetterLog:  db,
		Suppressions:   db,
		DeadLetters:    eng,
		Unsubscriber:   unsub,
		PreferencePage: &api.PreferencePage{Links: prefLinks, Store: db, BaseURL: publicBase(cfg)},
		Reminders:      db,
		Ready: []api.ReadyCheck{
			{Name: "database", Check: db.Ready},
			{Name: "job_queue", Check: q.Ready},
		},
		Gatherer:       reg,
		Metrics:        metrics,
		Logger:         log,
		TrustedProxies: cfg.HTTP.TrustedProxies,
	}
	if tw := cfg.Channels.Twilio; tw.AccountSID != "" {
		// Twilio signs its status callbacks for the URL notifyd gave it.
		opts.TwilioCallbacks = api.TwilioCallbacks{AuthToken: tw.AuthToken.Reveal(), URL: sms.CallbackURL(cfg), Statuses: db}
		for _, fa := range tw.FallbackAccounts {
			opts.TwilioCallbacks.FallbackAuthTokens = append(opts.TwilioCallbacks.FallbackAuthTokens, fa.AuthToken.Reveal())
		}
	}
	for name, sys := range cfg.Systems {
		opts.Systems = append(opts.Systems, api.System{Name: name, Tokens: reveal(sys.Tokens), PrincipalPrefix: sys.PrincipalPrefix})
	}
	apiHandler, err := api.New(opts)
	if err != nil {
		return err
	}
	handler, err := withConsole(ctx, cfg, log, db, subs, eng, keys, apiHandler)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (http.addr / NOTIFYD_HTTP_ADDR): %w", cfg.HTTP.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadHeaderTimeout + 30*time.Second,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Bounce reports mark their deliveries and suppress hard-bounced
	// addresses; complaints suppress theirs (recordReports).
	reports := recordReports(db, log.With("component", "bounces"), newReportMetrics(reg))
	bounces, err := startBounceListener(cfg, verp, reports, log)
	if err != nil {
		_ = ln.Close()
		intake.Close()
		publisher.Close()
		return err
	}
	pollBounceMailbox(ctx, cfg, verp, reports, log)
	if cfg.Jobs.Run {
		if err := eng.Start(ctx); err != nil {
			if bounces != nil {
				_ = bounces.Close()
			}
			return fmt.Errorf("start the job workers: %w", err)
		}
	} else {
		log.Warn("jobs.run is false: this process takes pings and API calls only; queued syncs and deliveries wait for a process that runs the jobs")
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("notifyd is serving", "addr", ln.Addr().String(), "database", db.Where)

	select {
	case err := <-served:
		if bounces != nil {
			_ = bounces.Close()
		}
		intake.Close()
		publisher.Close()
		if cfg.Jobs.Run {
			eng.Stop(context.Background())
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; finishing requests in flight", "timeout", cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if bounces != nil {
		if berr := bounces.Shutdown(sctx); berr != nil {
			log.Warn("bounce listener: sessions still open at the shutdown timeout were cut; their senders retry", "err", berr)
		}
	}
	intake.Close()
	publisher.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown timeout reached with requests still in flight; their clients get no answer and should retry")
	}
	// Jobs still running when the bound is reached are cancelled and run
	// again after a restart.
	if cfg.Jobs.Run {
		if err := eng.Stop(sctx); err != nil {
			log.Warn("job workers stopped with jobs unfinished; they run again at the next start", "err", err)
		}
	}
	log.Info("notifyd stopped")
	return nil
}

func reveal(secrets []config.Secret) []string {
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = s.Reveal()
	}
	return out
}
