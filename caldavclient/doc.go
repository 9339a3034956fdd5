// Package caldavclient talks to a calendar system's CalDAV server with the
// system's service account. Every request goes to the system's configured
// base URL only (same scheme, host and port; redirects included), and
// every href the server sends is checked before it is used.
//
// Notifications: it finds a principal's notification collection
// (NotificationURL), syncs it with the WebDAV sync-collection REPORT
// (RFC 6578) from a stored token (Sync), fetches the notifications (Get)
// and deletes or marks them once delivered (Delete, Put).
//
// Calendars, for reminders: it lists a principal's calendars in its
// calendar homes (Calendars: components, time zone, sync token; with
// CalendarsListedSince, one listing of a home serves every principal of a
// round of polls whose home it is), syncs each calendar (Sync: changed
// members with their ETags, deleted members; one REPORT when nothing
// changed) and fetches what changed with
// calendar-multiget REPORTs of at most 100 objects (MultiGet: a deleted
// object is Missing, one over 1 MiB TooLarge). A refused token is
// ErrInvalidSyncToken: sync again from "" (a full sync). It reads the
// principal's calendar user addresses too (CalendarUserAddresses, with
// the notification collection), to tell the principal among attendees.
//
// Answers are read as a stream and bounded: the body by
// Config.MaxResponseBytes, the XML by depth and element counts, each text
// property and calendar object by a size of its own.
//
// The engine's jobs use it: cmd/notifyd makes one Client per system,
// shared by the sync and delivery workers, and a Client keeps at most the
// system's max_connections connections open to the server.
//
// # Giving the service account a user's calendars on Cyrus IMAP 3.6
//
// Cyrus 3.6 lets another account read a user's calendar but shows it
// through the reader's own calendar home, so three things are needed for
// each calendar, all done over IMAP (they are mailbox settings; Cyrus's
// DAV side cannot make them). For the calendar NAME of user OWNER, whose
// path is /dav/calendars/user/OWNER/NAME/ and mailbox
// user/OWNER/#calendars/NAME, with the service account notifier:
//
//	admin:    SETACL "user/OWNER/#calendars/NAME" notifier lr
//	admin:    SETMETADATA "user/OWNER/#calendars/NAME" (/shared/vendor/cmu/cyrus-imapd/sharedseen "true")
//	notifier: SUBSCRIBE "Other Users/OWNER/#calendars/NAME"
//
// (cyradm: "setacl user/OWNER/#calendars/NAME notifier lr" and
// "setmetadata user/OWNER/#calendars/NAME sharedseen true"; the
// subscription must be made by notifier itself, with any IMAP client.
// "Other Users/" is the default other-users namespace; see NAMESPACE.)
//
//   - The ACL lets notifier read the calendar. It must be on the calendar
//     mailbox itself: lr on user/OWNER/#calendars is inherited by
//     calendars made after it is set (MKCALENDAR), not by those already
//     there, such as the Default calendar Cyrus makes on the user's first
//     visit.
//   - sharedseen makes Cyrus show notifier the owner's alarms. Cyrus keeps
//     VALARMs (and TRANSP, X-MOZ-LASTACK, X-MOZ-SNOOZE-TIME) as per-user
//     data: without sharedseen, an account other than the owner reads the
//     events and tasks with every alarm removed, and notifyd finds nothing
//     to remind of. With it, every reader of the calendar, sharees
//     included, sees and edits the owner's alarms.
//   - The subscription makes the calendar appear in notifier's calendar
//     home. Cyrus answers notifier's PROPFIND of any principal with
//     notifier's own home, /dav/calendars/user/notifier/, and redirects
//     the owner's paths (the home, 301 to a broken
//     /dav/calendars/user/notifier/OWNER.(null); a calendar, 301 to
//     /dav/calendars/user/notifier/OWNER.NAME/). notifier's home lists its
//     own calendars and those it subscribed to, as OWNER.NAME with
//     DAV:owner /dav/principals/user/OWNER/. Calendars keeps only those
//     whose owner is the principal asked for, so Calendars(OWNER's
//     principal) returns /dav/calendars/user/notifier/OWNER.NAME/, and
//     Sync and MultiGet work there (the members' hrefs are under that
//     path; Sync of the owner's path fails with ErrMoved).
//
// The scheduling inbox (ScheduleInboxListedSince) is read the same way:
// lr on user/OWNER/#calendars/Inbox and notifier's subscription to
// "Other Users/OWNER/#calendars/Inbox" make it appear in notifier's home
// as OWNER.Inbox (no sharedseen needed: an iTIP message has no alarms to
// hide). Cyrus's schedule-inbox-URL names notifier's own Inbox whichever
// principal is asked, which is why the inbox is found by its owner in
// the listing.
//
// Besides, the PROPFIND of OWNER's principal (notification collection,
// calendar home, calendar user addresses) is 403 unless notifier has lr
// on user/OWNER/#calendars itself (l or r alone is not enough).
//
// The recipe has to be run for every calendar a user makes later (a
// provisioning hook or a periodic job): such a calendar inherits the ACL of
// user/OWNER/#calendars but neither sharedseen (not even when the parent
// has it) nor the subscription. Until then Calendars does not list it, and
// logs a warning when it finds none of the principal's calendars.
// Each Calendars call on Cyrus lists every calendar notifier subscribed to,
// of all principals. Cyrus 3.6 sends DAV:sync-token, CS:getctag,
// CALDAV:supported-calendar-component-set (VEVENT VTODO VJOURNAL VFREEBUSY
// VAVAILABILITY unless set by MKCALENDAR) and CALDAV:calendar-timezone
// when one was set (by MKCALENDAR in the tests; none by default), not
// CALDAV:calendar-timezone-id (404). Tokens look like data:,1796557449-9; a
// refused one is 403 DAV:valid-sync-token; DAV:limit gives 507 for the
// collection and a token to continue from. The test helper
// peertest.Cyrus.GrantCalendar runs the recipe (TestCyrusCalendars,
// TestCyrusCalendarGrantSteps).
package caldavclient
