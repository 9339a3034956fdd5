// Package sms is notifyd's SMS channel: it writes a notification as a
// short text ([Renderer]), keeps it within the configured number of SMS
// segments ([Segments], [Shorten]) and sends it through Twilio's Messages
// API with twilio-go ([Channel]). Importing the package registers the
// channel as "sms"; it is enabled when channels.twilio.account_sid is set.
//
// # Texts
//
// One template per notification type and language is built in
// (templates/LANG/TYPE.tmpl, text/template; a type without its own uses
// generic.tmpl; files starting with "_" hold shared definitions, and a
// language that lacks one takes English's). English ("en") and French
// ("fr") are built in; the language is chosen from the recipient's locale
// by exact tag, then base language, then English. Dates are short
// ("Tue 1 Dec 2026 14:00-15:00 CET", "mar. 1er déc. 2026 14h00-15h00 CET")
// and in the recipient's time zone.
//
// Templates receive Type, System, Principal, Account (the principal's last
// path segment), From, Calendar, Access, Status, Summary, Event (Summary,
// Location, When, AllDay; nil when none), Reminder (for a reminder: Task,
// Day, Date, At, Until, Due, Text, LateMinutes, Snooze… as in
// message.Reminder; nil otherwise), Update (for a calendar update:
// Component, Action, Task, Title, When, Due, Location, Occurrence, By,
// Changes, Main, Rest, each change's Kind, Label, From, To and Brief, as
// in message.Update; nil otherwise), Changes (Kind, Summary, By,
// Properties, When), ChangedBy, Fields (Name, Value), Lang, Locale and
// TimeZone, every string cleaned to one line. Besides the built-in
// functions they can call join, lower, upper and truncate (N, then the
// string). The rendered text's blank lines go, spaces are tidied and
// typographic characters with a plain equivalent in the GSM-7 alphabet
// (curly quotes, guillemets, dashes, "…", special spaces) are replaced, as
// Twilio's smart encoding does, so that a text is GSM-7 whenever its
// letters allow.
//
// # Segments
//
// A text in the GSM 03.38 alphabet travels as GSM-7: 160 septets in one
// segment, 153 per segment beyond, extension characters (^ { } \ [ ] ~ | €)
// taking two. Any other character makes the whole text UCS-2: 70 UTF-16
// code units in one segment, 67 beyond, an emoji taking two. A text longer
// than channels.twilio.max_segments is shortened at a word boundary and
// ends with "..." (GSM-7; the alphabet has no "…", and adding one would
// halve the capacity) or "…" (UCS-2). The ellipsis is the only mark of a
// shortened text: a sentence saying so would take a segment of its own.
// Before that, each free-text field templates see is cut to
// message.MaxFieldRunes (2000) characters and the rendered text to
// [MaxRenderBytes] (8 KiB, more than 10 segments hold), so that a
// notification of up to 1 MiB costs no more to write than a short one;
// and a text over max_segments is written again with its free-text
// fields cut to 40, then 25, then 15 characters, the first that fits
// sent, so that a long summary does not push out what follows it.
// A reminder reads "Reminder: Budget review, 09:00-10:00, Room 4"
// ("tomorrow 09:00-10:00", "Tue 1 Dec 2026 09:00-10:00", "due 17:00";
// French "Rappel : Budget review, 9h00-10h00, Room 4"), in the
// recipient's zone, followed by the alarm's own text and "(12 min late)"
// when it is late.
// A calendar update leads with its main change, the new time in a few
// words ("Moved: "Team meeting" -> Wed 9 Dec 14:00 in "Work". By
// Fred."; "Cancelled: …", "Completed: …", "New due date: … -> Fri 4 Dec
// 17:00"; French "Déplacé : … -> mer. 9 déc. 14h00"), then the other
// changes ("Also: location Room 2", only their names beyond two); a
// creation or deletion gives what, when, where and the calendar. French
// texts call a task an "élément à faire": "tâche" is not GSM-7.
// With the preference link (preference_page.sms_and_im_link), a text
// ends with a line "Manage alerts: URL" (templates/LANG/_link.tmpl),
// never cut: its fields are cut shorter, or a digest lists fewer
// entries, to leave it room, and it is left out when even that does not
// fit in max_segments.
//
// # Sending
//
// Each message goes to POST /2010-04-01/Accounts/{sid}/Messages.json with
// To, From and/or MessagingServiceSid, Body and StatusCallback (see
// [CallbackURL]: Twilio reports the message's later statuses there, and
// notifyd's API records them). channels.twilio.base_url sends the requests
// elsewhere (a mock such as Prism); twilio-go takes no context, so each
// request is bounded by channels.twilio.timeout and by the context of the
// send. [APIError] carries Twilio's refusal; [APIError.Temporary] tells a
// retry (429 / 20429, 5xx, 401) from a failure (21211 invalid number,
// 21610 unsubscribed recipient, which also disables the delivery method,
// and other 4xx). The Retry-After header, which twilio-go does not expose,
// is read by the channel's own transport and passed to the engine.
//
// # Fallback accounts
//
// channels.twilio.fallback_accounts are tried in order after the primary
// account: an account that is down and certainly did not take the message
// (unreachable before anything was written; 5xx but 504; 429; 401) is
// skipped for channels.twilio.cool_down ([DefaultCoolDown]) and the message
// goes to the next one in the same send. A refusal of the message and an
// unknown outcome are never tried elsewhere. The channel is a
// prometheus.Collector of per-account counters (notifyd_sms_account_*).
package sms
