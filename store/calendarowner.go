package store

import "context"

// CalendarOwner is a calendar notifyd syncs for reminders and the
// principal it syncs it for (its owner).
type CalendarOwner struct {
	Principal string
	// Href is the calendar's path as the CalDAV server listed it.
	Href string
}

// CalendarOwners returns every calendar of system that notifyd syncs for
// reminders, with its owner: what a ping naming a calendar's path is
// looked up in. It reads the calendars table's primary key only.
func (db *DB) CalendarOwners(ctx context.Context, system string) ([]CalendarOwner, error) {
	var out []CalendarOwner
	err := db.each(ctx, `SELECT principal, href FROM calendars WHERE system = $1`, []any{system}, func(r scanner) error {
		var c CalendarOwner
		err := r.Scan(&c.Principal, &c.Href)
		out = append(out, c)
		return err
	})
	return out, err
}
