package caldavclient

// Answers captured from Cyrus IMAP 3.6 (scripts/peers/cyrus.sh) to the
// calendar requests, kept verbatim (but for the CRs of the iCalendar
// lines, which Go strings keep as "\r") so the tests need nothing outside
// the package. The service account "notifier" reads fred's calendars
// Default and work, granted to it as the package documentation says.

const (
	// sampleCalendarHome is the answer to Calendars' PROPFIND Depth 1 of
	// the notifier's calendar home, which Cyrus names as every principal's:
	// the notifier's own Default, Inbox and Outbox, and fred's Default and
	// work, subscribed to.
	sampleCalendarHome = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>/dav/calendars/user/notifier/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:displayname><![CDATA[#calendars]]></D:displayname><D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><D:sync-token/><CS:getctag/><C:supported-calendar-component-set/><C:calendar-timezone/><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/Default/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname><![CDATA[personal]]></D:displayname><D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner><D:sync-token>data:,1796556769-5</D:sync-token><CS:getctag>1796556769-5</CS:getctag><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><C:calendar-timezone/><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/Inbox/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:schedule-inbox/></D:resourcetype><D:displayname><![CDATA[Inbox]]></D:displayname><D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner><D:sync-token>data:,1796556769-3</D:sync-token><CS:getctag>1796556769-3</CS:getctag><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><C:calendar-timezone/><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/Outbox/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:schedule-outbox/></D:resourcetype><D:displayname><![CDATA[Outbox]]></D:displayname><D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner><D:sync-token>data:,1796556769-2</D:sync-token><CS:getctag>1796556769-2</CS:getctag><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><C:calendar-timezone/><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/fred.Default/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/><CS:shared/></D:resourcetype><D:displayname><![CDATA[personal]]></D:displayname><D:owner><D:href>/dav/principals/user/fred/</D:href></D:owner><D:sync-token>data:,1796556766-8</D:sync-token><CS:getctag>1796556766-8</CS:getctag><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><C:calendar-timezone/><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/fred.work/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/><CS:shared/></D:resourcetype><D:displayname><![CDATA[Work]]></D:displayname><D:owner><D:href>/dav/principals/user/fred/</D:href></D:owner><D:sync-token>data:,1796557000-4</D:sync-token><CS:getctag>1796557000-4</CS:getctag><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set><C:calendar-timezone><![CDATA[BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//x//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
END:VCALENDAR
]]></C:calendar-timezone></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><C:calendar-timezone-id/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`

	// sampleMultiGet is the answer to a calendar-multiget of fred's
	// Default for an event with an alarm and a deleted object.
	sampleMultiGet = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>/dav/calendars/user/notifier/fred.Default/ev1.ics</D:href><D:propstat><D:prop><D:getetag>"18cfe67b6a70f88497e09039d07d602d56adc6cc"</D:getetag><C:calendar-data><![CDATA[BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:ev1
DTSTAMP:20260101T000000Z
DTSTART:20310328T100000Z
DTEND:20310328T110000Z
SUMMARY:one
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:x
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
]]></C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/dav/calendars/user/notifier/fred.Default/gone.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>`
)
