// Package email is notifyd's email channel: it writes a notification as an
// email ([Renderer]) and sends emails over SMTP ([Sender]).
//
// # Rendering
//
// A [Renderer] holds one template file per notification type and language,
// built in (embedded from templates/LANG/TYPE.tmpl) and optionally
// overridden per file from a directory laid out the same way. Each file
// defines three templates: "subject" and "text" (executed with
// text/template) and "html" (executed with html/template, so every value is
// escaped for its context). A type without its own file, or a file that
// lacks one of the three, falls back to generic.tmpl of the same language.
// Files whose name starts with "_" (for example _common.tmpl) hold shared
// definitions; a language directory that lacks one takes English's.
//
// The language is chosen from the recipient's BCP 47 locale by exact tag
// ("fr-ca"), then base language ("fr"), then English. English ("en") and
// French ("fr") are built in; a directory for another language needs at
// least generic.tmpl. Dates are written in English or French (the
// English of en-US, en-PH uses month-first dates, and that of en-US,
// en-CA, en-AU, en-NZ, en-IN, en-PH the 12-hour clock), in the recipient's
// time zone.
//
// Templates receive a value with these fields (strings are already cleaned
// to one line: control and bidirectional-override characters removed):
//
//	Type            notification type, e.g. "share-invite"
//	System          calendar system name (notifyd configuration key)
//	Principal       principal href; Account is its last path segment
//	Recipient       the email address written to
//	From            who triggered it: common name, else mailto address, else
//	                last path segment of their principal ("" if unknown)
//	FromEmail       their mailto address when From is a common name
//	Calendar        calendar name: RenderInput.CalendarName, else the
//	                notification's display name, else the href's last segment
//	Access, Status, Summary    as in notifyd.Notification
//	Event           *{Summary, Location, When, AllDay, Start, End, Due} or
//	                nil; When is the localized time span, Start/End are in
//	                the recipient's zone, Due is a task's due time written
//	Reminder        for a reminder (an alarm ringing; nil otherwise):
//	                *{Task, Day ("today", "tomorrow" or ""), Date, At,
//	                Until, Due, Start, Text, Description (lines), Rang,
//	                LateMinutes, Snooze, Action}: when the event starts
//	                or the task is due, from the day the reminder is
//	                sent, and what the alarm adds (see message.Reminder)
//	Update          for a calendar update (event-, todo-, calendar-
//	                created, modified, deleted; nil otherwise):
//	                *{Component, Action, Task, Title, When, Due, Start,
//	                Location, Occurrence, By, Changes, Main, OldName}:
//	                Changes are what a modification changed, each
//	                {Kind ("moved", "start", "end", "due", "title", "name",
//	                "location", "description", "recurrence", "cancelled",
//	                "uncancelled", "status", "completed", "uncompleted", or
//	                another field's name), Label, From, To, Brief}, times
//	                written in the recipient's zone; Main is the change a
//	                subject leads with (see message.Update)
//	Changes         []{Kind, Summary, By, Properties, When, Location}
//	ChangedBy       who made all the changes, when that is one person
//	Fields          []{Name, Label, Value}, sorted by Name
//	UnsubscribeURL  one-click unsubscribe URL ("" when none)
//	PreferencesURL  the recipient's preference page ("" when none)
//	Subject         the rendered subject (in "text" and "html")
//	Lang, Locale, TimeZone
//	Notification    the *notifyd.Notification itself
//
// and methods Date, Time and DateTime (a time.Time, localized, in the
// recipient's zone). Besides the built-in functions, templates can call
// join, lower, upper and truncate (N, then the string: {{.Summary |
// truncate 40}}). The rendered subject is cut to one line of at most 200
// characters; the text part's blank lines are tidied (runs shrink to one,
// trailing spaces go, "--" becomes the "-- " signature separator).
//
// NewRenderer renders every template once with sample data, so a broken
// override is reported when the templates load.
//
// # Size
//
// A notification may hold up to 1 MiB of text, and one value can appear
// many times in a message (a resource change's event summary once per
// change, in both parts, escaped in HTML). Each free-text field templates
// see is cut to message.MaxFieldRunes (2000) characters; the text part is
// at most [MaxTextBytes] (64 KiB), the HTML part at most [MaxHTMLBytes]
// (96 KiB, under the 102 KB beyond which Gmail clips a message), the
// subject 200 characters and attachments [MaxAttachmentBytes] (16 KiB),
// so a message stays under 512 KiB once encoded.
// A message over a limit is rendered again with fields cut to
// message.TightFieldRunes (200) characters and as many changes and
// fields as fit; when even that is too large (an override template that
// writes far more than its data), the text part is cut at a line and the
// HTML part left out. A shortened message says so in its language, before
// the text's signature and at the end of the HTML body: "(Shortened: the
// full notification is 480 KB; open the calendar “Work” to read it all.)".
//
// # Reminders
//
// A reminder reads "Reminder: Budget review at 09:00" ("tomorrow at
// 09:00", "on Tuesday 1 December 2026 at 09:00", "Send report, due at
// 17:00"; French "Rappel : Budget review à 09:00"), and its body gives
// the event's summary, times in the recipient's zone, place, the
// alarm's own text when it says more than the summary, the event's
// description, and says when the alarm was snoozed or the reminder is
// late (after an outage). It carries the instance as an attachment,
// reminder.ics (text/calendar; method=PUBLISH: a VEVENT or VTODO with
// UID, RECURRENCE-ID, DTSTART and DTEND or DUE, SUMMARY, LOCATION and
// DESCRIPTION, see message.ReminderCalendar), of at most
// [MaxAttachmentBytes] (16 KiB): fields are cut to 200 characters when
// it would be larger, and the message then says it was shortened.
//
// # Calendar updates
//
// An event, task or calendar created, modified or deleted reads as what a
// person sees of it: "New event: “Team meeting”, Tuesday 8 December
// 2026, 10:00–11:00 CET", "Moved: “Team meeting”, now Wednesday 9
// December 2026, 14:00–15:00 CET", "Cancelled: …", "Completed: “Send
// the report”", "Calendar renamed: “Old” → “New”" (French "Déplacé :
// « Team meeting », désormais …"). A modification's body lists each
// change, "Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December
// 2026, 14:00 CET", "Location: Room 1 → Room 2", "Title: A → B",
// "Cancelled", "Recurrence changed: …", in the recipient's zone (all-day
// dates as dates), who made it ("was changed by Fred") and the event or
// task as it is now; a creation or deletion gives what, when, where and
// the calendar; one occurrence of a recurring event is named as such.
//
// # Sending
//
// A [Sender] sends a batch of messages over one SMTP connection (STARTTLS,
// implicit TLS or plain, with PLAIN or LOGIN authentication when a user name
// is configured) and returns one error per message; [IsTemporary] tells a
// retry (4xx reply, connection trouble) from a failure (5xx reply, invalid
// message), and [SMTPError] carries the server's reply for the delivery
// log.
package email
