package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationLockID is the PostgreSQL advisory lock that replicas starting
// together take around all their migrations (the store's and the job
// queue's), so that exactly one of them migrates and the others then find
// nothing to do.
const migrationLockID int64 = 0x6e6f74696679 // "notify"

// OpenPostgres connects to the PostgreSQL database at url
// ("postgres://user:pass@host:port/db?…"). It does not migrate. The same
// queries as on SQLite serve it.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, password included.
		return nil, errors.New("database.url is not a valid PostgreSQL URL (postgres://user:password@host:port/database)")
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redact(cfg), err)
	}
	// database/sql keeps no idle connection of its own (OpenDBFromPool's
	// default): every connection it is done with goes back to the pool that
	// River's client also draws from. Idle connections held by database/sql
	// once took the whole pool after a burst (a PostgreSQL restart), and
	// River, unable to fetch, complete or listen, stopped for good.
	sqldb := stdlib.OpenDBFromPool(pool)
	sqldb.SetMaxOpenConns(int(cfg.MaxConns))
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		pool.Close()
		return nil, err
	}
	prov, err := goose.NewProvider(goose.DialectPostgres, sqldb, sub, goose.WithSessionLocker(locker))
	if err != nil {
		sqldb.Close()
		pool.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return newDB(sqldb, sqldb, "", pool, redact(cfg), prov), nil
}

// redact names the server and database of cfg without credentials.
func redact(cfg *pgxpool.Config) string {
	return fmt.Sprintf("postgres://%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// WithMigrationLock runs fn while holding the cluster-wide migration lock
// (PostgreSQL); on SQLite, which one process owns, it just runs fn.
func (db *DB) WithMigrationLock(ctx context.Context, fn func() error) error {
	if db.pool == nil {
		return fn()
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return Classify(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return fmt.Errorf("take the migration lock: %w", Classify(err))
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID)
	return fn()
}

// classifyPostgres reports whether err means PostgreSQL cannot serve now
// but may soon: the connection failed or broke, the server is shutting
// down, starting or out of resources (disk full), or the transaction lost
// a serialization or deadlock race and can simply run again.
func classifyPostgres(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources (disk full, out of memory, too many connections)
			strings.HasPrefix(pe.Code, "57P"),      // admin shutdown, crash shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock
			pe.Code == "25006": // read-only transaction (a standby after failover)
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}
