// Package caldavclient talks to a calendar system's CalDAV server: it finds
// a principal's notification collection, syncs it with the WebDAV
// sync-collection REPORT (RFC 6578) from a stored token, fetches and parses
// the notifications, and deletes or marks them once delivered. Every
// request goes to the system's configured base URL only.
//
// The engine's sync jobs use it: cmd/notifyd makes one Client per system,
// shared by the sync and delivery workers, and a Client keeps at most the
// system's max_connections connections open to the server.
package caldavclient
