package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// openStore opens the configured database and its job queue.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.DB, *engine.Queue, error) {
	var db *store.DB
	var err error
	if cfg.Database.Kind() == config.DatabasePostgres {
		db, err = store.OpenPostgres(ctx, cfg.Database.URL)
	} else {
		db, err = store.OpenSQLite(cfg.Database.SQLitePath())
	}
	if err != nil {
		return nil, nil, err
	}
	db.SetLogger(log)
	q, err := engine.NewQueue(db, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, q, nil
}

// applyMigrations brings the store and the job queue up to date. On
// PostgreSQL, replicas starting together take turns: the first migrates,
// the others find nothing left to do.
func applyMigrations(ctx context.Context, db *store.DB, q *engine.Queue, log *slog.Logger) error {
	var n, m int
	err := db.WithMigrationLock(ctx, func() (err error) {
		if n, err = db.Migrate(ctx); err != nil {
			return err
		}
		m, err = q.Migrate(ctx)
		return err
	})
	if err != nil && db.Postgres() {
		return fmt.Errorf("migrate the database at %s (is PostgreSQL up, and database.url / NOTIFYD_DATABASE_URL right?): %w", db.Where, err)
	}
	if err != nil {
		return err
	}
	log.Info("database migrated", "database", db.Where, "store_migrations_applied", n, "queue_migrations_applied", m)
	return nil
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	db, q, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return applyMigrations(ctx, db, q, log)
}
