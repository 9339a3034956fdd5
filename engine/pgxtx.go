package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// sharedTx presents a PostgreSQL connection that is inside a transaction
// begun through database/sql (the store's) as a pgx.Tx, so that the job
// queue's pgx driver inserts jobs in that same transaction. Committing and
// rolling back stay with the store; Begin makes a savepoint.
type sharedTx struct {
	conn  *pgx.Conn
	depth int
}

var _ pgx.Tx = (*sharedTx)(nil)

// errSharedTx is returned when River tries to end the store's transaction.
var errSharedTx = errors.New("engine: the store commits or rolls back this transaction, not the job queue")

func (t *sharedTx) savepoint() string { return fmt.Sprintf("notifyd_sp_%d", t.depth) }

// Begin starts a nested transaction as a savepoint.
func (t *sharedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	n := &sharedTx{conn: t.conn, depth: t.depth + 1}
	if _, err := t.Exec(ctx, "SAVEPOINT "+n.savepoint()); err != nil {
		return nil, err
	}
	return n, nil
}

// Commit releases a savepoint; the outermost level belongs to the store.
func (t *sharedTx) Commit(ctx context.Context) error {
	if t.depth == 0 {
		return errSharedTx
	}
	_, err := t.Exec(ctx, "RELEASE SAVEPOINT "+t.savepoint())
	return err
}

// Rollback rolls back to a savepoint; the outermost level belongs to the
// store.
func (t *sharedTx) Rollback(ctx context.Context) error {
	if t.depth == 0 {
		return errSharedTx
	}
	_, err := t.Exec(ctx, "ROLLBACK TO SAVEPOINT "+t.savepoint())
	return err
}

// LargeObjects is not used by the job queue.
func (t *sharedTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Conn returns the underlying connection.
func (t *sharedTx) Conn() *pgx.Conn { return t.conn }

// CopyFrom runs COPY FROM in the transaction.
func (t *sharedTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, columns, src)
}

// SendBatch sends a batch in the transaction.
func (t *sharedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// Prepare prepares a statement on the connection.
func (t *sharedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

// Exec runs a statement in the transaction.
func (t *sharedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

// Query runs a query in the transaction.
func (t *sharedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

// QueryRow runs a query returning one row in the transaction.
func (t *sharedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}
