package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// On PostgreSQL the store's database/sql handle and River's client share
// one pgx pool. Connections the store is done with go back to the pool:
// were they kept idle by database/sql, a burst of store queries as large
// as the pool would leave River none, and it could neither fetch nor
// complete a job again.
func TestStoreGivesConnectionsBackToThePool(t *testing.T) {
	if !peertest.OnPostgres() {
		t.Skip("PostgreSQL only: SQLite has no pool shared with River")
	}
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	size := int(db.pool.Config().MaxConns)
	var conns []*sql.Conn
	for range size { // as many store queries at once as the pool has room for
		c, err := db.writer.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if got := db.pool.Stat().AcquiredConns(); got != int32(size) {
		t.Fatalf("%d connections acquired from the pool during the burst, want %d", got, size)
	}
	for _, c := range conns {
		c.Close()
	}
	if got := db.pool.Stat().AcquiredConns(); got != 0 {
		t.Fatalf("after the burst, database/sql still holds %d of the pool's %d connections, want 0", got, size)
	}
	c, err := db.pool.Acquire(ctx) // as River's client does
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
}
