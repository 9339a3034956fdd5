package alarm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// firingKey derives an instance's key from (UID, recurrence id, alarm
// identity, ring time, repetition).
func firingKey(uid, rid, alarmID string, t time.Time, repetition int) string {
	h := sha256.New()
	for _, part := range []string{"notifyd-alarm-v1", uid, rid, alarmID,
		t.UTC().Format("20060102T150405Z"), strconv.Itoa(repetition)} {
		h.Write([]byte(strconv.Itoa(len(part)))) // length-prefixed: no two tuples collide
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// define gives an alarm its identity: its UID, else a digest of what makes
// it ring. Texts (SUMMARY, DESCRIPTION), ACKNOWLEDGED and the UID are not
// in the digest, so that identical alarms are found whatever their text.
func define(a calendar.Alarm) alarmDef {
	d := alarmDef{Alarm: a}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", a.Action)
	if !a.Trigger.At.IsZero() {
		fmt.Fprintf(&b, "at %s\n", a.Trigger.At.UTC().Format(time.RFC3339))
	} else {
		rel := "START"
		if a.Trigger.RelatedEnd {
			rel = "END"
		}
		fmt.Fprintf(&b, "%s %s\n", rel, a.Trigger.Offset)
	}
	fmt.Fprintf(&b, "repeat %d %s\n", a.Repeat, a.Interval)
	var to []string
	for _, at := range a.Attendees {
		to = append(to, bareAddress(at))
	}
	slices.Sort(to)
	fmt.Fprintf(&b, "to %s\n", strings.Join(slices.Compact(to), ","))
	for _, r := range a.RelatedTo {
		if r.Type == "SNOOZE" {
			d.snoozeOf = append(d.snoozeOf, r.UID)
		}
	}
	slices.Sort(d.snoozeOf)
	fmt.Fprintf(&b, "snoozes %s\n", strings.Join(d.snoozeOf, ","))
	sum := sha256.Sum256([]byte(b.String()))
	d.digest = hex.EncodeToString(sum[:8])
	d.id = a.UID
	if d.id == "" {
		d.id = "sha256:" + d.digest
	} else {
		d.uids = []string{a.UID}
	}
	return d
}

// ringable reports whether an alarm is one notifyd rings: DISPLAY, EMAIL or
// AUDIO, not location-based.
func ringable(a calendar.Alarm) bool {
	switch Action(a.Action) {
	case Display, Email, Audio:
		return a.Proximity == "" || a.Proximity == "NONE"
	}
	return false
}

// dedup lists the component's alarms that ring, identical ones once: the
// one with the smallest identity, acknowledged as the latest of them, and
// snoozed by a snooze of any of them.
func (c *computation) dedup(comp *calendar.Component) []alarmDef {
	var out []alarmDef
	at := map[string]int{}
	for _, a := range comp.Alarms {
		if !ringable(a) {
			continue
		}
		d := define(a)
		i, dup := at[d.digest]
		if !dup {
			at[d.digest] = len(out)
			out = append(out, d)
			continue
		}
		c.duplicates++
		kept := &out[i]
		ack := kept.Acknowledged
		if d.Acknowledged.After(ack) {
			ack = d.Acknowledged
		}
		uids := append(kept.uids, d.uids...)
		if d.id < kept.id {
			*kept = d
		}
		kept.Acknowledged, kept.uids = ack, uids
	}
	return out
}
