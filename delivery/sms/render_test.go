package sms

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

func mustRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Every type renders in both languages, in GSM-7, in one segment with the
// sample data, and says what it is about.
func TestRenderEveryType(t *testing.T) {
	r := mustRenderer(t)
	want := map[string]map[notifyd.NotificationType][]string{
		"en": {
			notifyd.TypeShareInvite:        {`Fred shared the calendar "Work" with you (read-write)`, "calendar app"},
			notifyd.TypeShareReply:         {`Fred accepted your invitation to share "Work"`},
			notifyd.TypeResourceChange:     {`2 changes in "Work"`, `changed "Event"`, `added "Other"`},
			notifyd.TypeSystemStatus:       {"Calendar service notice (system)", "Summary"},
			notifyd.TypeQuotaStatus:        {"Your calendar storage"},
			notifyd.TypeEventRegRegistered: {`You are registered for "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room`},
			notifyd.TypeEventRegCancelled:  {`Cancelled: "Event"`, "which you registered for"},
			notifyd.TypeSuggest:            {`Fred suggested "Event"`, `for "Work"`},
			notifyd.TypeSuggestReply:       {`Your suggestion "Event" was accepted for "Work" by Fred`},
			notifyd.TypeAwaitingApproval:   {`Fred submitted "Event"`, "awaits your approval"},
			notifyd.TypeApprovalResponse:   {`Your event "Event" was approved for "Work" by Fred`},
			notifyd.TypeReminder:           {`Reminder: "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room in "Work"`},
			notifyd.TypeEventCreated:       {`New event: "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room in "Work". By Wilma.`},
			notifyd.TypeEventModified: {`Moved: "Event" -> Thu 1 Jan 11:00 (one occurrence) in "Work". ` +
				`Also: title, location, status, recurrence, description, priority. By Wilma.`},
			notifyd.TypeEventDeleted:        {`Deleted: "Event", Thu 1 Jan 2026 11:00-12:00 CET (one occurrence) in "Work". By Wilma.`},
			notifyd.TypeTodoCreated:         {`New task: "Event", due Fri 2 Jan 2026 18:00 CET in "Work". By Wilma.`},
			notifyd.TypeTodoModified:        {`Completed: "Event" (one occurrence) in "Work". Also: title, location, status, recurrence, description, priority, due date. By Wilma.`},
			notifyd.TypeTodoDeleted:         {`Task deleted: "Event" (one occurrence) in "Work". By Wilma.`},
			notifyd.TypeCalendarCreated:     {`New calendar: "Work". By Wilma.`},
			notifyd.TypeCalendarModified:    {`Calendar renamed: "Old name" -> "Work". Also: description. By Wilma.`},
			notifyd.TypeCalendarDeleted:     {`Calendar deleted: "Work". By Wilma.`},
			notifyd.TypeInvitation:          {`Invitation from Fred: "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room.`},
			notifyd.TypeInvitationReply:     {`Wilma accepted your invitation: "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room.`},
			notifyd.TypeInvitationCancelled: {`Cancelled by Fred: "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room.`},
			notifyd.TypeRefreshRequest:      {`Wilma asks for the latest version of "Event".`},
			notifyd.TypeCounterProposal:     {`Wilma proposes a change to "Event", Thu 1 Jan 2026 11:00-12:00 CET, Room.`},
			notifyd.TypeOther:               {`Calendar notification from Fred in "Work": Summary`},
		},
		"fr": {
			notifyd.TypeShareInvite:        {`Fred a partagé le calendrier "Work" avec vous (lecture-écriture)`},
			notifyd.TypeShareReply:         {`Fred a accepté votre invitation à partager "Work"`},
			notifyd.TypeResourceChange:     {`2 modifications dans "Work"`, `modifié "Event"`, `ajouté "Other"`},
			notifyd.TypeSystemStatus:       {"Avis du service d'agenda (system) : Summary"},
			notifyd.TypeQuotaStatus:        {"Votre espace d'agenda"},
			notifyd.TypeEventRegRegistered: {`Inscription confirmée : "Event", jeu. 1er janv. 2026 11h00-12h00 CET, Room`},
			notifyd.TypeEventRegCancelled:  {`Annulé : "Event"`, "auquel vous étiez inscrit"},
			notifyd.TypeSuggest:            {`Fred a suggéré "Event"`},
			notifyd.TypeSuggestReply:       {`Votre suggestion "Event" a été acceptée pour "Work" par Fred`},
			notifyd.TypeAwaitingApproval:   {`Fred a soumis "Event"`, "attend votre approbation"},
			notifyd.TypeApprovalResponse:   {`Votre événement "Event" a été approuvé pour "Work" par Fred`},
			notifyd.TypeReminder:           {`Rappel : "Event", jeu. 1er janv. 2026 11h00-12h00 CET, Room dans "Work"`},
			notifyd.TypeEventCreated:       {`Nouvel événement : "Event", jeu. 1er janv. 2026 11h00-12h00 CET, Room dans "Work". Par Wilma.`},
			notifyd.TypeEventModified: {`Déplacé : "Event" -> jeu. 1er janv. 11h00 (une occurrence) dans "Work". ` +
				`Aussi : titre, lieu, statut, répétition, description, priority. Par Wilma.`},
			notifyd.TypeEventDeleted:        {`Supprimé : "Event", jeu. 1er janv. 2026 11h00-12h00 CET (une occurrence) dans "Work". Par Wilma.`},
			notifyd.TypeTodoCreated:         {`Nouvel élément à faire : "Event", échéance ven. 2 janv. 2026 18h00 CET dans "Work". Par Wilma.`},
			notifyd.TypeTodoModified:        {`Terminé : "Event" (une occurrence) dans "Work". Aussi : titre, lieu, statut, répétition, description, priority, échéance. Par Wilma.`},
			notifyd.TypeTodoDeleted:         {`Élément à faire supprimé : "Event" (une occurrence) dans "Work". Par Wilma.`},
			notifyd.TypeCalendarCreated:     {`Nouveau calendrier : "Work". Par Wilma.`},
			notifyd.TypeCalendarModified:    {`Calendrier renommé : "Old name" -> "Work". Aussi : description. Par Wilma.`},
			notifyd.TypeCalendarDeleted:     {`Calendrier supprimé : "Work". Par Wilma.`},
			notifyd.TypeInvitation:          {`Invitation de Fred : "Event", jeu. 1er janv. 2026 11h00-12h00 CET, Room.`},
			notifyd.TypeInvitationReply:     {`Wilma a accepté votre invitation : "Event"`},
			notifyd.TypeInvitationCancelled: {`Annulé par Fred : "Event"`},
			notifyd.TypeRefreshRequest:      {`Wilma demande la dernière version de "Event".`},
			notifyd.TypeCounterProposal:     {`Wilma propose une modification de "Event"`},
			notifyd.TypeOther:               {`Notification d'agenda de Fred dans "Work" : Summary`},
		},
	}
	for lang, types := range want {
		for _, typ := range notifyd.NotificationTypes {
			in := sampleInput
			n := *sampleInput.Notification
			n.Type = typ
			// A calendar update's sample carries its Update, a task's
			// its due time.
			if s := message.Sample(typ); s.Update != nil {
				n.Update, n.Event, n.DTStamp = s.Update, s.Event, s.DTStamp
			}
			// A scheduling message's sample carries its iTIP message.
			n.Scheduling = message.Sample(typ).Scheduling
			in.Notification, in.Locale, in.TimeZone = &n, lang, loadZone(t, "Europe/Paris")
			text, err := r.Render(in)
			if err != nil {
				t.Errorf("%s %s: %v", lang, typ, err)
				continue
			}
			if enc, segs := Segments(text); enc != GSM7 || segs != 1 {
				t.Errorf("%s %s: %v in %d segments: %q", lang, typ, enc, segs, text)
			}
			subs, ok := types[typ]
			if !ok {
				t.Errorf("%s %s: no expectation", lang, typ)
			}
			for _, s := range subs {
				if !strings.Contains(text, s) {
					t.Errorf("%s %s: %q lacks %q", lang, typ, text, s)
				}
			}
		}
	}
}

func TestRenderLocaleAndTimeZone(t *testing.T) {
	r := mustRenderer(t)
	event := func(start, end time.Time, allDay bool) *notifyd.Notification {
		return &notifyd.Notification{Type: notifyd.TypeReminder,
			Event: &notifyd.Event{Summary: "Budget", Start: start, End: end, AllDay: allDay}}
	}
	at := time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name   string
		n      *notifyd.Notification
		locale string
		zone   string
		want   string
	}{
		{"English, 24-hour clock, day first", event(at, at.Add(time.Hour), false), "en-GB", "Europe/London",
			`Reminder: "Budget", Tue 10 Mar 2026 13:00-14:00 GMT.`},
		{"US English: month first, 12-hour clock, the recipient's zone (EDT since 8 March)", event(at, at.Add(time.Hour), false), "en-US", "America/New_York",
			`Reminder: "Budget", Tue Mar 10, 2026 9:00 AM-10:00 AM EDT.`},
		{"French, Paris (CET until 29 March)", event(at, at.Add(time.Hour), false), "fr-FR", "Europe/Paris",
			`Rappel : "Budget", mar. 10 mars 2026 14h00-15h00 CET.`},
		{"Canadian French is French", event(at, at.Add(time.Hour), false), "fr-CA", "America/Toronto",
			`Rappel : "Budget", mar. 10 mars 2026 9h00-10h00 EDT.`},
		{"a language without templates is English", event(at, at.Add(time.Hour), false), "de-DE", "Europe/Berlin",
			`Reminder: "Budget", Tue 10 Mar 2026 14:00-15:00 CET.`},
		{"no locale, no zone: English, UTC", event(at, at.Add(time.Hour), false), "", "",
			`Reminder: "Budget", Tue 10 Mar 2026 13:00-14:00 UTC.`},
		{"over midnight", event(at, at.Add(12*time.Hour), false), "en", "UTC",
			`Reminder: "Budget", Tue 10 Mar 2026 13:00 UTC - Wed 11 Mar 2026 01:00 UTC.`},
		{"all day keeps its date whatever the zone", event(day(2026, 8, 14), day(2026, 8, 15), true), "fr", "Pacific/Auckland",
			`Rappel : "Budget", ven. 14 aout 2026 (journée).`},
		{"several days", event(day(2026, 8, 14), day(2026, 8, 17), true), "fr", "UTC",
			`Rappel : "Budget", du ven. 14 aout 2026 au dim. 16 aout 2026.`},
		{"several days, English", event(day(2026, 12, 1), day(2026, 12, 3), true), "en", "UTC",
			`Reminder: "Budget", Tue 1 Dec 2026 - Wed 2 Dec 2026.`},
	} {
		var loc *time.Location
		if tt.zone != "" {
			loc = loadZone(t, tt.zone)
		}
		got, err := r.Render(RenderInput{Notification: tt.n, Locale: tt.locale, TimeZone: loc})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		if !IsGSM7(got) {
			t.Errorf("%s: not GSM-7: %q", tt.name, got)
		}
	}
}

func TestRenderContent(t *testing.T) {
	r := mustRenderer(t)
	for _, tt := range []struct {
		name string
		in   RenderInput
		want string
	}{
		{"share withdrawn", RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, Status: "deleted",
			From: notifyd.Person{Href: "mailto:fred%40example.org"}, Calendar: notifyd.Collection{Href: "/cal/fred/work/"}}},
			`fred@example.org stopped sharing the calendar "work" with you.`},
		{"the engine's calendar name wins; an unknown sharer is someone", RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite,
			Access: "read", Calendar: notifyd.Collection{DisplayName: "cal"}}, CalendarName: "Team"},
			`Someone shared the calendar "Team" with you (read-only). Accept or decline it in your calendar app.`},
		{"one change with its properties", RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeResourceChange,
			Calendar: notifyd.Collection{DisplayName: "Work"},
			Changes:  []notifyd.Change{{Kind: "updated", Summary: "Standup", By: notifyd.Person{CommonName: "Wilma"}, Properties: []string{"dtstart", "LOCATION"}}}}},
			`Wilma changed "Standup" in "Work" (start, location).`},
		{"French deletion without author", RenderInput{Locale: "fr", Notification: &notifyd.Notification{Type: notifyd.TypeResourceChange,
			Changes: []notifyd.Change{{Kind: "deleted", Summary: "Standup"}}}},
			`"Standup" a été supprimé.`},
		{"typographic characters of user content become GSM-7; lines and overrides go", RenderInput{Notification: &notifyd.Notification{
			Type: notifyd.TypeReminder, Summary: "“Budget” review –\n\u202efinal…"}},
			`Reminder: ""Budget" review - final...".`},
		{"unknown type: generic", RenderInput{Notification: &notifyd.Notification{Type: "bedework-extension", Summary: "Hello"}},
			`Calendar notification: Hello`},
		{"nothing known at all", RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeOther}},
			`Calendar notification`},
		{"a long summary is cut at a word by the template", RenderInput{Notification: &notifyd.Notification{Type: notifyd.TypeReminder,
			Event: &notifyd.Event{Summary: strings.Repeat("word ", 30)}}},
			`Reminder: "word word word word word word word word word word word...".`},
	} {
		got, err := r.Render(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	if _, err := r.Render(RenderInput{}); err == nil {
		t.Error("no notification: no error")
	}
}

// A text the templates leave in UCS-2 (a non-GSM letter in a name) is
// still counted and shortened right by the channel; the renderer does not
// change letters.
func TestRenderKeepsLetters(t *testing.T) {
	r := mustRenderer(t)
	got, err := r.Render(RenderInput{Locale: "fr", Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite,
		From: notifyd.Person{CommonName: "Françoise"}, Calendar: notifyd.Collection{DisplayName: "Fête 🎉"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `Françoise a partagé le calendrier "Fête 🎉"`) {
		t.Errorf("%q", got)
	}
	if enc, _ := Segments(got); enc != UCS2 {
		t.Errorf("%v", enc)
	}
}

// newRenderer refuses a set without English, a language without
// generic.tmpl, and a template that parses but cannot run.
func TestRendererRefusesBrokenTemplates(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no English":              {"fr/generic.tmpl": "x"},
		"no generic":              {"en/generic.tmpl": "x", "fr/reminder.tmpl": "x"},
		"parse error":             {"en/generic.tmpl": "{{if}}"},
		"undefined template call": {"en/generic.tmpl": `{{template "nope" .}}`},
		"unknown field":           {"en/generic.tmpl": `{{.Nope}}`},
		"empty text":              {"en/generic.tmpl": `{{/* nothing */}}`},
	} {
		if _, err := newRenderer(mapFS(files)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, src := range files {
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}
