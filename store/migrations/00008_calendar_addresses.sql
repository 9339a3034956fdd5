-- Portable SQL (SQLite and PostgreSQL).
-- What lets a calendar sync tell the principal among attendees, and skip
-- the calendars that did not change.

-- +goose Up
-- addresses: the principal's calendar user addresses
-- (CALDAV:calendar-user-address-set) as last read, a JSON array of
-- strings; '' until they are read. Its declined instances and its own
-- changes are told apart by them.
ALTER TABLE calendar_homes ADD COLUMN addresses TEXT NOT NULL DEFAULT '';
-- listed_tag: the calendar's DAV:sync-token property (else its
-- CS:getctag), as the listing of its home showed it before its last
-- sync; '' when the server showed neither. While the listing shows the
-- same, nothing changed: its sync-collection REPORT is skipped.
ALTER TABLE calendars ADD COLUMN listed_tag TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calendars DROP COLUMN listed_tag;
ALTER TABLE calendar_homes DROP COLUMN addresses;
