package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// A published event is recorded once: a second record of its ID is a
// duplicate that changes nothing; it is processed once.
func TestRecordPublished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedDB(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ev := PublishedEvent{ID: "e1", System: "cal", Topic: "alarm", Principal: "/p/fred", CalID: "/cal/fred/", UID: "u1",
		RID: "20261201T090000Z", AID: "a1", TriggeredBy: "mailto:fred@example.org", ComponentSource: "WCAP",
		Notification: []byte(`{"type":"reminder"}`), ReceivedAt: at}
	record := func(e PublishedEvent) (inserted bool) {
		t.Helper()
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			var principal string
			inserted, principal, err = RecordPublished(ctx, tx, e)
			if err == nil && principal != "/p/fred" {
				t.Errorf("recorded for %s, want /p/fred", principal)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return inserted
	}
	if !record(ev) {
		t.Fatal("first record: not inserted")
	}
	other := ev
	other.Principal, other.Notification = "/p/other", []byte(`{}`)
	if record(other) {
		t.Fatal("second record of e1: inserted")
	}
	got, err := db.Published(ctx, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Principal != "/p/fred" || string(got.Notification) != `{"type":"reminder"}` || !got.ReceivedAt.Equal(at) ||
		got.RID != ev.RID || got.AID != "a1" || got.TriggeredBy != ev.TriggeredBy || got.ComponentSource != "WCAP" || !got.ProcessedAt.IsZero() {
		t.Errorf("Published = %+v", got)
	}
	claim := func() (claimed bool) {
		t.Helper()
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			claimed, err = ClaimPublished(ctx, tx, "e1", at.Add(time.Second))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return claimed
	}
	if !claim() || claim() {
		t.Error("claimed twice, or never")
	}
	if got, _ := db.Published(ctx, "e1"); !got.ProcessedAt.Equal(at.Add(time.Second)) {
		t.Errorf("ProcessedAt %v", got.ProcessedAt)
	}
	if _, err := db.Published(ctx, "nosuch"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("Published(nosuch) = %v", err)
	}
}

// A calendar is found by its href with or without a trailing slash, once
// per principal that has it.
func TestCalendarsByHref(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedDB(t)
	for _, c := range []CalendarRecord{
		{System: "cal", Principal: "/p/fred", Href: "/cal/fred/work/", DisplayName: "Work"},
		{System: "cal", Principal: "/p/fred", Href: "/cal/fred/work", DisplayName: "Work"},
		{System: "cal", Principal: "/p/wilma", Href: "/cal/shared/"},
		{System: "cal", Principal: "/p/barney", Href: "/cal/shared/"},
		{System: "other", Principal: "/p/fred", Href: "/cal/other/"},
	} {
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			_, err := RecordCalendar(ctx, tx, CalendarChange{System: c.System, Principal: c.Principal, CalendarHref: c.Href, Calendar: &c, Now: time.Now()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	owners := func(href string) (out []string) {
		t.Helper()
		cals, err := db.CalendarsByHref(ctx, "cal", href)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cals {
			out = append(out, c.Principal)
		}
		return out
	}
	for href, want := range map[string][]string{
		"/cal/fred/work/": {"/p/fred"},
		"/cal/fred/work":  {"/p/fred"},
		"/cal/shared":     {"/p/barney", "/p/wilma"},
		"/cal/other/":     nil,
		"/cal/fred/":      nil,
	} {
		if got := owners(href); len(got) != len(want) || (len(got) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Errorf("CalendarsByHref(%s) = %v, want %v", href, got, want)
		}
	}
}
