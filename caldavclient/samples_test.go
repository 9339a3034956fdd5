package caldavclient

// Bodies captured from Cyrus IMAP 3.6 (see scripts/peers/cyrus.sh), kept
// here verbatim so the tests need nothing outside the package.

const (
	// sampleSyncResponse is a sync-collection REPORT answer (initial sync, one invite).
	sampleSyncResponse = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</D:href><D:propstat><D:prop><D:getetag>"5f668712f2b0b30989b8b77fbe432229b6d3294f"</D:getetag><CS:notificationtype><CS:invite-notification/></CS:notificationtype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:sync-token>data:,1795238818-3</D:sync-token></D:multistatus>`
	// sampleInviteNotification is a GET of a CS:invite-notification.
	sampleInviteNotification = `<?xml version="1.0" encoding="utf-8"?>
<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T052657Z</CS:dtstamp><CS:invite-notification><CS:uid>7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</CS:uid><D:href xmlns:D="DAV:">/dav/principals/user/wilma/</D:href><CS:invite-noresponse/><CS:access><CS:read-write/></CS:access><CS:hosturl><D:href xmlns:D="DAV:">/dav/calendars/user/fred/Default/</D:href></CS:hosturl><CS:organizer><D:href xmlns:D="DAV:">/dav/principals/user/fred/</D:href><CS:common-name>fred</CS:common-name></CS:organizer><CS:summary/><C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></CS:invite-notification></CS:notification>
`
	// sampleInviteReply is a GET of a CS:invite-reply.
	sampleInviteReply = `<?xml version="1.0" encoding="utf-8"?>
<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T052700Z</CS:dtstamp><CS:invite-reply><D:href xmlns:D="DAV:">/dav/principals/user/wilma/</D:href><CS:invite-accepted/><CS:hosturl><D:href xmlns:D="DAV:">/dav/calendars/user/fred/Default/</D:href></CS:hosturl><CS:in-reply-to>7c7efcec-6217b097-1d4cd286-b66565b.xml</CS:in-reply-to></CS:invite-reply></CS:notification>
`

	// samplePropfindUndeclaredPrefix is Cyrus's answer to a PROPFIND that
	// does not declare the CS namespace: resourcetype then carries an
	// undeclared CS: prefix, and DAV:sync-token and DAV:displayname are 404.
	samplePropfindUndeclaredPrefix = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
<D:response><D:href>/dav/notifications/user/wilma/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><D:notifications/><CS:notification/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><D:sync-token/><D:displayname/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`

	// samplePrincipalPropfind is Cyrus's answer to the notification-URL
	// PROPFIND on wilma's principal, made by the notifier account.
	samplePrincipalPropfind = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
<D:response><D:href>/dav/principals/user/wilma/</D:href><D:propstat><D:prop><D:notification-URL><D:href>/dav/notifications/user/wilma/</D:href></D:notification-URL><CS:notification-URL><D:href>/dav/notifications/user/wilma/</D:href></CS:notification-URL></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`

	// sampleTruncated is Cyrus's answer to a sync-collection REPORT with
	// DAV:limit nresults 2 when more members changed: a 507 for the
	// collection itself and a token to continue from.
	sampleTruncated = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</D:href><D:propstat><D:prop><D:getetag>"c74718c15ef0d4d35fd5ad2ac560271213fdcdcb"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-f8397e5f-b66565b.xml</D:href><D:propstat><D:prop><D:getetag>"8c905b6cb0a13fe3c9a7d71bbc31133e3c3efd9e"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/dav/notifications/user/wilma/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response><D:sync-token>data:,1795240079-4-6</D:sync-token></D:multistatus>`

	// sampleTruncatedRest is Cyrus's answer to the REPORT continuing from
	// sampleTruncated's token.
	sampleTruncatedRest = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-f8397e5c-b66565b.xml</D:href><D:propstat><D:prop><D:getetag>"f1067505410e0d08ee17a1be75bf93d3bc09e982"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-f8397e5d-b66565b.xml</D:href><D:propstat><D:prop><D:getetag>"4633a2413ba68f3ae87f786786d0130fa62f4620"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:sync-token>data:,1795240079-6</D:sync-token></D:multistatus>`

	// sampleDeleted is Cyrus's answer to an incremental sync after a
	// DELETE: the member comes back as a 404 response.
	sampleDeleted = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response><D:sync-token>data:,1795240079-7</D:sync-token></D:multistatus>`

	// sampleInvalidToken is Cyrus's 403 body for a bogus sync token.
	sampleInvalidToken = `<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:"><D:valid-sync-token/><D:responsedescription>Invalid sync-token</D:responsedescription></D:error>`
)
