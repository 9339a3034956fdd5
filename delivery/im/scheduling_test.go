package im

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// invitationTo is fred's "Budget meeting" on Tuesday 15 December 2026,
// 09:00–10:00 in Paris, in Room 4, as a scheduling message of type typ
// and method; change adds to it.
func invitationTo(typ notifyd.NotificationType, method string, change func(s *notifyd.Scheduling)) *notifyd.Notification {
	s := &notifyd.Scheduling{Method: method, UID: "meet-1", Organizer: notifyd.Person{CommonName: "Fred"}}
	if method == "REPLY" || method == "REFRESH" || method == "COUNTER" {
		s.Attendee = notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"}
	}
	if change != nil {
		change(s)
	}
	return &notifyd.Notification{Type: typ, Scheduling: s, Event: &notifyd.Event{UID: "meet-1", Summary: "Budget meeting",
		Location: "Room 4", Start: time.Date(2026, 12, 15, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)}}
}

// The pop-up of a scheduling message: who, what, when in the recipient's
// zone and language, where, and a reply's answer.
func TestRenderScheduling(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		want         string
	}{
		{"an invitation", "en", invitationTo(notifyd.TypeInvitation, "REQUEST", nil),
			"Invitation from Fred: “Budget meeting”\nWhen: Tuesday 15 December 2026, 09:00–10:00 CET\nWhere: Room 4"},
		{"an updated invitation, in French", "fr", invitationTo(notifyd.TypeInvitation, "REQUEST", func(s *notifyd.Scheduling) { s.Updated = true }),
			"Invitation modifiée de Fred : « Budget meeting »\nQuand : mardi 15 décembre 2026, de 09:00 à 10:00 (CET)\nOù : Room 4"},
		{"a reply", "en", invitationTo(notifyd.TypeInvitationReply, "REPLY", func(s *notifyd.Scheduling) { s.PartStat, s.Comment = "declined", "Sorry" }),
			"Wilma declined your invitation to “Budget meeting”\nWhen: Tuesday 15 December 2026, 09:00–10:00 CET\nWhere: Room 4\n“Sorry”"},
		{"a reply, in French", "fr", invitationTo(notifyd.TypeInvitationReply, "REPLY", func(s *notifyd.Scheduling) { s.PartStat = "accepted" }),
			"Wilma a accepté votre invitation à « Budget meeting »\nQuand : mardi 15 décembre 2026, de 09:00 à 10:00 (CET)\nOù : Room 4"},
		{"a cancellation", "en", invitationTo(notifyd.TypeInvitationCancelled, "CANCEL", nil),
			"Cancelled by Fred: “Budget meeting”\nWhen: Tuesday 15 December 2026, 09:00–10:00 CET\nWhere: Room 4"},
		{"a refresh request", "en", invitationTo(notifyd.TypeRefreshRequest, "REFRESH", nil),
			"Wilma asks for the latest version of “Budget meeting”, which you organize.\nWhen: Tuesday 15 December 2026, 09:00–10:00 CET\nWhere: Room 4"},
		{"a counter-proposal declined, in French", "fr", invitationTo(notifyd.TypeCounterProposal, "DECLINECOUNTER", nil),
			"Fred a refusé votre proposition de modification de « Budget meeting ».\nQuand : mardi 15 décembre 2026, de 09:00 à 10:00 (CET)\nOù : Room 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m := renderBody(t, r, tc.n, tc.locale); m.Body != tc.want {
				t.Errorf("\n%s\nwant:\n%s", m.Body, tc.want)
			}
		})
	}
}
