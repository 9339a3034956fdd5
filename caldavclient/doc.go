// Package caldavclient talks to a calendar system's CalDAV server: it finds
// a principal's notification collection, syncs it with the WebDAV
// sync-collection REPORT (RFC 6578) from a stored token, fetches and parses
// the notifications, and deletes or marks them once delivered. Every
// request goes to the system's configured base URL only.
//
// This package is built with the CalDAV sync worker; until then the sync
// jobs queued by the ping intake wait in the queue.
package caldavclient
