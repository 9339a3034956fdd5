package caldavclient

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Calendar is a calendar collection of a principal (Calendars).
type Calendar struct {
	// Href is the calendar's path on the server (percent-encoded as the
	// server sent it), to pass to Sync and MultiGet.
	Href string
	// DisplayName is its DAV:displayname, "" when it has none.
	DisplayName string
	// Owner is the path of its DAV:owner, "" when the server did not
	// report one (it is then the principal's: Calendars leaves out the
	// calendars of other owners).
	Owner string
	// Components lists the component types it takes (upper case:
	// "VEVENT", "VTODO", …) from CALDAV:supported-calendar-component-set;
	// nil when the server did not say, which means every type
	// (RFC 4791 §5.2.3). Use Supports.
	Components []string
	// TimeZone is its CALDAV:calendar-timezone (RFC 4791 §5.2.2): an
	// iCalendar object holding one VTIMEZONE, as the server sent it; ""
	// when it has none. Floating times and dates in the calendar are in
	// this time zone.
	TimeZone string
	// TimeZoneTZID is the TZID of TimeZone's VTIMEZONE, "" when there is
	// none.
	TimeZoneTZID string
	// TimeZoneID is its CALDAV:calendar-timezone-id (RFC 7809 §5.2), a
	// time zone identifier (an IANA name in practice); "" when the server
	// does not support or set it. Use TZID.
	TimeZoneID string
	// SyncToken is its DAV:sync-token property, "" when not reported:
	// Sync's token is what to store, this one only says whether anything
	// changed since.
	SyncToken string
	// CTag is its CS:getctag (a token that changes whenever a member
	// does), "" when not reported.
	CTag string
	// Description is its CALDAV:calendar-description and Color its
	// Apple calendar-color, "" when it has none.
	Description, Color string
	// SharedURL is its CS:shared-url, the path of the owner's calendar
	// this one is a view of (Cyrus names it on the calendars shared with
	// the reader), "" when the server names none.
	SharedURL string
}

// Supports reports whether the calendar takes the component type comp
// ("VEVENT", "VTODO"; case-insensitive).
func (c Calendar) Supports(comp string) bool {
	if c.Components == nil {
		return true
	}
	return slices.Contains(c.Components, strings.ToUpper(comp))
}

// TZID is the calendar's time zone identifier: TimeZoneID when set, else
// TimeZoneTZID; "" when the calendar has no time zone.
func (c Calendar) TZID() string {
	if c.TimeZoneID != "" {
		return c.TimeZoneID
	}
	return c.TimeZoneTZID
}

// maxCalendars bounds how many calendars Calendars returns for one
// principal: a person has a handful; a server naming more is broken or
// hostile.
const maxCalendars = 1000

// calendarsPropfind asks a calendar home's members for what Calendar
// holds.
const calendarsPropfind = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` +
	`<D:resourcetype/><D:displayname/><D:owner/><D:sync-token/><CS:getctag/>` +
	`<C:supported-calendar-component-set/><C:calendar-timezone/><C:calendar-timezone-id/>` +
	`<C:calendar-description/><CS:shared-url/><A:calendar-color xmlns:A="http://apple.com/ns/ical/"/>` +
	`</D:prop></D:propfind>`

// Calendars returns principal's calendars: the calendar collections
// directly in its calendar homes (CALDAV:calendar-home-set, asked for
// with the notification collection and cached with it, see
// NotificationURL), found with one PROPFIND Depth 1 per home. It leaves
// out scheduling inboxes and outboxes, notification collections, other
// collections, members not directly in the home (or with a dot segment or
// an encoded slash in their path), and calendars whose DAV:owner is
// another principal: a calendar shared with principal belongs to its
// owner, whose reminders are not principal's to get.
//
// On Cyrus 3.6 the home is the service account's own whichever principal
// is asked, and another user's calendars appear in it, owned by that
// user, only once the service account subscribed to them: see the
// package documentation for the recipe. Each call then lists every
// calendar the service account subscribed to, of every principal (see
// CalendarsListedSince to list it once for many principals).
//
// It fails with ErrNotFound when the principal or a home is 404 or 410,
// or when the principal names no calendar home; with ErrOffOrigin when
// the server names a member on another origin; with a protocol error
// when a home has more than 1000 calendars of principal's.
func (c *Client) Calendars(ctx context.Context, principal string) ([]Calendar, error) {
	return c.CalendarsListedSince(ctx, principal, time.Time{})
}

// CalendarsListedSince is Calendars, except that it may answer from a
// listing of a calendar home made for an earlier call (of any principal
// whose home it is too): one whose PROPFIND was sent at or after since,
// and less than a minute ago. Calls that may share a listing while it is
// being made wait for it rather than send their own. A zero since takes
// no earlier listing: it is Calendars. Every call's listing is kept for
// later calls (at most 256 homes, a minute each).
//
// This is for a round of polls, where the same home (Cyrus's: see
// Calendars) would otherwise be listed once per principal: since is when
// the round started, so no change made before it is missed. A sync that
// must see a change just made (one a ping told of) calls Calendars.
func (c *Client) CalendarsListedSince(ctx context.Context, principal string, since time.Time) ([]Calendar, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return nil, err
	}
	homes, err := c.calendarHomes(ctx, pu)
	if err != nil {
		return nil, err
	}
	if len(homes) == 0 {
		return nil, fmt.Errorf("%w: %s has no calendar-home-set", ErrNotFound, redact(pu))
	}
	var out []Calendar
	seen := map[string]bool{}
	for _, home := range homes {
		listed, err := c.homeListing(ctx, home, since)
		if err != nil {
			return nil, err
		}
		cals, err := c.principalCalendars(pu, home, listed)
		if err != nil {
			return nil, err
		}
		for _, cal := range cals {
			key := strings.TrimSuffix(cal.Href, "/")
			if !seen[key] {
				seen[key] = true
				out = append(out, cal)
			}
		}
	}
	if len(out) > maxCalendars {
		return nil, protoErrorf("calendars of %s: more than %d", redact(pu), maxCalendars)
	}
	return out, nil
}

// OthersCalendarsListedSince lists, like CalendarsListedSince (and from
// the same listings), the calendars of principal's calendar homes that
// belong to other principals (DAV:owner), with Owner set: on Cyrus, the
// calendars shared with the service account, each with its SharedURL.
// Which of them are shared with principal is not the listing's to say
// (Cyrus shows the sharees of a calendar to its owner only): the caller
// knows it from the sharing invitations.
func (c *Client) OthersCalendarsListedSince(ctx context.Context, principal string, since time.Time) ([]Calendar, error) {
	pu, err := c.resolve(nil, principal)
	if err != nil {
		return nil, err
	}
	homes, err := c.calendarHomes(ctx, pu)
	if err != nil {
		return nil, err
	}
	var out []Calendar
	for _, home := range homes {
		listed, err := c.homeListing(ctx, home, since)
		if err != nil {
			return nil, err
		}
		for _, l := range listed {
			if l.badOwner || l.owner == nil || samePath(l.owner, pu) {
				continue
			}
			if len(out) == maxCalendars {
				return nil, protoErrorf("calendars of others in the homes of %s: more than %d", redact(pu), maxCalendars)
			}
			cal := l.Calendar
			cal.Components = slices.Clone(cal.Components)
			cal.Owner = l.owner.EscapedPath()
			out = append(out, cal)
		}
	}
	return out, nil
}

// notCalendars are the resource types of collections that carry
// CALDAV:calendar (some servers mark them so) but hold no calendar of
// the principal's: scheduling inbox and outbox (RFC 6638), notification
// collections.
var notCalendars = []xml.Name{
	{Space: nsCalDAV, Local: "schedule-inbox"},
	{Space: nsCalDAV, Local: "schedule-outbox"},
	{Space: nsCS, Local: "notification"},
	{Space: nsDAV, Local: "notifications"},
}

// listedCalendar is a calendar of a home's listing, whoever owns it.
type listedCalendar struct {
	Calendar
	// owner is its DAV:owner resolved, nil when it has none; badOwner
	// reports one that cannot be resolved (off origin, malformed).
	owner    *url.URL
	badOwner bool
	// inbox reports a scheduling inbox (RFC 6638 §2.2), kept for
	// ScheduleInbox and left out of Calendars.
	inbox bool
}

// principalCalendars keeps, of home's listing, the calendars of principal
// pu.
func (c *Client) principalCalendars(pu *url.URL, home string, listed []listedCalendar) ([]Calendar, error) {
	var cals []Calendar
	otherOwners := 0
	for _, l := range listed {
		if l.inbox {
			continue
		}
		if l.badOwner || (l.owner != nil && !samePath(l.owner, pu)) {
			otherOwners++
			continue
		}
		if len(cals) == maxCalendars {
			return nil, protoErrorf("calendars of %s: more than %d in %s", redact(pu), maxCalendars, home)
		}
		cal := l.Calendar
		cal.Components = slices.Clone(cal.Components)
		if l.owner != nil {
			cal.Owner = l.owner.EscapedPath()
		}
		cals = append(cals, cal)
	}
	if len(cals) == 0 && otherOwners > 0 {
		c.log.Warn("the principal's calendar home lists calendars, none of them the principal's: "+
			"on Cyrus, give the service account access to the principal's calendars (see the caldavclient package documentation)",
			"principal", redact(pu), "home", home, "calendars_of_other_owners", otherOwners)
	}
	c.log.Debug("calendars listed", "principal", redact(pu), "home", home, "calendars", len(cals),
		"calendars_of_other_owners", otherOwners)
	return cals, nil
}

// listHome lists the calendars in home (a decoded path), whoever owns
// them, with one PROPFIND Depth 1.
func (c *Client) listHome(ctx context.Context, home string) ([]listedCalendar, error) {
	hu := c.base.ResolveReference(&url.URL{Path: home})
	h := http.Header{}
	h.Set("Content-Type", xmlContentType)
	h.Set("Depth", "1")
	var (
		cals                   []listedCalendar
		outside                []string // hrefs not directly in the home (the first few)
		nOutside               int
		tooLarge               []string // "href: property" left out for size (the first few)
		nTooLarge, nonCalendar int
	)
	r, _, err := c.multistatus(ctx, "PROPFIND", hu, calendarsPropfind, h, c.maxBytes, func(final *url.URL, m *msResponse) error {
		for _, href := range m.Hrefs {
			mu, err := c.resolveOrigin(final, href)
			if err != nil {
				return fmt.Errorf("calendars in %s: member %q: %w", redact(hu), href, err)
			}
			if samePath(mu, hu) || samePath(mu, final) {
				continue // the home itself
			}
			if !inHome(mu, home) {
				if nOutside++; len(outside) < maxReportedOutside {
					outside = append(outside, href)
				}
				continue
			}
			if code := statusCode(m.Status); code != 0 && (code < 200 || code > 299) {
				continue
			}
			p := mergeProps(m.okProps())
			inbox := slices.Contains(p.ResourceType, scheduleInbox)
			if !inbox && (!p.isCalendar() || slices.ContainsFunc(p.ResourceType, func(n xml.Name) bool { return slices.Contains(notCalendars, n) })) {
				nonCalendar++
				continue
			}
			l := listedCalendar{Calendar: Calendar{Href: mu.EscapedPath(), Components: p.SupportedComponents}, inbox: inbox}
			if owner := p.Owner.href(); owner != "" {
				ou, err := c.resolveOrigin(final, owner)
				l.owner, l.badOwner = ou, err != nil
			}
			for _, name := range p.TooLarge {
				if nTooLarge++; len(tooLarge) < maxReportedOutside {
					tooLarge = append(tooLarge, href+": "+name)
				}
			}
			l.DisplayName = strings.TrimSpace(deref(p.DisplayName))
			l.SyncToken = strings.TrimSpace(deref(p.SyncToken))
			l.CTag = strings.TrimSpace(deref(p.GetCTag))
			l.TimeZoneID = strings.TrimSpace(deref(p.CalendarTimezoneID))
			l.Description = strings.TrimSpace(deref(p.Description))
			l.Color = strings.TrimSpace(deref(p.Color))
			if p.SharedURL != nil {
				l.SharedURL = p.SharedURL.href()
			}
			if tz := deref(p.CalendarTimezone); strings.TrimSpace(tz) != "" {
				l.TimeZone = tz
				l.TimeZoneTZID = vtimezoneTZID(tz)
			}
			cals = append(cals, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return nil, r.wrap(ErrNotFound)
	case r.status != http.StatusMultiStatus:
		return nil, r.httpError()
	}
	if nOutside > 0 {
		c.log.Warn("the CalDAV server listed members outside the calendar home; they are ignored",
			"home", redact(hu), "members_outside", nOutside, "first_hrefs", outside)
	}
	if nTooLarge > 0 {
		c.log.Warn("the CalDAV server sent calendar properties too large to keep; they are left out",
			"home", redact(hu), "properties", nTooLarge, "first", tooLarge)
	}
	c.log.Debug("calendar home listed", "home", redact(hu), "calendars", len(cals), "other_members", nonCalendar)
	return cals, nil
}

// mergeProps merges the properties Calendars and MultiGet read from a
// response's 2xx propstats: the first value of each wins.
func mergeProps(props []msProp) msProp {
	var m msProp
	for _, p := range props {
		m.GetETag = first(m.GetETag, p.GetETag)
		m.DisplayName = first(m.DisplayName, p.DisplayName)
		m.Owner = first(m.Owner, p.Owner)
		m.SyncToken = first(m.SyncToken, p.SyncToken)
		m.GetCTag = first(m.GetCTag, p.GetCTag)
		m.CalendarTimezone = first(m.CalendarTimezone, p.CalendarTimezone)
		m.CalendarTimezoneID = first(m.CalendarTimezoneID, p.CalendarTimezoneID)
		m.CalendarData = first(m.CalendarData, p.CalendarData)
		m.SharedURL = first(m.SharedURL, p.SharedURL)
		m.Description = first(m.Description, p.Description)
		m.Color = first(m.Color, p.Color)
		if m.ResourceType == nil {
			m.ResourceType = p.ResourceType
		}
		if m.SupportedComponents == nil {
			m.SupportedComponents = p.SupportedComponents
		}
		m.TooLarge = append(m.TooLarge, p.TooLarge...)
	}
	return m
}

func first[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// vtimezoneTZID returns the TZID of the first VTIMEZONE in the iCalendar
// text ics, "" when there is none.
func vtimezoneTZID(ics string) string {
	// Unfold (RFC 5545 §3.1): a line break followed by a space or a tab
	// continues the line.
	ics = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(ics)
	depth := 0 // nesting inside the VTIMEZONE (its STANDARD and DAYLIGHT parts)
	for _, line := range strings.Split(ics, "\n") {
		name, value, ok := contentLine(strings.TrimRight(line, "\r"))
		if !ok {
			continue
		}
		name = strings.ToUpper(strings.TrimSpace(name))
		switch {
		case name == "BEGIN" && depth == 0 && strings.EqualFold(strings.TrimSpace(value), "VTIMEZONE"):
			depth = 1
		case name == "BEGIN" && depth > 0:
			depth++
		case name == "END" && depth > 0:
			depth--
		case name == "TZID" && depth == 1:
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// contentLine splits an unfolded iCalendar content line into its name
// (without parameters) and value: the value starts after the first colon
// outside a quoted parameter value.
func contentLine(line string) (name, value string, ok bool) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				name, _, _ = strings.Cut(line[:i], ";")
				return name, line[i+1:], true
			}
		}
	}
	return "", "", false
}
