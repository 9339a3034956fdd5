package email

import (
	"bytes"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
)

// meetingITIP is fred's meeting as an iTIP message of method (LF line
// ends, as a server may store them).
func meetingITIP(method string) string {
	return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nMETHOD:" + method + "\nBEGIN:VEVENT\nUID:meet-1\n" +
		"DTSTAMP:20261201T080000Z\nDTSTART:20261215T080000Z\nDTEND:20261215T090000Z\nSUMMARY:Budget meeting\n" +
		"ORGANIZER;CN=Fred:mailto:fred@example.org\nATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED:mailto:wilma@example.org\nEND:VEVENT\nEND:VCALENDAR\n"
}

// scheduling is a scheduling notification of type typ and method.
func scheduling(typ notifyd.NotificationType, method string, f func(*notifyd.Scheduling)) *notifyd.Notification {
	fred := notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"}
	wilma := notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"}
	s := &notifyd.Scheduling{Method: method, Object: "/dav/calendars/user/fred/Inbox/m.ics", Component: "event", UID: "meet-1",
		Organizer: fred, ICalendar: meetingITIP(method)}
	from := fred
	if method == "REPLY" || method == "REFRESH" || method == "COUNTER" {
		s.Attendee, from = wilma, wilma
	}
	if f != nil {
		f(s)
	}
	return &notifyd.Notification{Type: typ, From: from, Summary: "Budget meeting", Scheduling: s,
		Event: &notifyd.Event{UID: "meet-1", Summary: "Budget meeting", Location: "Room 4",
			Start: time.Date(2026, 12, 15, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)}}
}

// What a person reads of each scheduling message, in English and French:
// who, what, when (in the recipient's zone: Paris) and, for a reply, the
// answer.
func TestRenderScheduling(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		n        *notifyd.Notification
		locale   string
		subject  string
		sentence string
	}{
		{scheduling(notifyd.TypeInvitation, "REQUEST", nil), "en",
			"Invitation: “Budget meeting”, Tuesday 15 December 2026, 09:00–10:00 CET", "Fred invited you to “Budget meeting”."},
		{scheduling(notifyd.TypeInvitation, "REQUEST", func(s *notifyd.Scheduling) { s.Updated = true }), "fr",
			"Invitation modifiée : « Budget meeting », mardi 15 décembre 2026, de 09:00 à 10:00 (CET)", "Fred a modifié l’invitation à « Budget meeting »."},
		{scheduling(notifyd.TypeInvitationReply, "REPLY", func(s *notifyd.Scheduling) { s.PartStat = "accepted" }), "en",
			"Wilma accepted: “Budget meeting”", "Wilma accepted your invitation to “Budget meeting”."},
		{scheduling(notifyd.TypeInvitationReply, "REPLY", func(s *notifyd.Scheduling) { s.PartStat = "tentative" }), "fr",
			"Wilma a accepté provisoirement : « Budget meeting »", "Wilma a accepté provisoirement votre invitation à « Budget meeting »."},
		{scheduling(notifyd.TypeInvitationReply, "REPLY", func(s *notifyd.Scheduling) {
			s.PartStat, s.DelegatedTo = "delegated", "mailto:carol@example.org"
		}), "en", "Wilma delegated: “Budget meeting”", "it goes to carol@example.org instead."},
		{scheduling(notifyd.TypeInvitationCancelled, "CANCEL", nil), "en", "Cancelled: “Budget meeting”, Tuesday 15 December", "Fred cancelled “Budget meeting”."},
		{scheduling(notifyd.TypeInvitationCancelled, "CANCEL", nil), "fr", "Annulé : « Budget meeting »", "Fred a annulé « Budget meeting »."},
		{scheduling(notifyd.TypeRefreshRequest, "REFRESH", nil), "en", "Wilma asks for the latest version of “Budget meeting”", "which you organize"},
		{scheduling(notifyd.TypeCounterProposal, "COUNTER", nil), "en", "Wilma proposes a change: “Budget meeting”", "The proposal:"},
		{scheduling(notifyd.TypeCounterProposal, "DECLINECOUNTER", nil), "fr", "Proposition refusée : « Budget meeting »",
			"Fred a refusé votre proposition de modification de « Budget meeting »."},
	} {
		in := input(tc.n)
		in.Locale = tc.locale
		m := render(t, r, in)
		what := string(tc.n.Type) + "/" + tc.n.Scheduling.Method + "/" + tc.locale
		if !strings.Contains(strings.ReplaceAll(m.Subject, "\u202f", " "), tc.subject) {
			t.Errorf("%s: subject %q, want %q", what, m.Subject, tc.subject)
		}
		contains(t, what+" text", m.Text, tc.sentence)
		if m.Calendar == nil || m.Calendar.Method != tc.n.Scheduling.Method {
			t.Errorf("%s: calendar part %+v", what, m.Calendar)
		}
	}
}

// The email carries the iTIP object as a text/calendar part with its
// method, in the multipart/alternative beside the text and the HTML (RFC
// 6047), with CRLF line ends; no attachment.
func TestSchedulingCalendarPart(t *testing.T) {
	r := newTestRenderer(t)
	sender, err := NewSender(config.SMTP{Host: "smtp.example.org", From: "notifyd@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"REQUEST", "REPLY", "CANCEL"} {
		typ := map[string]notifyd.NotificationType{"REQUEST": notifyd.TypeInvitation, "REPLY": notifyd.TypeInvitationReply,
			"CANCEL": notifyd.TypeInvitationCancelled}[method]
		m := render(t, r, input(scheduling(typ, method, nil)))
		if len(m.Attachments) != 0 {
			t.Errorf("%s: attachments %v", method, m.Attachments)
		}
		checkMIME(t, sender, m) // the text and HTML read back as rendered
		parts := wireParts(t, sender, m)
		var cal []mimePart
		for _, p := range parts {
			if p.mediaType == "text/calendar" {
				cal = append(cal, p)
			}
		}
		if len(parts) != 3 || len(cal) != 1 {
			t.Fatalf("%s: %d parts, %d text/calendar; want text, HTML and one calendar", method, len(parts), len(cal))
		}
		p := cal[0]
		if p.params["method"] != method || !strings.EqualFold(p.params["charset"], "utf-8") || p.disposition != "" {
			t.Errorf("%s: part %s %v %q", method, p.mediaType, p.params, p.disposition)
		}
		if got, _ := parseICS(t, []byte(p.body)); got != method || !strings.Contains(p.body, "\r\nATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED") {
			t.Errorf("%s: METHOD %q, body:\n%s", method, got, p.body)
		}
	}
	// No object, or one far too large: no part, the text still says it all.
	n := scheduling(notifyd.TypeInvitation, "REQUEST", func(s *notifyd.Scheduling) { s.ICalendar = strings.Repeat("x", MaxCalendarBytes+1) })
	if m := render(t, r, input(n)); m.Calendar != nil || !strings.Contains(m.Text, "Fred invited you") {
		t.Errorf("a too large object: calendar part %v", m.Calendar != nil)
	}
	bad := &Message{To: "wilma@example.org", Subject: "s", Text: "t", Calendar: &CalendarPart{Method: "REQUEST\r\nBcc: x@example.org", Data: []byte("x")}}
	if err := bad.check(); err == nil {
		t.Error("a method with a line break was not refused")
	}
}

// wireParts builds m as sent and returns its MIME leaves.
func wireParts(t *testing.T, s *Sender, m *Message) []mimePart {
	t.Helper()
	gm, _, err := s.build(m, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var wire bytes.Buffer
	if _, err := gm.WriteTo(&wire); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(&wire)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != "multipart/alternative" {
		t.Errorf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	return readParts(t, textproto.MIMEHeader(msg.Header), msg.Body)
}
