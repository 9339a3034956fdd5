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

// DB is notifyd's database handle.
type DB struct {
	// SQL is the writer: one connection, shared with the job queue, for
	// every write. SQLite takes one writer at a time; with a single
	// connection, writers wait their turn in Go's pool (woken the moment
	// it is free) rather than in SQLite's busy handler, which sleeps for
	// milliseconds at a time.
	SQL *sql.DB
	// Read is a pool of read-only connections for queries; in WAL mode
	// they run alongside the writer.
	Read *sql.DB
	// Path is the SQLite file ("" on PostgreSQL).
	Path string
	// Pool is the PostgreSQL connection pool (nil on SQLite), which SQL
	// and Read share.
	Pool *pgxpool.Pool
	// Where names the database for logs: the SQLite file, or the
	// PostgreSQL server and database without credentials.
	Where string
	goose *goose.Provider
}

// Postgres reports whether the database is PostgreSQL.
func (db *DB) Postgres() bool { return db.Pool != nil }

// OpenSQLite opens (creating if needed) the SQLite database file at path in
// WAL mode. It does not migrate.
//
// Durability: SQLite runs with synchronous=NORMAL, so a commit writes the
// transaction to the write-ahead log without waiting for the disk, and
// notifyd itself then calls SyncWAL before it reports the write as done
// (InTx does so for every write). That is as durable as synchronous=FULL,
// and it lets the ping intake fsync one batch while it writes the next.
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
	return &DB{SQL: sqldb, Read: readdb, Path: path, Where: path, goose: prov}, nil
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
	rerr := db.Read.Close()
	err := db.SQL.Close()
	if db.Pool != nil {
		db.Pool.Close()
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
	if err := db.Read.PingContext(ctx); err != nil {
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

// InTx runs fn in a write transaction and, if fn returns nil, commits it
// and makes it durable (SyncWAL) before returning. Errors that mean the
// database cannot take writes now (disk full, read-only, I/O error, locked
// for too long, PostgreSQL unreachable) are wrapped in
// notifyd.ErrUnavailable.
func (db *DB) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := db.CommitTx(ctx, fn); err != nil {
		return err
	}
	return db.SyncWAL()
}

// CommitTx runs fn in a write transaction and commits it if fn returns
// nil, WITHOUT waiting for SQLite's disk: the caller must call SyncWAL
// before it reports the write as done. (A PostgreSQL commit is durable by
// itself.) Errors are classified as in InTx.
func (db *DB) CommitTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return Classify(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return Classify(err)
	}
	return Classify(tx.Commit())
}

// SyncWAL flushes SQLite's write-ahead log to stable storage, making every
// transaction committed before the call durable. If the log is gone, the
// last connection checkpointed it into the database file and synced that.
// (Concurrent calls run their flushes concurrently, which the kernel
// overlaps; making callers share one flush measured slower.) On PostgreSQL
// it does nothing: its commits are durable.
func (db *DB) SyncWAL() error {
	if db.Pool != nil {
		return nil
	}
	f, err := os.OpenFile(db.Path+"-wal", os.O_RDWR, 0)
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
