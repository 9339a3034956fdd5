// Package message is what every channel needs to write a message: times
// in the recipient's zone and language, readable names for people and
// calendars, templates per notification type and language with an
// override directory, text clean-up, a reminder as people read it
// ([Reminder]: "today at 09:00", "due tomorrow") and as an iCalendar
// object ([ReminderCalendar]), a calendar update as people read it
// ([Update]: "Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9
// December 2026, 14:00 CET", its main change, who made it) and the
// object it is about ([UpdateCalendar]), and the size limits that keep a
// large notification from making a larger message: each free-text field
// cut ([Shorten], [MaxFieldRunes]), template output bounded as it is
// written ([Execute]) and a note saying a message was shortened
// ([ShortenedNote]), and what a digest says once the notifications it
// gathers are collapsed ([Collapse]: each event once in its latest
// state, grouped by calendar, nothing for what was undone).
//
// The channels (email, sms, im) keep what is theirs: their template files
// (embedded in each channel and handed over as an [io/fs.FS]), the data
// their templates see, and how a rendered text is shaped for the medium.
package message
