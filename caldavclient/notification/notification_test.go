package notification

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the tzid fixture, whatever the host has

	"github.com/notifyd/notifyd"
)

const (
	elemCS       = "{" + nsCS + "}"
	elemDAV      = "{" + nsDAV + "}"
	elemBedework = "{" + nsBedework + "}"
)

// utc builds a UTC time.
func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// fixtures is the exact Notification each fixture parses to, or the
// error text it must fail with. Every file in testdata/ must be listed.
var fixtures = []struct {
	file string
	want *notifyd.Notification
	err  string
}{
	// Captured from Cyrus IMAP 3.6.
	{file: "cyrus-invite-notification.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemCS + "invite-notification",
		UID:      "7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml",
		DTStamp:  utc(2026, 11, 21, 5, 26, 57),
		From:     notifyd.Person{Href: "/dav/principals/user/fred/", CommonName: "fred"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Default/"},
		Access:   "read-write",
		Status:   "noresponse",
	}},
	{file: "cyrus-invite-reply.xml", want: &notifyd.Notification{
		Type:      notifyd.TypeShareReply,
		Element:   elemCS + "invite-reply",
		DTStamp:   utc(2026, 11, 21, 5, 27, 0),
		From:      notifyd.Person{Href: "/dav/principals/user/wilma/"},
		Calendar:  notifyd.Collection{Href: "/dav/calendars/user/fred/Default/"},
		Status:    "accepted",
		InReplyTo: "7c7efcec-6217b097-1d4cd286-b66565b.xml",
	}},
	{file: "cyrus-sync-collection-response.xml",
		err: "notification: root element is {DAV:}multistatus, not {http://calendarserver.org/ns/}notification or {DAV:}notification"},

	// CalendarServer sharing.
	{file: "cs-invite-notification-default-ns.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemCS + "invite-notification",
		UID:      "b2f3c6a0-9c1d-4e8e-8d4f-3f0c2a7d9e11",
		DTStamp:  utc(2026, 11, 21, 10, 15, 0),
		From:     notifyd.Person{Href: "urn:uuid:fred", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/calendars/__uids__/fred/work/"},
		Access:   "read",
		Status:   "noresponse",
		Summary:  "Quarry shifts for December",
	}},
	{file: "cs-invite-notification-deleted.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemCS + "invite-notification",
		UID:      "0d9f8e7c-6b5a-4c3d-2e1f-00aa11bb22cc",
		DTStamp:  utc(2026, 11, 21, 10, 15, 0),
		From:     notifyd.Person{Href: "mailto:fred@example.com", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/calendars/users/fred/bowling/"},
		Access:   "read-write",
		Status:   "deleted",
	}},
	{file: "cs-invite-reply-declined.xml", want: &notifyd.Notification{
		Type:      notifyd.TypeShareReply,
		Element:   elemCS + "invite-reply",
		DTStamp:   utc(2026, 11, 22, 0, 0, 0),
		From:      notifyd.Person{Href: "mailto:barney@example.com"},
		Calendar:  notifyd.Collection{Href: "/calendars/users/fred/bowling/"},
		Status:    "declined",
		InReplyTo: "0d9f8e7c-6b5a-4c3d-2e1f-00aa11bb22cc",
		Summary:   "Thanks, but I bowl on Tuesdays",
	}},
	{file: "cyrus-style-undeclared-prefixes.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemCS + "invite-notification",
		UID:      "7c7efcec-0000-1d4cd286-b66565b.xml",
		DTStamp:  utc(2026, 11, 21, 5, 26, 57),
		From:     notifyd.Person{Href: "/dav/principals/user/barney/", CommonName: "barney"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/barney/Default/"},
		Access:   "read",
		Status:   "noresponse",
		Summary:  "bowling nights",
	}},

	// DAV sharing draft.
	{file: "dav-share-invite-notification.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemDAV + "share-invite-notification",
		DTStamp:  utc(2026, 11, 21, 10, 15, 0),
		From:     notifyd.Person{Href: "/dav/principals/user/fred/", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Default/", DisplayName: "Fred's calendar"},
		Access:   "read",
		Status:   "noresponse",
		Summary:  "Here is my work calendar",
		Fields:   map[string]string{"calendar-description": "Everything at the quarry"},
	}},
	{file: "dav-share-invite-notification-default-ns.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		Element:  elemDAV + "share-invite-notification",
		UID:      "inv-2026-0042",
		DTStamp:  utc(2026, 11, 21, 10, 15, 0).Add(250 * time.Millisecond),
		From:     notifyd.Person{Href: "mailto:wilma@example.com", CommonName: "Wilma Flintstone"},
		Calendar: notifyd.Collection{Href: "/addressbooks/wilma/family/", DisplayName: "Family"},
		Access:   "read-write",
		Status:   "accepted",
	}},
	{file: "dav-share-reply-notification.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeShareReply,
		Element:  elemDAV + "share-reply-notification",
		DTStamp:  utc(2026, 11, 21, 10, 20, 0),
		From:     notifyd.Person{Href: "/dav/principals/user/wilma/", CommonName: "Wilma Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Default/"},
		Status:   "declined",
		Summary:  "Not right now, sorry",
	}},

	// CalendarServer resource changes.
	{file: "cs-resource-change-created.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeResourceChange,
		Element: elemCS + "resource-change",
		DTStamp: utc(2026, 11, 21, 16, 51, 14),
		From:    notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"},
		Event:   &notifyd.Event{Href: "https://cal.example.com/calendars/users/fred/work/quarry-picnic.ics"},
		Changes: []notifyd.Change{{
			Kind: "created",
			Href: "https://cal.example.com/calendars/users/fred/work/quarry-picnic.ics",
			By:   notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"},
		}},
	}},
	{file: "cs-resource-change-updated.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeResourceChange,
		Element: elemCS + "resource-change",
		DTStamp: utc(2026, 11, 21, 16, 51, 14),
		From:    notifyd.Person{Href: "mailto:barney@example.com", CommonName: "Barney Rubble"},
		Event:   &notifyd.Event{Href: "/calendars/users/fred/work/standup.ics"},
		Changes: []notifyd.Change{{
			Kind:       "updated",
			Href:       "/calendars/users/fred/work/standup.ics",
			By:         notifyd.Person{Href: "mailto:barney@example.com", CommonName: "Barney Rubble"},
			Properties: []string{"TRANSP", "ATTENDEE", "DTSTART", "LOCATION"},
		}, {
			Kind:       "updated",
			Href:       "/calendars/users/fred/work/standup.ics",
			By:         notifyd.Person{Href: "/principals/users/betty", CommonName: "Betty Rubble"},
			Properties: []string{"getcontenttype", "SUMMARY"},
		}},
	}},
	{file: "cs-resource-change-deleted.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeResourceChange,
		Element: elemCS + "resource-change",
		DTStamp: utc(2026, 11, 21, 16, 51, 14),
		From:    notifyd.Person{Href: "/principals/users/fred", CommonName: "Fred Flintstone"},
		Event: &notifyd.Event{
			Href:    "/calendars/users/fred/work/bowling-league.ics",
			Summary: "Bowling league final",
			Start:   utc(2026, 12, 5, 19, 0, 0),
		},
		Changes: []notifyd.Change{{
			Kind:    "deleted",
			Href:    "/calendars/users/fred/work/bowling-league.ics",
			By:      notifyd.Person{Href: "/principals/users/fred", CommonName: "Fred Flintstone"},
			Summary: "Bowling league final",
		}},
	}},
	{file: "cs-resource-change-mixed.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeResourceChange,
		Element: elemCS + "resource-change",
		DTStamp: utc(2026, 11, 21, 16, 51, 14),
		From:    notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"},
		Changes: []notifyd.Change{
			{Kind: "created", Href: "/calendars/users/fred/work/new.ics",
				By: notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"}},
			{Kind: "updated", Href: "/calendars/users/fred/work/event.ics",
				By: notifyd.Person{Href: "mailto:betty@example.com", CommonName: "Betty Rubble"}},
			{Kind: "updated", Href: "/calendars/users/fred/work/todo.ics"},
			{Kind: "deleted", Href: "/calendars/users/fred/work/old.ics", Summary: "Birthday party"},
		},
	}},
	{file: "cs-resource-change-collection-changes.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeResourceChange,
		Element:  elemCS + "resource-change",
		DTStamp:  utc(2026, 11, 21, 16, 51, 14),
		From:     notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"},
		Calendar: notifyd.Collection{Href: "/calendars/users/fred/work/"},
		Changes: []notifyd.Change{{
			Kind:       "updated",
			Href:       "/calendars/users/fred/work/",
			By:         notifyd.Person{Href: "/principals/users/barney", CommonName: "Barney Rubble"},
			Properties: []string{"displayname"},
		}},
		Fields: map[string]string{"child-created": "1", "child-updated": "2", "child-deleted": "1"},
	}},
	{file: "cs-resource-change-collection-deleted.xml", want: &notifyd.Notification{
		Type:     notifyd.TypeResourceChange,
		Element:  elemCS + "resource-change",
		DTStamp:  utc(2026, 11, 21, 16, 51, 14),
		From:     notifyd.Person{Href: "/principals/users/fred", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/calendars/users/fred/holidays/", DisplayName: "Holidays"},
		Changes: []notifyd.Change{{
			Kind:    "deleted",
			Href:    "/calendars/users/fred/holidays/",
			By:      notifyd.Person{Href: "/principals/users/fred", CommonName: "Fred Flintstone"},
			Summary: "Holidays",
		}},
	}},
	{file: "bedework-resource-change-deleted-tzid.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeResourceChange,
		Element: elemCS + "resource-change",
		DTStamp: utc(2026, 11, 21, 16, 51, 14),
		From:    notifyd.Person{Href: "/ucaldav/principals/users/wilma", CommonName: "Wilma Flintstone"},
		Event: &notifyd.Event{
			Href:    "/ucaldav/user/fred/calendar/choir.ics",
			Summary: "Choir practice",
			Start:   utc(2026, 12, 3, 18, 30, 0), // 19:30 in Berlin, UTC+1 in December
		},
		Changes: []notifyd.Change{{
			Kind:    "deleted",
			Href:    "/ucaldav/user/fred/calendar/choir.ics",
			By:      notifyd.Person{Href: "/ucaldav/principals/users/wilma", CommonName: "Wilma Flintstone"},
			Summary: "Choir practice",
		}},
	}},

	// System and quota status.
	{file: "cs-systemstatus.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeSystemStatus,
		Element: elemCS + "systemstatus",
		DTStamp: utc(2026, 11, 21, 11, 12, 53),
		Status:  "Calendar service down for maintenance at 22:00 UTC",
		Summary: "Calendar service down for maintenance at 22:00 UTC",
		Fields:  map[string]string{"type": "high", "href": "https://status.example.com/maintenance.html"},
	}},
	{file: "dav-systemstatus-default-ns.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeSystemStatus,
		Element: elemDAV + "systemstatus",
		DTStamp: utc(2026, 11, 21, 11, 12, 53),
		Status:  "New calendar sharing features are available",
		Summary: "New calendar sharing features are available",
		Fields:  map[string]string{"type": "low"},
	}},
	{file: "cs-quota-status-warning.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeQuotaStatus,
		Element: elemCS + "quota-status",
		DTStamp: utc(2026, 11, 21, 11, 12, 53),
		Status:  "warning",
		Fields: map[string]string{
			"quota-type":         "attachments",
			"quota-percent-used": "85",
			"href":               "https://cal.example.com/account/quota",
		},
	}},
	{file: "cs-quotastatus-exceeded.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeQuotaStatus,
		Element: elemCS + "quotastatus",
		DTStamp: utc(2026, 11, 21, 11, 12, 53),
		Status:  "exceeded",
		Fields: map[string]string{
			"quota-type":         "attachments",
			"quota-percent-used": "102",
			"href":               "https://cal.example.com/account/fix",
		},
	}},

	// Bedework.
	{file: "bedework-eventreg-registered.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeEventRegRegistered,
		Element: elemBedework + "eventregRegistered",
		UID:     "92565234-0c5d-448f-a775-7ff9f8605df8",
		DTStamp: utc(2026, 11, 21, 10, 15, 0),
		From:    notifyd.Person{Href: "/ucaldav/principals/users/wilma"},
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/MainCal/CAL-2026-concert.ics"},
		Fields:  map[string]string{"eventregNumTicketsRequested": "4", "eventregNumTickets": "3"},
	}},
	{file: "bedework-eventreg-cancelled.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeEventRegCancelled,
		Element: elemBedework + "eventregCancelled",
		UID:     "5d7f1e0a-1111-4c2b-9a3e-6f6f6f6f6f6f",
		DTStamp: utc(2026, 11, 21, 10, 15, 0),
		From:    notifyd.Person{Href: "mailto:wilma@example.com"},
		Summary: "The concert is cancelled because of the storm",
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/MainCal/CAL-2026-concert.ics"},
	}},
	{file: "bedework-suggest.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeSuggest,
		Element: elemBedework + "suggest",
		UID:     "CAL-00f1-suggest-0001",
		DTStamp: utc(2026, 11, 21, 10, 15, 0),
		From:    notifyd.Person{Href: "/principals/groups/bwadmingroups/music"},
		Summary: "You may want this for your department calendar",
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/MainCal/CAL-2026-lecture.ics"},
	}},
	{file: "bedework-suggest-reply.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeSuggestReply,
		Element: elemBedework + "suggestReply",
		UID:     "CAL-00f1-suggest-0002",
		DTStamp: utc(2026, 11, 22, 9, 0, 0),
		From:    notifyd.Person{Href: "/principals/groups/bwadmingroups/physics"},
		Status:  "accepted",
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/MainCal/CAL-2026-lecture.ics"},
	}},
	{file: "bedework-awaiting-approval.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeAwaitingApproval,
		Element: elemBedework + "awaitingApproval",
		UID:     "CAL-00f1-approval-0001",
		DTStamp: utc(2026, 11, 21, 10, 15, 0),
		From:    notifyd.Person{Href: "/principals/users/pebbles"},
		Summary: "Please publish before Friday",
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/pending/CAL-2026-bakesale.ics"},
		Fields:  map[string]string{"calsuiteURL": "/principals/groups/bwadmingroups/campus"},
	}},
	{file: "bedework-approval-response-undeclared.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeApprovalResponse,
		Element: elemBedework + "approvalResponse",
		UID:     "CAL-00f1-approval-0002",
		DTStamp: utc(2026, 11, 23, 8, 0, 0),
		From:    notifyd.Person{Href: "/principals/users/pebbles"},
		Status:  "rejected",
		Summary: "Duplicate of an existing event",
		Event:   &notifyd.Event{Href: "/ucaldav/public/cals/MainCal/CAL-2026-bakesale.ics"},
		Fields:  map[string]string{"calsuiteURL": "/principals/groups/bwadmingroups/campus"},
	}},

	// Unknown types.
	{file: "unknown-vendor-type.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeOther,
		Element: "{http://example.com/ns/calendar-extras/}room-booking",
		UID:     "room-4711",
		DTStamp: utc(2026, 11, 21, 10, 15, 0),
		Fields: map[string]string{
			"uid":   "room-4711",
			"name":  "Granite Room",
			"floor": "2",
			"href":  "/calendars/resources/granite/",
			"note":  "Projector is broken",
		},
	}},
	{file: "unknown-cs-type.xml", want: &notifyd.Notification{
		Type:    notifyd.TypeOther,
		Element: elemCS + "shared-reply",
		UID:     "r-1",
		Fields: map[string]string{
			"uid":     "r-1",
			"summary": "A reply about something notifyd does not know",
		},
	}},

	// Broken bodies.
	{file: "broken-not-xml.txt", err: "notification: not XML: text outside of any element"},
	{file: "broken-truncated.xml", err: "notification: not well-formed XML: XML syntax error on line 4: unexpected EOF"},
	{file: "broken-empty.xml", err: "notification: empty body"},
	{file: "broken-comment-only.xml", err: "notification: not XML: no element found"},
	{file: "broken-doctype-entity.xml", err: "notification: DOCTYPE and other <!...> declarations are not allowed"},
	{file: "broken-wrong-root-namespace.xml",
		err: "notification: root element is notification, not {http://calendarserver.org/ns/}notification or {DAV:}notification"},
	{file: "broken-no-notification-child.xml",
		err: "notification: the notification element holds no notification (only a dtstamp, or nothing)"},
	{file: "broken-mismatched-tags.xml",
		err: "notification: not well-formed XML: XML syntax error on line 2: element <uid> closed by </summary>"},
}

func TestParseFixtures(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range fixtures {
		listed[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > 0 && !bytes.Contains(body[:min(len(body), 200)], []byte("<!--")) &&
				tc.file != "broken-not-xml.txt" {
				t.Errorf("fixture does not open with a comment naming its source")
			}
			got, err := Parse(body)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse succeeded with %+v; want error %q", got, tc.err)
				}
				if err.Error() != tc.err {
					t.Fatalf("error %q; want %q", err, tc.err)
				}
				if got != nil {
					t.Fatalf("Parse returned a notification with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d := diff(tc.want, got); len(d) > 0 {
				t.Errorf("Parse mismatch (-want +got):\n%s", strings.Join(d, "\n"))
			}
			if !reflect.DeepEqual(tc.want, got) {
				t.Errorf("Parse result not DeepEqual to the expected one")
			}
		})
	}
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			continue
		}
		if !listed[filepath.Base(f)] {
			t.Errorf("fixture %s has no expected result in the table", f)
		}
	}
}

// TestParseTypes checks that every type the package maps is covered by a
// fixture, so the table above stays complete.
func TestParseTypes(t *testing.T) {
	seen := map[notifyd.NotificationType]bool{}
	for _, tc := range fixtures {
		if tc.want != nil {
			seen[tc.want.Type] = true
		}
	}
	for _, m := range []map[string]handler{standardTypes, bedeworkTypes} {
		for local, h := range m {
			if !seen[h.typ] {
				t.Errorf("%s (%s) has no fixture", h.typ, local)
			}
		}
	}
	if !seen[notifyd.TypeOther] {
		t.Errorf("no fixture of an unknown type")
	}
}

func TestParseLimits(t *testing.T) {
	wrap := func(inner string) string {
		return `<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T101500Z</CS:dtstamp>` +
			inner + `</CS:notification>`
	}
	tests := []struct {
		name string
		body string
		err  string
	}{
		{"over MaxSize", strings.Repeat(" ", MaxSize+1),
			fmt.Sprintf("notification: body is %d bytes, over the %d-byte limit", MaxSize+1, MaxSize)},
		{"too many elements", wrap(`<X:x xmlns:X="urn:x">` + strings.Repeat("<X:e/>", maxElements) + `</X:x>`),
			"notification: more than 10000 XML elements"},
		{"too deep", wrap(strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth)),
			"notification: XML elements nested deeper than 64 levels"},
		{"whitespace only", " \n\t ", "notification: empty body"},
		{"nil", "", "notification: empty body"},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` +
			wrap(`<CS:systemstatus><CS:description>&lol2;</CS:description></CS:systemstatus>`),
			"notification: DOCTYPE and other <!...> declarations are not allowed"},
		{"undefined entity", wrap(`<CS:systemstatus><CS:description>&xxe;</CS:description></CS:systemstatus>`),
			"notification: not well-formed XML: XML syntax error on line 1: invalid character entity &xxe;"},
		{"second root ignored, garbage after", wrap(`<CS:systemstatus/>`) + `<junk`, ""},
		{"unsupported charset", `<?xml version="1.0" encoding="EBCDIC"?>` + wrap(`<CS:systemstatus/>`),
			`notification: not well-formed XML: xml: opening charset "EBCDIC": unsupported charset "EBCDIC"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("Parse = %+v, %v; want error %q", got, err, tc.err)
			}
		})
	}
	// Exactly at the limits is fine.
	body := wrap(`<X:x xmlns:X="urn:x">` + strings.Repeat("<X:e/>", maxElements-3) + `</X:x>`)
	if _, err := Parse([]byte(body)); err != nil {
		t.Errorf("%d elements: %v", maxElements, err)
	}
	body = wrap(strings.Repeat("<a>", maxDepth-1) + strings.Repeat("</a>", maxDepth-1))
	if _, err := Parse([]byte(body)); err != nil {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
	padded := wrap(`<CS:systemstatus/>`)
	padded += strings.Repeat(" ", MaxSize-len(padded))
	if _, err := Parse([]byte(padded)); err != nil {
		t.Errorf("body of exactly MaxSize: %v", err)
	}
}

func TestParseDetails(t *testing.T) {
	head := `<CS:notification xmlns:CS="http://calendarserver.org/ns/" xmlns:D="DAV:">`
	tests := []struct {
		name string
		body string
		want *notifyd.Notification
	}{
		{"latin-1 body",
			"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + head +
				"<CS:systemstatus><CS:description>Caf\xe9 closed</CS:description></CS:systemstatus></CS:notification>",
			&notifyd.Notification{Type: notifyd.TypeSystemStatus, Element: elemCS + "systemstatus",
				Status: "Café closed", Summary: "Café closed", Fields: map[string]string{"type": "low"}}},
		{"byte order mark and unparseable dtstamp",
			"\xef\xbb\xbf" + head + "<CS:dtstamp>yesterday</CS:dtstamp><CS:systemstatus type='MEDIUM'/></CS:notification>",
			&notifyd.Notification{Type: notifyd.TypeSystemStatus, Element: elemCS + "systemstatus",
				Fields: map[string]string{"type": "medium"}}},
		{"type element before dtstamp, CDATA text, foreign elements ignored",
			head + `<CS:invite-reply><X:href xmlns:X="urn:x">/not/this</X:href><D:href><![CDATA[mailto:a@example.com]]></D:href>` +
				`<CS:invite-accepted/><CS:summary>a <![CDATA[<b>]]> b</CS:summary></CS:invite-reply>` +
				`<CS:dtstamp>2026-11-21</CS:dtstamp></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeShareReply, Element: elemCS + "invite-reply",
				DTStamp: utc(2026, 11, 21, 0, 0, 0), From: notifyd.Person{Href: "mailto:a@example.com"},
				Status: "accepted", Summary: "a <b> b"}},
		{"DAV root with CS type, admin access, unknown access ignored",
			`<D:notification xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:dtstamp>20261121T101500</D:dtstamp>` +
				`<CS:invite-notification><CS:access><CS:owner/><CS:admin/></CS:access><CS:invite-invalid/></CS:invite-notification></D:notification>`,
			&notifyd.Notification{Type: notifyd.TypeShareInvite, Element: elemCS + "invite-notification",
				DTStamp: utc(2026, 11, 21, 10, 15, 0), Access: "admin", Status: "invalid"}},
		{"no-access share",
			`<notification xmlns="DAV:"><share-invite-notification><share-access><no-access/></share-access><invite-deleted/></share-invite-notification></notification>`,
			&notifyd.Notification{Type: notifyd.TypeShareInvite, Element: elemDAV + "share-invite-notification", Status: "deleted"}},
		{"Bedework element in the CS namespace is not Bedework's",
			head + `<CS:suggest><CS:uid>u</CS:uid></CS:suggest></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeOther, Element: elemCS + "suggest", UID: "u",
				Fields: map[string]string{"uid": "u"}}},
		{"unknown leaf type element",
			head + `<X:ping xmlns:X="urn:x">  pong  </X:ping></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeOther, Element: "{urn:x}ping", Fields: map[string]string{"ping": "pong"}}},
		{"unknown empty type element without namespace",
			head + `<ping/></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeOther, Element: "ping"}},
		{"Bedework event with times",
			`<CS:notification xmlns:CS="http://calendarserver.org/ns/" xmlns:B="http://bedework.org/ns/"><B:suggest>` +
				`<B:summary>Talk</B:summary><B:location>Hall</B:location><B:dtstart>20261201</B:dtstart><B:dtend>20261202</B:dtend></B:suggest></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeSuggest, Element: elemBedework + "suggest",
				Event: &notifyd.Event{Summary: "Talk", Location: "Hall", Start: utc(2026, 12, 1, 0, 0, 0),
					End: utc(2026, 12, 2, 0, 0, 0), AllDay: true}}},
		{"Bedework event with mixed date and date-time",
			`<CS:notification xmlns:CS="http://calendarserver.org/ns/" xmlns:B="http://bedework.org/ns/"><B:suggest>` +
				`<B:dtstart>20261201</B:dtstart><B:dtend>20261201T100000Z</B:dtend><B:accepted>true</B:accepted></B:suggest></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeSuggest, Element: elemBedework + "suggest",
				Event: &notifyd.Event{Start: utc(2026, 12, 1, 0, 0, 0), End: utc(2026, 12, 1, 10, 0, 0)}}},
		{"deleted-next-instance with unknown tzid is not guessed",
			head + `<CS:resource-change><CS:deleted><D:href>/c/e.ics</D:href><CS:deleted-details>` +
				`<CS:deleted-summary>S</CS:deleted-summary><CS:deleted-next-instance tzid="Mars/Olympus">20261203T193000</CS:deleted-next-instance>` +
				`</CS:deleted-details></CS:deleted></CS:resource-change></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeResourceChange, Element: elemCS + "resource-change",
				Event:   &notifyd.Event{Href: "/c/e.ics", Summary: "S"},
				Changes: []notifyd.Change{{Kind: "deleted", Href: "/c/e.ics", Summary: "S"}}}},
		{"deleted-next-instance date with tzid",
			head + `<CS:resource-change><CS:deleted><D:href>/c/e.ics</D:href><CS:deleted-details>` +
				`<CS:deleted-next-instance tzid="Europe/Berlin">20261203</CS:deleted-next-instance>` +
				`</CS:deleted-details></CS:deleted></CS:resource-change></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeResourceChange, Element: elemCS + "resource-change",
				Event:   &notifyd.Event{Href: "/c/e.ics", Start: utc(2026, 12, 3, 0, 0, 0), AllDay: true},
				Changes: []notifyd.Change{{Kind: "deleted", Href: "/c/e.ics"}}}},
		{"empty resource-change",
			head + `<CS:resource-change/></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeResourceChange, Element: elemCS + "resource-change"}},
		{"empty quota-status",
			head + `<CS:quota-status/></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeQuotaStatus, Element: elemCS + "quota-status"}},
		{"quota-type as text",
			head + `<CS:quota-status><CS:quota type="Warning"><CS:quota-type>disk</CS:quota-type></CS:quota></CS:quota-status></CS:notification>`,
			&notifyd.Notification{Type: notifyd.TypeQuotaStatus, Element: elemCS + "quota-status", Status: "warning",
				Fields: map[string]string{"quota-type": "disk"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d := diff(tc.want, got); len(d) > 0 {
				t.Errorf("Parse mismatch (-want +got):\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestParseFieldBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<CS:notification xmlns:CS="http://calendarserver.org/ns/"><X:big xmlns:X="urn:x">`)
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "<X:f%02d>v%d</X:f%02d>", i, i, i)
	}
	// A long value cut at 1 KiB must not split the 2-byte "é".
	b.WriteString("<X:long>" + strings.Repeat("a", maxFieldBytes-1) + "é" + "</X:long>")
	b.WriteString(`</X:big></CS:notification>`)
	got, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != maxFields {
		t.Fatalf("%d fields; want %d", len(got.Fields), maxFields)
	}
	if got.Fields["f00"] != "v0" || got.Fields["f49"] != "v49" || got.Fields["f50"] != "" {
		t.Errorf("fields kept are not the first %d: %v", maxFields, got.Fields)
	}
	if s := truncate(strings.Repeat("a", maxFieldBytes-1)+"é", maxFieldBytes); s != strings.Repeat("a", maxFieldBytes-1) {
		t.Errorf("truncate split a character: %q", s[len(s)-4:])
	}
	if s := truncate("short", maxFieldBytes); s != "short" {
		t.Errorf("truncate(short) = %q", s)
	}
}

func TestParsePropertyBound(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:resource-change><CS:updated>` +
		`<CS:calendar-changes><CS:recurrence><CS:changes>`)
	for i := 0; i < 4000; i++ {
		fmt.Fprintf(&b, `<CS:changed-property name="X-P%05d"/><CS:changed-property name="X-P%05d"/>`, i, i)
	}
	b.WriteString(`</CS:changes></CS:recurrence></CS:calendar-changes></CS:updated></CS:resource-change></CS:notification>`)
	got, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	props := got.Changes[0].Properties
	if len(props) != maxProperties || props[0] != "X-P00000" || props[maxProperties-1] != "X-P00099" {
		t.Errorf("%d properties kept (%v...); want the first %d distinct ones", len(props), props[:3], maxProperties)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Time
		dateOnly bool
	}{
		{"20261121T101500Z", utc(2026, 11, 21, 10, 15, 0), false},
		{"20261121t101500z", utc(2026, 11, 21, 10, 15, 0), false},
		{"20261121T101500", utc(2026, 11, 21, 10, 15, 0), false},
		{"20261121T101500+0100", utc(2026, 11, 21, 9, 15, 0), false},
		{"2026-11-21T10:15:00Z", utc(2026, 11, 21, 10, 15, 0), false},
		{"2026-11-21T10:15:00.5+01:00", utc(2026, 11, 21, 9, 15, 0).Add(500 * time.Millisecond), false},
		{"2026-11-21T10:15:00", utc(2026, 11, 21, 10, 15, 0), false},
		{" 20261121 ", utc(2026, 11, 21, 0, 0, 0), true},
		{"2026-11-21", utc(2026, 11, 21, 0, 0, 0), true},
		{"", time.Time{}, false},
		{"20261321T101500Z", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{strings.Repeat("2", 100), time.Time{}, false},
	}
	for _, tc := range tests {
		got, dateOnly := parseTime(tc.in)
		if !got.Equal(tc.want) || dateOnly != tc.dateOnly || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tc.in, got, dateOnly, tc.want, tc.dateOnly)
		}
	}
	for _, tzid := range []string{"", "Local", "../../etc/passwd", "/etc/localtime", "Europe/Nowhere", strings.Repeat("A", 65), "Europe/Berlin;"} {
		if tzid == "" {
			continue
		}
		if _, ok := loadLocation(tzid); ok {
			t.Errorf("loadLocation(%q) accepted", tzid)
		}
	}
	if got, _ := parseTimeIn("20261203T193000Z", "Europe/Berlin"); !got.Equal(utc(2026, 12, 3, 19, 30, 0)) {
		t.Errorf("a value in UTC must ignore tzid: %v", got)
	}
}

func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile("testdata/cyrus-invite-notification.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// diff lists the differences between want and got, one "path: -want +got"
// line each, walking structs, pointers, slices and maps.
func diff(want, got any) []string {
	var out []string
	diffValue("", reflect.ValueOf(want), reflect.ValueOf(got), &out)
	return out
}

func diffValue(path string, w, g reflect.Value, out *[]string) {
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() != g.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: -%v +%v", path, w, g))
		}
		return
	}
	if w.Type() != g.Type() {
		*out = append(*out, fmt.Sprintf("%s: type -%v +%v", path, w.Type(), g.Type()))
		return
	}
	if t, ok := w.Interface().(time.Time); ok {
		gt := g.Interface().(time.Time)
		if !reflect.DeepEqual(t, gt) {
			*out = append(*out, fmt.Sprintf("%s: -%v +%v", path, t, gt))
		}
		return
	}
	switch w.Kind() {
	case reflect.Pointer:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: -%s +%s", path, show(w), show(g)))
			}
			return
		}
		diffValue(path, w.Elem(), g.Elem(), out)
	case reflect.Struct:
		for i := 0; i < w.NumField(); i++ {
			diffValue(path+"."+w.Type().Field(i).Name, w.Field(i), g.Field(i), out)
		}
	case reflect.Slice:
		if w.IsNil() != g.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: -%s +%s (nil and empty differ)", path, show(w), show(g)))
			return
		}
		for i := 0; i < max(w.Len(), g.Len()); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= w.Len():
				*out = append(*out, fmt.Sprintf("%s: - +%+v", p, g.Index(i)))
			case i >= g.Len():
				*out = append(*out, fmt.Sprintf("%s: -%+v +", p, w.Index(i)))
			default:
				diffValue(p, w.Index(i), g.Index(i), out)
			}
		}
	case reflect.Map:
		if w.IsNil() != g.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: -%s +%s (nil and empty differ)", path, show(w), show(g)))
			return
		}
		keys := map[string]reflect.Value{}
		for _, k := range append(w.MapKeys(), g.MapKeys()...) {
			keys[fmt.Sprint(k)] = k
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			diffValue(fmt.Sprintf("%s[%q]", path, k), w.MapIndex(keys[k]), g.MapIndex(keys[k]), out)
		}
	default:
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: -%q +%q", path, fmt.Sprint(w), fmt.Sprint(g)))
		}
	}
}

// show prints a value for a diff line, spelling out nil.
func show(v reflect.Value) string {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil() {
		return "nil"
	}
	if v.Kind() == reflect.Pointer {
		return fmt.Sprintf("&%+v", v.Elem())
	}
	return fmt.Sprintf("%+v", v)
}
