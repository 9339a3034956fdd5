package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// enableQPSG turns on SQLite's query planner stability guarantee
// (SQLITE_DBCONFIG_ENABLE_QPSG) on a connection of modernc.org/sqlite.
//
// Without it, SQLite plans a statement for the values bound to some of its
// parameters (a LIMIT's, a LIKE pattern's) and plans it again, parsing it
// anew, whenever one of them is bound: a cached statement with a LIMIT
// parameter was re-prepared on every run. River fetches jobs with such a
// statement, many times a second, and notifyd's paged queries have one
// too; measured, the re-parsing was about 4% of notifyd's CPU under load.
// The guarantee makes SQLite plan once, with any values, as it would
// without those optimizations, none of which notifyd's queries need.
//
// The driver exposes no call for it, so this reads the connection's
// SQLite handle from its unexported fields; it fails, rather than guess,
// if the driver's connection is not laid out as expected (the module's
// version is pinned, and TestQueryPlannerStability checks it).
func enableQPSG(c driver.Conn) error {
	t, db, err := sqliteHandle(c)
	if err != nil {
		return err
	}
	_, err = dbConfigBool(t, db, sqlite3.SQLITE_DBCONFIG_ENABLE_QPSG, 1)
	return err
}

// sqliteHandle returns the TLS and SQLite handle of a connection of
// modernc.org/sqlite.
func sqliteHandle(c driver.Conn) (*libc.TLS, uintptr, error) {
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, 0, fmt.Errorf("store: unexpected SQLite connection type %T", c)
	}
	db, tls := v.Elem().FieldByName("db"), v.Elem().FieldByName("tls")
	if db.Kind() != reflect.Uintptr || !tls.IsValid() || tls.Type() != reflect.TypeFor[*libc.TLS]() {
		return nil, 0, errors.New("store: the SQLite driver's connection has no db handle and TLS where expected; check the modernc.org/sqlite version")
	}
	return (*libc.TLS)(tls.UnsafePointer()), uintptr(db.Uint()), nil
}

// dbConfigBool calls sqlite3_db_config(db, op, onoff, &on), the form of
// SQLite's boolean options (onoff -1 only reads the option), and returns
// whether the option is on.
func dbConfigBool(t *libc.TLS, db uintptr, op int32, onoff int32) (bool, error) {
	const slot = 8 // libc.VaList's stride per argument
	args := libc.Xmalloc(t, 2*slot)
	if args == 0 {
		return false, errors.New("store: out of memory")
	}
	defer libc.Xfree(t, args)
	on := new(int32)
	var pin runtime.Pinner
	pin.Pin(on)
	defer pin.Unpin()
	if rc := sqlite3.Xsqlite3_db_config(t, db, op, libc.VaList(args, onoff, uintptr(unsafe.Pointer(on)))); rc != sqlite3.SQLITE_OK {
		return false, fmt.Errorf("store: sqlite3_db_config(%d) returned %d", op, rc)
	}
	return *on != 0, nil
}
