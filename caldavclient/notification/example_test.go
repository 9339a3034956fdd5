package notification_test

import (
	"fmt"

	"github.com/notifyd/notifyd/caldavclient/notification"
)

func ExampleParse() {
	// A sharing invite as Cyrus IMAP serves it.
	body := []byte(`<?xml version="1.0" encoding="utf-8"?>
<CS:notification xmlns:CS="http://calendarserver.org/ns/"><CS:dtstamp>20261121T052657Z</CS:dtstamp><CS:invite-notification><CS:uid>7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</CS:uid><D:href xmlns:D="DAV:">/dav/principals/user/wilma/</D:href><CS:invite-noresponse/><CS:access><CS:read-write/></CS:access><CS:hosturl><D:href xmlns:D="DAV:">/dav/calendars/user/fred/Default/</D:href></CS:hosturl><CS:organizer><D:href xmlns:D="DAV:">/dav/principals/user/fred/</D:href><CS:common-name>fred</CS:common-name></CS:organizer><CS:summary/></CS:invite-notification></CS:notification>`)
	n, err := notification.Parse(body)
	if err != nil {
		fmt.Println("dead-letter:", err)
		return
	}
	fmt.Println(n.Type, n.Element)
	fmt.Println(n.DTStamp)
	fmt.Printf("%s (%s) shares %s, %s access, status %s\n",
		n.From.CommonName, n.From.Href, n.Calendar.Href, n.Access, n.Status)

	// A body that is not a notification is refused with the reason.
	_, err = notification.Parse([]byte(`<D:multistatus xmlns:D="DAV:"/>`))
	fmt.Println(err)
	// Output:
	// share-invite {http://calendarserver.org/ns/}invite-notification
	// 2026-11-21 05:26:57 +0000 UTC
	// fred (/dav/principals/user/fred/) shares /dav/calendars/user/fred/Default/, read-write access, status noresponse
	// notification: root element is {DAV:}multistatus, not {http://calendarserver.org/ns/}notification or {DAV:}notification
}
