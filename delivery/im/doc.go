// Package im is notifyd's instant-message channel over XMPP, registered
// as "im": calendar pop-ups sent as chat messages to people who are
// online, as Oracle's calendar agent does for its instant-messaging
// server.
//
// # Connection
//
// The channel keeps one connection for the configured account
// (channels.xmpp), made in the background when the channel is built and
// remade with a jittered backoff (1 s doubling to 1 min) whenever it
// fails. channels.xmpp.tls selects STARTTLS (required; the default),
// implicit TLS or none (plain, for tests). The server's certificate must
// be valid for the JID's domain; the system's certificate authorities are
// trusted (SSL_CERT_FILE and SSL_CERT_DIR point Go elsewhere), or those of
// [WithRootCAs]. Without channels.xmpp.server the server is found with the
// JID domain's DNS SRV record (_xmpp-client._tcp), else at the domain on
// port 5222 (5223 with implicit TLS). The connection binds the resource
// "notifyd-XXXXXXXX" (or the JID's resource and a random suffix), is
// pinged after 30 s of silence and given up when the server stays silent
// 10 s more. [Channel.Close] says goodbye and ends it.
//
// # Presence
//
// An IM pop-up makes sense only to someone online, so the channel tracks
// presence, which XMPP shows only to a contact with a presence
// subscription. The engine gives the channel the list of IM addresses of
// enabled subscriptions ([Channel.WatchAddresses]); the channel reads it
// at start and every minute, and asks every address it cannot see the
// presence of for a subscription (presence "subscribe"), pre-approving
// theirs ("subscribed"). It approves every subscription request it gets,
// and asks a watched address that sends one for theirs in return, so that
// subscriptions become mutual. An address it is asked to deliver to is
// watched (and asked) at once. A refused request is asked again a day
// later at the earliest.
//
// A recipient is online while at least one of their resources is
// available (away and do-not-disturb included). After login (or after a contact approves the subscription)
// the server sends the contacts' presence; Send waits for it up to 3 s,
// and up to 5 s for a subscription request it has just made to be
// approved (clients that approve on their own do so at once; a person
// takes longer). A recipient whose presence is still unknown then is
// offline.
//
// Each delivery method has a presence policy (DeliveryMethod.Presence):
//
//   - online_only (the default): a message to an offline recipient is not
//     sent; Send returns Result{Skipped: "recipient offline
//     (online_only)"} ([ReasonOffline], followed by the reason when the
//     presence is not visible at all). The message to an online recipient
//     carries the XEP-0334 hint <no-store/> (under fallback too), so that
//     a server that honours it does not keep it for a recipient who went
//     offline in between (Prosody's mod_offline does not).
//   - store: the message is sent whatever the presence, with the hint
//     <store/>; the server's offline storage (XEP-0160) delivers it at the
//     recipient's next login.
//   - fallback: for an offline recipient, Send returns an error wrapping
//     delivery.ErrFallback, and the engine delivers through the
//     subscription's next method.
//
// # Messages
//
// Each request becomes one <message type="chat"/> to the address, with
// the ID "notifyd-" + delivery ID, xml:lang, a <body/> and, when the
// notification concerns an event with a start time, the event as an
// iCalendar object (text/calendar, RFC 5545: a VCALENDAR with one
// VEVENT: UID, DTSTAMP, DTSTART, DTEND, SUMMARY, LOCATION, and
// STATUS:CANCELLED for a deleted event or a cancelled registration; for
// a reminder, the event's or task's instance, a VEVENT or VTODO with
// RECURRENCE-ID, DUE and DESCRIPTION too, as message.ReminderCalendar
// writes it; for a calendar update, the event or task as it is now, the
// same way, STATUS:CANCELLED when deleted or cancelled, as
// message.UpdateCalendar writes it, and none for a calendar) in a second
// element:
//
//	<message type="chat" to="wilma@example.org" id="notifyd-…" xml:lang="en">
//	  <body>Reminder: “Stand-up” in “Work”
//	When: Tuesday 1 December 2026, 16:00–16:30 CET
//	Where: Room 4</body>
//	  <calendar xmlns="urn:notifyd:calendar:0" type="text/calendar">BEGIN:VCALENDAR…</calendar>
//	  <no-store xmlns="urn:xmpp:hints"/>
//	</message>
//
// Clients show the body and ignore the element they do not know; a
// client or bot that wants the event reads it there ([CalendarNS]). After
// the message the channel pings the server and counts the message as sent
// when the answer comes: the server handles a session's stanzas in
// order, so it has routed, stored or refused the message by then. A
// refusal (an error stanza from the address, such as service-unavailable
// for an account that does not exist) is a permanent failure, or a
// temporary one when its type is "wait"; no answer within 10 s and a
// connection that is down are temporary failures (the engine retries; a
// message whose confirmation was lost may then arrive twice).
// channels.xmpp.rate_limit and burst bound the messages sent per second.
//
// # Rendering
//
// The body and the calendar object come from templates built in
// (templates/LANG/TYPE.tmpl, text/template), English and French, chosen
// from the recipient's locale (exact tag, base language, then English),
// with dates in the recipient's language and time zone as in emails. Each
// file defines "text", a few short lines (lines are trimmed, blank ones
// dropped, the whole cut at 1000 characters), and may define "calendar";
// generic.tmpl gives both to the types without their own, and its
// "calendar" is the shared "vcalendar" of en/_ical.tmpl. Templates see
// Type, System, Account, Recipient, From, FromEmail, Calendar, Access,
// Status, Summary, Event (Summary, Location, When, AllDay, Start, End),
// Reminder (for a reminder: Task, Due, Start, Text, LateMinutes, Rang,
// Snooze… as in message.Reminder; nil otherwise), ReminderCalendar,
// Update (for a calendar update: Component, Action, Task, Title, When,
// Due, Location, Occurrence, By, Changes, Main, Rest… as in
// message.Update; nil otherwise), UpdateCalendar,
// Changes (Kind, Summary, By, Properties, When), ChangedBy, Fields
// (Name, Label, Value), Cancelled, EventUID, Stamp, Lang, Locale,
// TimeZone and Notification, the methods Date, Time and DateTime, and the
// functions join, lower, upper, truncate (N, then the string), ical (an
// iCalendar TEXT value), icalUTC and icalDate. The calendar object's lines
// are folded at 75 octets and end with CRLF.
//
// A calendar update reads "The event “Team meeting” in “Work” was changed
// by Fred:", then its changes a line each, the main one first ("Moved:
// Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00
// CET", "Location: Room 1 → Room 2"; five at most, then "…and 2 more");
// a creation or deletion gives what, when and where and who made it.
//
// # Size
//
// Each free-text field templates see is cut to message.MaxFieldRunes
// (2000) characters. The body is at most 1000 characters; the calendar
// object at most [MaxCalendarBytes] (8 KiB) once escaped for XML, else it
// is written again with fields of message.TightFieldRunes (200)
// characters, else left out; the whole stanza stays within
// [MaxStanzaBytes] (32 KiB), under the limits servers put on a client's
// stanzas (Prosody's is 256 KiB, ejabberd's has been 64 KiB; a stanza over
// it makes the server close the stream).
// A shortened message ends its body with a note in its language:
// "(Shortened: the full notification is 480 KB; open the calendar “Work”
// to read it all.)". With the preference link
// (preference_page.sms_and_im_link), the body's last line, after the
// note, is "Manage notifications: URL" (templates/LANG/_link.tmpl),
// whole, within the 1000 characters; the calendar object does not carry
// it.
package im
