// Package store keeps notifyd's state in a SQL database: the embedded
// SQLite file by default, or PostgreSQL for several replicas. Its queries
// are portable SQL with $N parameters, the same on both; its migrations
// are embedded in the binary and applied with goose.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/notifyd/notifyd"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is notifyd's database handle. Every write goes through Write (or
// Persist, Flush), which decides how it is made durable; reads use the
// read pool.
type DB struct {
	// writer is the write pool: on SQLite one connection, shared with the
	// job queue, for every write. SQLite takes one writer at a time; with a
	// single connection, writers wait their turn in Go's pool (woken the
	// moment it is free) rather than in SQLite's busy handler, which sleeps
	// for milliseconds at a time.
	writer *sql.DB
	// reader is a pool of read-only connections for queries; in WAL mode
	// they run alongside the writer. On PostgreSQL it is writer.
	reader *sql.DB
	// path is the SQLite file ("" on PostgreSQL).
	path string
	// pool is the PostgreSQL connection pool (nil on SQLite), which writer
	// and reader share.
	pool *pgxpool.Pool
	// Where names the database for logs: the SQLite file, or the
	// PostgreSQL server and database without credentials.
	Where  string
	goose  *goose.Provider
	writes *groupCommit
	log    *slog.Logger
}

// newDB completes a DB opened on writer and reader.
func newDB(writer, reader *sql.DB, path string, pool *pgxpool.Pool, where string, prov *goose.Provider) *DB {
	db := &DB{writer: writer, reader: reader, path: path, pool: pool, Where: where, goose: prov, log: slog.Default()}
	db.writes = &groupCommit{db: db, max: 1, flush: db.syncWAL}
	if pool != nil {
		db.writes.max = postgresWriters
	}
	return db
}

// SetLogger sets where the store logs what it retries (default
// slog.Default()). Call it before the first write.
func (db *DB) SetLogger(l *slog.Logger) { db.log = l }

// ObserveWrites makes observe be told about every shared write
// transaction. Call it before the first write.
func (db *DB) ObserveWrites(observe func(WriteStats)) { db.writes.observe = observe }

// JobQueueConns returns the connections the job queue's drivers run on:
// the write pool and, on PostgreSQL, the pgx pool it wraps (nil on
// SQLite). Jobs are inserted in Write's transactions; only the job queue's
// own bookkeeping (fetching, completing, maintenance) uses these directly.
func (db *DB) JobQueueConns() (*sql.DB, *pgxpool.Pool) { return db.writer, db.pool }

// Postgres reports whether the database is PostgreSQL.
func (db *DB) Postgres() bool { return db.pool != nil }

// OpenSQLite opens (creating if needed) the SQLite database file at path in
// WAL mode. It does not migrate.
//
// Durability: SQLite runs with synchronous=NORMAL, so a commit writes the
// transaction to the write-ahead log without waiting for the disk, and
// Write then flushes the log itself before it reports a Durable write as
// done. That is as durable as synchronous=FULL, and it lets one
// transaction be flushed while the next is written.
func OpenSQLite(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	common := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	sqldb, err := sql.Open(SQLiteDriver, common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxIdleTime(0)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: %w%s", path, err, whyNotWritable(filepath.Dir(path)))
	}
	readdb, err := sql.Open(SQLiteDriver, common+"&_pragma=query_only(1)")
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	readdb.SetMaxOpenConns(4)
	readdb.SetMaxIdleConns(4)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		sqldb.Close()
		readdb.Close()
		return nil, err
	}
	prov, err := goose.NewProvider(goose.DialectSQLite3, sqldb, sub)
	if err != nil {
		sqldb.Close()
		readdb.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return newDB(sqldb, readdb, path, nil, path, prov), nil
}

// whyNotWritable explains, when dir cannot take a new file (a read-only
// file system, permissions, a full disk), why SQLite could not open its
// database there; otherwise it returns "".
func whyNotWritable(dir string) string {
	f, err := os.CreateTemp(dir, ".notifyd-write-check-*")
	if err == nil {
		f.Close()
		os.Remove(f.Name())
		return ""
	}
	return fmt.Sprintf(" (the data directory %s cannot be written: %v; make it writable, free space, or set database.data_dir)", dir, errors.Unwrap(err))
}

// Close closes the connection pools.
func (db *DB) Close() error {
	var rerr error
	if db.reader != db.writer {
		rerr = db.reader.Close()
	}
	err := db.writer.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return errors.Join(err, rerr)
}

// Migrate applies every pending migration and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	res, err := db.goose.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// Ready reports an error unless the database answers and every embedded
// migration has been applied.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	pending, err := db.goose.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read migration state: %w", err)
	}
	if pending {
		return errors.New("migrations pending: run `notifyd migrate`")
	}
	return nil
}

// syncWAL flushes SQLite's write-ahead log to stable storage, making every
// transaction committed before the call durable. If the log is gone, the
// last connection checkpointed it into the database file and synced that.
// (Concurrent calls run their flushes concurrently, which the kernel
// overlaps; making callers share one flush measured slower.) On PostgreSQL
// it does nothing: its commits are durable.
func (db *DB) syncWAL() error {
	if db.pool != nil {
		return nil
	}
	f, err := os.OpenFile(db.path+"-wal", os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: open write-ahead log: %v", notifyd.ErrUnavailable, err)
	}
	defer f.Close()
	if err := datasync(f); err != nil {
		return fmt.Errorf("%w: sync write-ahead log: %v", notifyd.ErrUnavailable, err)
	}
	return nil
}

// Classify wraps database errors that a retry later may cure in
// notifyd.ErrUnavailable and returns the others unchanged.
func Classify(err error) error {
	if err == nil || errors.Is(err, notifyd.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed") {
		return fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
	}
	if classifyPostgres(err) {
		return fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOMEM:
			return fmt.Errorf("%w: %v", notifyd.ErrUnavailable, err)
		}
	}
	return err
}

// micros converts t to the unix microseconds the schema stores.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts stored unix microseconds back to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
