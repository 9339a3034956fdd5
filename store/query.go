package store

import (
	"strconv"
	"strings"
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

// where returns " WHERE …" for the conditions added, or "".
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}
