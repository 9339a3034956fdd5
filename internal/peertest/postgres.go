package peertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// pgCtl is Debian's PostgreSQL 15 server control program.
const pgCtl = "/usr/lib/postgresql/15/bin/pg_ctl"

// EnvTestDatabase selects the database engine of the store, engine and API
// test suites: "postgres" runs them on PostgreSQL (make test runs them on
// both); anything else, on SQLite.
const EnvTestDatabase = "NOTIFYD_TEST_DATABASE"

// EnvTestPostgresURL, when set, is the PostgreSQL server the tests make
// their databases on (a superuser's URL); otherwise a package's TestMain
// starts a private cluster (see WithPostgres).
const EnvTestPostgresURL = "NOTIFYD_TEST_POSTGRES_URL"

// OnPostgres reports whether the test suites run on PostgreSQL.
func OnPostgres() bool { return os.Getenv(EnvTestDatabase) == "postgres" }

// Postgres is a private PostgreSQL 15 cluster on a loopback port, started
// by scripts/peers/postgres.sh.
type Postgres struct {
	// Dir holds the cluster's data (Dir/data), socket and log (Dir/log).
	Dir string
	// Port is its TCP port on 127.0.0.1, the same across Stop and Start.
	Port int
	// URL is its postgres database as the superuser postgres.
	URL string
}

// StartPostgres starts a private cluster in a temporary directory; the
// test's cleanup stops it. It skips the test (fails under CI) when
// PostgreSQL 15 is not installed.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	Need(t, pgCtl)
	dir, err := os.MkdirTemp("", "notifyd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Postgres{Dir: dir, Port: FreePort(t)}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	t.Cleanup(func() {
		p.Stop(t)
		os.RemoveAll(dir)
	})
	p.Start(t)
	return p
}

// Start starts the cluster (again).
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(Script("postgres.sh"), "start", p.Dir, fmt.Sprint(p.Port)).CombinedOutput(); err != nil {
		t.Fatalf("start PostgreSQL: %v\n%s", err, out)
	}
}

// Stop stops the cluster (fast shutdown: connections are cut).
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(Script("postgres.sh"), "stop", p.Dir).CombinedOutput(); err != nil {
		t.Errorf("stop PostgreSQL: %v\n%s", err, out)
	}
}

// Database creates a new empty database on the cluster, dropped when the
// test ends, and returns its URL.
func (p *Postgres) Database(t testing.TB) string {
	t.Helper()
	return newDatabase(t, p.URL)
}

// mainURL is the server WithPostgres provides.
var mainURL atomic.Value

// WithPostgres calls run, a package's m.Run (from its TestMain), with a
// PostgreSQL server for PostgresDatabase when the suites run on
// PostgreSQL: the one EnvTestPostgresURL names, or a private cluster it
// starts before and stops after.
func WithPostgres(run func() int) int {
	if !OnPostgres() {
		return run()
	}
	if url := os.Getenv(EnvTestPostgresURL); url != "" {
		mainURL.Store(url)
		return run()
	}
	if _, err := os.Stat(pgCtl); err != nil {
		fmt.Fprintf(os.Stderr, "PEER MISSING: %s=postgres but PostgreSQL 15 is not installed (%s); run scripts/peers/install.sh\n", EnvTestDatabase, pgCtl)
		return 1
	}
	dir, err := os.MkdirTemp("", "notifyd-pg-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if out, err := exec.Command(Script("postgres.sh"), "start", dir, fmt.Sprint(port)).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "start PostgreSQL: %v\n%s", err, out)
		return 1
	}
	defer exec.Command(Script("postgres.sh"), "stop", dir).Run()
	mainURL.Store(fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	return run()
}

// PostgresDatabase creates a new empty database on the server of
// WithPostgres, dropped when the test ends, and returns its URL.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	url, _ := mainURL.Load().(string)
	if url == "" {
		t.Fatalf("no PostgreSQL server: the package's TestMain must call peertest.WithPostgres with %s=postgres", EnvTestDatabase)
	}
	return newDatabase(t, url)
}

var databaseSeq atomic.Int64

func newDatabase(t testing.TB, serverURL string) string {
	t.Helper()
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("notifyd_test_%d_%d", os.Getpid(), databaseSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", serverURL)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return replaceDatabase(serverURL, name)
}

// replaceDatabase returns url with its path (the database) set to name.
func replaceDatabase(url, name string) string {
	rest := ""
	if i := strings.IndexByte(url, '?'); i >= 0 {
		url, rest = url[:i], url[i:]
	}
	if i := strings.LastIndexByte(url, '/'); i > len("postgres://") {
		url = url[:i]
	}
	return url + "/" + name + rest
}
