package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// A change to an event already waiting keeps the state before the first
// one and its window; the pending update is taken once, and counts in
// the backlog until then.
func TestPendingUpdateKeepsTheFirstChange(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	first := PendingUpdate{System: "cal", Principal: "/p/wilma", Key: "uid:lunch", CalendarHref: "/cal/work/",
		Before: &UpdateState{CalendarHref: "/cal/work/", Href: "/cal/work/lunch.ics", Data: "v1"}, FirstAt: at, DueAt: at.Add(time.Minute)}
	second := first
	second.Before, second.FirstAt, second.DueAt = &UpdateState{Data: "v2"}, at.Add(time.Second), at.Add(time.Minute+time.Second)
	var added []bool
	for _, p := range []PendingUpdate{first, second} {
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			ok, err := AddPendingUpdate(ctx, tx, p)
			added = append(added, ok)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !added[0] || added[1] {
		t.Fatalf("added %v, want the first only", added)
	}
	if b, err := db.Backlog(ctx); err != nil || b[BacklogUpdates] != 1 {
		t.Fatalf("backlog %v, %v; want one update", b, err)
	}
	var got []*PendingUpdate
	for range 2 {
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			p, err := TakePendingUpdate(ctx, tx, "cal", "/p/wilma", "uid:lunch")
			got = append(got, p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got[0] == nil || got[0].Before.Data != "v1" || !got[0].DueAt.Equal(first.DueAt) || got[1] != nil {
		t.Fatalf("taken %+v then %+v; want the first change once", got[0], got[1])
	}
}
