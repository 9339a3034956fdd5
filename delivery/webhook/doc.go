// Package webhook is notifyd's webhook channel (registered as "webhook"):
// it POSTs each notification as JSON to the delivery method's https URL,
// signed as Standard Webhooks (https://www.standardwebhooks.com) specify.
//
// # Request
//
// Every request is a POST with these headers:
//
//	Content-Type       application/json
//	User-Agent         notifyd/VERSION (webhook; …)
//	webhook-id         the delivery ID: the same on every retry of one
//	                   delivery, so receivers can drop duplicates
//	webhook-timestamp  when this attempt was made, in Unix seconds
//	webhook-signature  "v1," + base64(HMAC-SHA256(key,
//	                   "{webhook-id}.{webhook-timestamp}.{body}")), where
//	                   key is the base64-decoded part of the method's
//	                   secret after "whsec_"; for a day after the
//	                   secret was rotated, a second signature made
//	                   with the previous secret follows, separated by
//	                   a space
//
// A receiver verifies the signature over the raw body it received (not a
// re-serialization of it), with a constant-time comparison, rejects
// timestamps too far from its clock (five minutes is usual), and uses
// webhook-id as an idempotency key. Any Standard Webhooks library does all
// of this given the secret, and accepts a request when any one of the
// signatures verifies, so a receiver can switch to a rotated secret at any
// time within the day both are signed with.
//
// # Body
//
// The body is the schema receivers rely on ([Payload]); fields may be
// added, never removed or changed in meaning:
//
//	{
//	  "type": "notification.share-invite",
//	  "timestamp": "2025-03-01T09:30:00Z",
//	  "data": {
//	    "system": "cyrus",
//	    "principal": "/dav/principals/user/wilma/",
//	    "notification": {
//	      "type": "share-invite",
//	      "element": "{http://calendarserver.org/ns/}invite-notification",
//	      "uid": "…",
//	      "dtstamp": "2025-03-01T09:30:00Z",
//	      "from": {"href": "mailto:fred@example.org", "common_name": "Fred"},
//	      "calendar": {"href": "/dav/calendars/user/fred/Work/", "display_name": "Work"},
//	      "access": "read-write"
//	    },
//	    "delivery_id": "5f0c…"
//	  }
//	}
//
// A reminder (an alarm of an event or task ringing) is
// "notification.reminder"; its notification carries the event or task
// instance as "event" and the alarm as "reminder", the fields of a Sun
// ENS alarm notification (calendar, uid, recurrence id, alarm id,
// component type) and when it rang:
//
//	{
//	  "type": "notification.reminder",
//	  "timestamp": "2026-12-01T07:45:00Z",
//	  "data": {
//	    "system": "cyrus",
//	    "principal": "/dav/principals/user/wilma/",
//	    "notification": {
//	      "type": "reminder",
//	      "element": "VALARM",
//	      "uid": "budget-1",
//	      "calendar": {"href": "/dav/calendars/user/wilma/Work/", "display_name": "Work"},
//	      "summary": "Budget review",
//	      "event": {"href": "/dav/calendars/user/wilma/Work/budget.ics", "uid": "budget-1",
//	                "summary": "Budget review", "location": "Room 4",
//	                "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T09:00:00Z"},
//	      "reminder": {
//	        "calendar": "/dav/calendars/user/wilma/Work/",
//	        "object": "/dav/calendars/user/wilma/Work/budget.ics",
//	        "uid": "budget-1", "recurrence_id": "20261201T080000Z",
//	        "alarm_id": "…", "component": "event", "action": "DISPLAY",
//	        "text": "Bring the Q4 figures", "description": "Agenda: …",
//	        "trigger": "2026-12-01T07:45:00Z", "time_zone": "Europe/Paris",
//	        "late_seconds": 720, "snooze": true
//	      }
//	    },
//	    "delivery_id": "5f0c…"
//	  }
//	}
//
// reminder has calendar and object (the hrefs of the calendar and of the
// calendar object resource), uid, recurrence_id (the instance of a
// recurring event or task, "20261201T080000Z" or a date "20261224"; left
// out for a non-recurring one), alarm_id, component ("event" or "task"),
// action (DISPLAY, EMAIL or AUDIO), text (the alarm's own description)
// and description (the event's or task's), trigger (when the alarm rang,
// RFC 3339), due (a task's due time), time_zone (the event's own zone),
// late_seconds (how late it was sent, after an outage; left out when on
// time) and snooze (true when it rings again after a snooze); members
// without a value are left out. A receiver that keeps one record per
// alarm instance keys it by (uid, recurrence_id, alarm_id, trigger).
//
// A calendar update (an event, task or calendar created, modified or
// deleted) is "notification.event-created" … "notification.calendar-deleted";
// its notification carries the event or task as it is now (as it was,
// for a deletion) as "event" and what changed as "update":
//
//	{
//	  "type": "notification.event-modified",
//	  "timestamp": "2026-12-01T08:00:00Z",
//	  "data": {
//	    "system": "cyrus",
//	    "principal": "/dav/principals/user/wilma/",
//	    "notification": {
//	      "type": "event-modified",
//	      "element": "VEVENT",
//	      "uid": "meeting-1",
//	      "dtstamp": "2026-12-01T08:00:00Z",
//	      "calendar": {"href": "/dav/calendars/user/fred/Work/", "display_name": "Work"},
//	      "event": {"href": "/dav/calendars/user/fred/Work/meeting.ics", "uid": "meeting-1",
//	                "summary": "Team meeting", "location": "Room 2",
//	                "start": "2026-12-09T13:00:00Z", "end": "2026-12-09T14:00:00Z"},
//	      "update": {
//	        "component": "event", "action": "modified",
//	        "object": "/dav/calendars/user/fred/Work/meeting.ics",
//	        "uid": "meeting-1", "recurrence_id": "20261208T090000Z",
//	        "by": {"href": "mailto:fred@example.org", "common_name": "Fred"},
//	        "time_zone": "Europe/Paris",
//	        "fields": [
//	          {"field": "start", "from_time": "2026-12-08T09:00:00Z", "to_time": "2026-12-09T13:00:00Z"},
//	          {"field": "location", "from": "Room 1", "to": "Room 2"}
//	        ]
//	      }
//	    },
//	    "delivery_id": "5f0c…"
//	  }
//	}
//
// update has component ("event", "todo" or "calendar"), action
// ("created", "modified" or "deleted"), object (the calendar object
// resource's href; none for a calendar), uid and recurrence_id (the one
// instance changed, left out for the whole event or task), by (who made
// the change, when known), time_zone (the event's own zone) and, for a
// modification, fields: what changed that a person sees, in the order
// messages list them, each with field (summary, start, end, due,
// location, status, recurrence, completed, description), from and to
// (text values; a side left out was empty) or from_time and to_time
// (RFC 3339; all_day when they are dates). A task's due time is the
// event's "due".
//
// type is "notification." followed by the notification type (one of
// notifyd.NotificationTypes: share-invite, share-reply, resource-change,
// system-status, quota-status, eventreg-registered, eventreg-cancelled,
// suggest, suggest-reply, awaiting-approval, approval-response, reminder,
// event-created, event-modified, event-deleted, todo-created,
// todo-modified, todo-deleted, calendar-created, calendar-modified,
// calendar-deleted, invitation, invitation-reply, invitation-cancelled,
// refresh-request, counter-proposal, other). A scheduling message's
// notification carries the iTIP message as "scheduling" (method,
// organizer, attendee, partstat, the iCalendar object…: see
// openapi.yaml's Scheduling). timestamp (RFC 3339, UTC) is when the event happened: the
// notification's DTSTAMP, else a reminder's trigger time, else the
// attempt's time. data
// names the calendar system (notifyd's configuration key for it) and the
// principal the notification was found for, carries the notification as
// notifyd parsed it (the JSON form of notifyd.Notification: fields a type
// does not carry are left out) and repeats the delivery ID of webhook-id.
//
// The body is at most [MaxPayloadBytes] (64 KiB, under the 100 KB that
// common receivers accept by default). A notification too large for it is
// shortened, and data then has "truncated": true (the member is absent
// otherwise): each free-text value (summary, status, names, location,
// changed properties, field values, a reminder's text and description,
// an update's from and to)
// is cut to 2000 characters
// (message.MaxFieldRunes) and ends with "…", and an identifier (href,
// UID, element, field name) over 4096 bytes is left out rather than cut;
// if that is not enough, values are cut to 200 characters and only the
// first changes, fields (by name) and an update's fields that fit are
// kept; at worst only the notification's type, dtstamp and (if short)
// element remain, with a reminder's or an update's identifiers (those up
// to 1024 bytes) and times, and an update's changed fields by name, when
// they fit. What is kept is always
// the notification's own data or its beginning: the whole is in the
// notification collection on the CalDAV server.
//
// # Digests
//
// A subscription whose preferences hold notifications (a digest, quiet
// hours, a throttle) gets them in one request of type "digest"
// ([DigestPayload], openapi.yaml's WebhookDigest), signed and retried
// like any other, webhook-id being the digest's delivery ID. Its items
// are collapsed as every channel's digest is (message.Collapse): one per
// event, task or calendar in its latest state, with the net change of an
// event changed several times and the delivery_id of its latest
// notification; nothing for what was undone inside the window (whose
// delivery IDs are listed in "undone"); other notifications as they
// came. Each item is exactly the body a single notification would have
// had:
//
//	{
//	  "type": "digest",
//	  "timestamp": "2026-12-01T09:00:00Z",
//	  "data": {
//	    "system": "cyrus",
//	    "principal": "/dav/principals/user/wilma/",
//	    "delivery_id": "0193…",
//	    "since": "2026-12-01T08:00:00Z",
//	    "until": "2026-12-01T09:00:00Z",
//	    "items": [
//	      {"type": "notification.event-modified", "timestamp": "…", "data": {"system": "cyrus", "principal": "…", "notification": {…}, "delivery_id": "…"}},
//	      {"type": "notification.share-invite", "timestamp": "…", "data": {…}}
//	    ],
//	    "undone": ["…", "…"]
//	  }
//	}
//
// A digest whose notifications all cancelled out is not sent (the
// delivery is skipped). The body is at most [MaxPayloadBytes]: the items
// are shortened as a single notification is, then only the first ones
// that fit are kept, "omitted" counting the others and "truncated" true.
//
// # Outcomes
//
// A 2xx answer means delivered. 408, 429 and 5xx answers, timeouts
// (channels.webhook.timeout bounds the whole request) and connection
// errors are temporary: the engine retries, after the Retry-After the
// receiver gave (seconds or an HTTP date, at most an hour) when it gave
// one. Redirects are not followed: a 3xx answer is a permanent failure that
// names the Location, as is any other 4xx (its status and the start of its
// body, cleaned up, go to the delivery log); 410 Gone moreover tells the
// engine to disable the method (delivery.ErrRecipientGone).
//
// # Destinations
//
// Unless channels.webhook.allow_private is true, notifyd refuses to
// connect to loopback, private (RFC 1918, fc00::/7), link-local,
// unspecified, multicast, shared (100.64.0.0/10), documentation and other
// reserved addresses, including IPv4-mapped, NAT64, 6to4 and Teredo forms
// of them. The check is made on the address each connection is actually
// opened to (after name resolution, in the dialer), so a host name that
// resolves, or later re-resolves, to such an address is refused too, and
// no proxy from the environment is used. URLs must be https; with
// allow_private, plain http is accepted for loopback IP addresses (test
// receivers on 127.0.0.1).
package webhook
