package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// filter builds a WHERE clause with numbered ($N) parameters, the form
// both SQLite and PostgreSQL take.
type filter struct {
	conds []string
	args  []any
}

// param adds v as the next parameter and returns its placeholder.
func (f *filter) param(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

// eq adds "column = value" when value is not empty.
func (f *filter) eq(column, value string) {
	if value != "" {
		f.conds = append(f.conds, column+" = "+f.param(value))
	}
}

// in adds "column IN (values…)"; values must not be empty.
func (f *filter) in(column string, values []string) {
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = f.param(v)
	}
	f.conds = append(f.conds, column+" IN ("+strings.Join(marks, ", ")+")")
}

// after adds the cursor condition of a list ordered by (timeColumn,
// idColumn): rows after the one created at at with ID id. An empty id
// adds nothing (the first page).
func (f *filter) after(timeColumn, idColumn string, at time.Time, id string) {
	if id == "" {
		return
	}
	t, i := f.param(micros(at)), f.param(id)
	// The first term alone bounds an index range on PostgreSQL, which
	// reads an OR of ranges from the start of the index (a second at a
	// million rows, for a page deep in the log).
	f.conds = append(f.conds, timeColumn+" >= "+t+" AND ("+timeColumn+" > "+t+" OR "+idColumn+" > "+i+")")
}

// before is after for a list in descending order: rows before the one
// created at at with ID id.
func (f *filter) before(timeColumn, idColumn string, at time.Time, id string) {
	if id == "" {
		return
	}
	t, i := f.param(micros(at)), f.param(id)
	// The first term bounds the range as in after: without it,
	// PostgreSQL read the index from its newest end down to the cursor
	// (seconds for a page in the middle of ten million deliveries).
	f.conds = append(f.conds, timeColumn+" <= "+t+" AND ("+timeColumn+" < "+t+" OR "+idColumn+" < "+i+")")
}

// where returns " WHERE …" for the conditions added, or "".
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// each runs a read query and calls fn on each row.
func (db *DB) each(ctx context.Context, query string, args []any, fn func(scanner) error) error {
	rows, err := db.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return Classify(err)
		}
	}
	return Classify(rows.Err())
}
