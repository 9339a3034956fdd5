package engine

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/store"
)

// Concurrent callers share transactions; each gets its own outcome, and
// one that fails does not fail the others.
func TestGroupCommit(t *testing.T) {
	db, err := store.OpenSQLite(filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	g := newGroupCommit(db)
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.do(func(tx *sql.Tx) error {
				if i%10 == 7 {
					return fmt.Errorf("refused %d", i)
				}
				_, err := tx.Exec(`INSERT INTO t (id) VALUES ($1)`, i)
				return err
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 7) != (err != nil) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	var rows int
	db.SQL.QueryRow(`SELECT count(*) FROM t`).Scan(&rows)
	if rows != n-n/10 {
		t.Errorf("%d rows, want %d", rows, n-n/10)
	}
	if err := g.do(func(*sql.Tx) error { return errors.New("alone") }); err == nil {
		t.Error("a failed request alone succeeded")
	}
	if err := g.do(func(*sql.Tx) error { return nil }); err != nil {
		t.Errorf("after a failure: %v", err)
	}
}
