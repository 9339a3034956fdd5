package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// TestPreferences checks that preferences are validated with the rest of
// the subscription, stored, kept by writes that do not mention them, and
// merged by a patch.
func TestPreferences(t *testing.T) {
	ctx := context.Background()
	svc, st := newTestService(t)
	in := validInput()
	pause := t0.Add(48 * time.Hour).Truncate(time.Microsecond)
	in.Preferences = &notifyd.Preferences{
		Digest:      &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "15m"},
		QuietHours:  []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}},
		PausedUntil: pause.In(time.FixedZone("CEST", 7200)),
	}
	sub, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := sub.Preferences; got == nil || !got.PausedUntil.Equal(pause) || got.PausedUntil.Location() != time.UTC ||
		got.Digest.Window != "15m" || len(got.QuietHours) != 1 {
		t.Fatalf("stored preferences %+v", got)
	}

	// A patch of the locale keeps them.
	w, err := svc.Patch(ctx, sub.ID, Patch{Locale: ptr("fr")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Preferences, sub.Preferences) {
		t.Fatalf("after a locale patch %+v, want %+v", w.Preferences, sub.Preferences)
	}

	// A merge patch changes one member, removes another, keeps the rest.
	w, err = svc.Patch(ctx, sub.ID, Patch{Preferences: json.RawMessage(`{"digest":{"mode":"daily","at":"08:00"},"paused_until":null,"throttle":{"max":3,"per":"1h"}}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"},
		QuietHours: []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}}, Throttle: &notifyd.Throttle{Max: 3, Per: "1h"}}
	if !reflect.DeepEqual(w.Preferences, want) {
		t.Fatalf("after a merge patch %+v, want %+v", w.Preferences, want)
	}

	// Replacing without preferences, or patching them to null, removes them.
	w, err = svc.Patch(ctx, sub.ID, Patch{Preferences: json.RawMessage(`null`)}, 0)
	if err != nil || w.Preferences != nil {
		t.Fatalf("patch null: %v, %+v", err, w)
	}
	in.Preferences = &notifyd.Preferences{}
	w, err = svc.Replace(ctx, sub.ID, in, 0)
	if err != nil || w.Preferences != nil {
		t.Fatalf("replace with empty preferences: %v, %+v; want none", err, w)
	}

	// Refused: each error names its field under /preferences; nothing is written.
	writes := st.writes
	in.Preferences = &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "soon"},
		Throttle: &notifyd.Throttle{Max: 0, Per: "1h"}, PausedUntil: t0.Add(-time.Hour)}
	_, err = svc.Replace(ctx, sub.ID, in, 0)
	var invalid notifyd.ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("replace with bad preferences: %v", err)
	}
	var fields []string
	for _, f := range invalid {
		fields = append(fields, f.Field)
	}
	if want := []string{"/preferences/digest/window", "/preferences/throttle/max", "/preferences/paused_until"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
	if st.writes != writes {
		t.Errorf("a refused write was stored")
	}
}

// TestPreferencesPauseEnded checks that a pause that has ended does not
// make later writes fail: it is dropped.
func TestPreferencesPauseEnded(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	in := validInput()
	in.Preferences = &notifyd.Preferences{PausedUntil: t0.Add(time.Hour)}
	sub, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	svc.now = func() time.Time { return t0.Add(2 * time.Hour) }
	w, err := svc.Patch(ctx, sub.ID, Patch{Locale: ptr("de")}, 0)
	if err != nil {
		t.Fatalf("patch after the pause ended: %v", err)
	}
	if w.Preferences != nil {
		t.Errorf("preferences %+v, want the ended pause dropped", w.Preferences)
	}
}
