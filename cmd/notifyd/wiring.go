package main

import (
	"context"
	"log/slog"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// openStore opens the configured database and its job queue.
func openStore(cfg *config.Config, log *slog.Logger) (*store.DB, *engine.Queue, error) {
	if cfg.Database.Kind() != config.DatabaseSQLite {
		return nil, nil, errPostgres
	}
	db, err := store.OpenSQLite(cfg.Database.SQLitePath())
	if err != nil {
		return nil, nil, err
	}
	q, err := engine.NewQueue(db, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, q, nil
}

// applyMigrations brings the store and the job queue up to date.
func applyMigrations(ctx context.Context, db *store.DB, q *engine.Queue, log *slog.Logger) error {
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	m, err := q.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("database migrated", "path", db.Path, "store_migrations_applied", n, "queue_migrations_applied", m)
	return nil
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	db, q, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return applyMigrations(ctx, db, q, log)
}
