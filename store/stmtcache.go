package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"

	_ "modernc.org/sqlite" // registers "sqlite"
)

// SQLiteDriver is the name of the database/sql driver notifyd opens its
// SQLite database with: modernc.org/sqlite with a cache of prepared
// statements per connection. Without it every query is parsed and planned
// again, which measured as a third of notifyd's CPU time under load
// (River's queries are long). A LIMIT parameter is prepared as an
// expression so that its statement stays planned (see limitAsExpression).
const SQLiteDriver = "sqlite-stmtcache"

// stmtCacheSize bounds the prepared statements kept per connection.
const stmtCacheSize = 256

func init() {
	// The driver modernc.org/sqlite registers as "sqlite" (sql.Open does
	// not connect), so that what is registered on it applies here too.
	plain, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	sql.Register(SQLiteDriver, &cachingDriver{inner: plain.Driver()})
	plain.Close()
}

// cachingDriver opens connections of inner wrapped in a statement cache.
type cachingDriver struct{ inner driver.Driver }

func (d *cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return newCachingConn(c)
}

// The methods of the wrapped connection a cachingConn uses.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
}

// cachingConn is a connection that keeps its prepared statements by query
// text and reuses them. database/sql uses a connection from one goroutine
// at a time, but a statement may still be busy with open rows when the
// same query runs again (a query inside a loop over another's rows): the
// second run then prepares a statement of its own, not cached.
type cachingConn struct {
	inner innerConn
	bySQL map[string]*list.Element // of *cachedStmt
	lru   list.List                // most recently used first
}

type cachedStmt struct {
	query string
	stmt  stmtContext
	busy  bool // rows are open on it
}

type stmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func newCachingConn(c driver.Conn) (driver.Conn, error) {
	ic, ok := c.(innerConn)
	if !ok {
		c.Close()
		return nil, errors.New("store: the SQLite driver's connections lack the context methods")
	}
	return &cachingConn{inner: ic, bySQL: make(map[string]*list.Element)}, nil
}

// cacheable reports whether a query is one statement worth keeping (a
// script of several statements is run statement by statement, re-parsed
// each time, by the driver). A semicolon in a comment or a quoted string
// does not end a statement (River's queries have some in comments); when
// in doubt (an unterminated quote or comment), the query is not cached.
func cacheable(query string) bool {
	q := strings.TrimRight(query, " \t\r\n;")
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == ';':
			return false
		case c == '\'' || c == '"' || c == '`':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				return false
			}
			i += end + 1 // a doubled quote closes and reopens: the same
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return true
			}
			i += end
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += end + 3
		}
	}
	return true
}

// take returns the cached statement for query, preparing and caching it if
// needed; nil (and no error) if it is busy or query is not cacheable.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	if el, ok := c.bySQL[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return cs, nil
	}
	s, err := c.inner.PrepareContext(ctx, limitAsExpression(query))
	if err != nil {
		return nil, err
	}
	sc, ok := s.(stmtContext)
	if !ok {
		s.Close()
		return nil, nil
	}
	cs := &cachedStmt{query: query, stmt: sc}
	c.bySQL[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		c.evict(c.lru.Back())
	}
	return cs, nil
}

// evict drops a statement from the cache, closing it unless rows are open
// on it (those close it when they are done).
func (c *cachingConn) evict(el *list.Element) {
	cs := el.Value.(*cachedStmt)
	c.lru.Remove(el)
	delete(c.bySQL, cs.query)
	if !cs.busy {
		cs.stmt.Close()
	}
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, c: c, cs: cs}, nil
}

// Prepare implements driver.Conn (explicit prepares are not cached: the
// caller owns and closes the statement).
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Begin implements driver.Conn.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	for el := c.lru.Front(); el != nil; el = c.lru.Front() {
		c.evict(el)
	}
	return c.inner.Close()
}

// Ping implements driver.Pinger.
func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter.
func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *cachingConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// cachedRows are rows of a cached statement: closing them (which resets
// the statement) frees the statement for the next run.
type cachedRows struct {
	driver.Rows
	c  *cachingConn
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	if el, ok := r.c.bySQL[r.cs.query]; !ok || el.Value != r.cs {
		r.cs.stmt.Close() // evicted while the rows were open
	}
	return err
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeDatabaseTypeName implements
// driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale implements
// driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
