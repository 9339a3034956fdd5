package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCached(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(SQLiteDriver, "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := db.Exec(`INSERT INTO t (id, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// The same query run again while its rows are still open (a nested loop)
// gets a statement of its own; both read their own results.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	db := openCached(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT id FROM t WHERE id >= $1 ORDER BY id`
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var id int
		outer.Scan(&id)
		inner, err := conn.QueryContext(ctx, q, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		inner.Close()
		got = append(got, fmt.Sprint(id, ":", n))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[1:3 2:2 3:1]" {
		t.Fatalf("got %v", got)
	}
	// And the cached statement is usable again afterwards.
	var v string
	if err := conn.QueryRowContext(ctx, `SELECT v FROM t WHERE id = $1`, 2).Scan(&v); err != nil || v != "v2" {
		t.Fatalf("%q %v", v, err)
	}
}

// Many distinct queries evict older statements without breaking them,
// also one evicted while its rows are open.
func TestStmtCacheEviction(t *testing.T) {
	db := openCached(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	open, err := conn.QueryContext(ctx, `SELECT v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*stmtCacheSize; i++ {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil || n != 3+i {
			t.Fatalf("query %d: %d %v", i, n, err)
		}
	}
	var vs []string
	for open.Next() {
		var v string
		open.Scan(&v)
		vs = append(vs, v)
	}
	if err := open.Close(); err != nil || fmt.Sprint(vs) != "[v1 v2 v3]" {
		t.Fatalf("%v %v", vs, err)
	}
}

// Errors leave the statement reusable; scripts of several statements run
// whole.
func TestStmtCacheErrorsAndScripts(t *testing.T) {
	db := openCached(t)
	for i := 0; i < 3; i++ {
		if _, err := db.Exec(`INSERT INTO t (id, v) VALUES ($1, $2)`, 1, "dup"); err == nil {
			t.Fatal("duplicate key accepted")
		}
	}
	if _, err := db.Exec(`INSERT INTO t (id, v) VALUES ($1, $2)`, 4, "v4"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (5, 'a'); INSERT INTO t (id, v) VALUES (6, 'b');`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("%d %v", n, err)
	}
}

// BenchmarkLimitParameter runs a cached statement whose LIMIT is a
// parameter with changing values, as River's job fetch does (see
// limitAsExpression).
func BenchmarkLimitParameter(b *testing.B) {
	db, err := sql.Open(SQLiteDriver, "file:"+filepath.Join(b.TempDir(), "c.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		rows, err := db.Query(`SELECT id, v FROM t WHERE queue = $1 AND id > $2 ORDER BY id LIMIT $3`, "q", 0, 1+i%8)
		if err != nil {
			b.Fatal(err)
		}
		rows.Close()
	}
}

// One statement is cached even with semicolons in its comments or quoted
// strings (River's completion query has one in a comment); several
// statements, or a query the scan cannot be sure of, are not.
func TestStmtCacheableSemicolons(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                                true,
		"SELECT 1;\n":                             true,
		"SELECT ';' AS a, \"b;c\" FROM t":         true,
		"SELECT 'it''s; fine'":                    true,
		"-- once; twice\nSELECT 1":                true,
		"SELECT 1 /* a; b */ + 2":                 true,
		"SELECT 1 -- trailing; comment":           true,
		"SELECT 1; SELECT 2":                      false,
		"SELECT 1; -- and a comment":              false,
		"SELECT '; SELECT 2":                      false,
		"SELECT 1 /* unterminated; SELECT 2":      false,
		"SELECT 1 -- note\n; SELECT 2":            false,
		"INSERT INTO t VALUES (1); DELETE FROM t": false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", q, got, want)
		}
	}
}
