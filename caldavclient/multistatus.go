package caldavclient

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"
)

// msResponse is one DAV:response of a DAV:multistatus (RFC 4918 §14.16,
// RFC 6578 §6.4); the client reads answers one response at a time
// (readMultistatus).
type msResponse struct {
	Hrefs     []string
	Status    string
	Propstats []msPropstat
}

// msPropstat is one DAV:propstat.
type msPropstat struct {
	Prop   msProp
	Status string
}

// msProp holds the properties this client asks for; a nil pointer is a
// property absent from the propstat.
type msProp struct {
	GetETag              *string
	DisplayName          *string
	NotificationURL      *hrefValue
	CSNotificationURL    *hrefValue
	CurrentUserPrincipal *hrefValue
	CalendarHomeSet      *hrefValue
	// CalendarUserAddressSet holds at most maxAddresses hrefs of at most
	// maxAddressBytes each; Dropped counts those left out.
	CalendarUserAddressSet *hrefValue
	// ScheduleInboxURL is CALDAV:schedule-inbox-URL (RFC 6638 §2.2.1).
	ScheduleInboxURL *hrefValue
	// ResourceType is nil when DAV:resourcetype is absent, else its
	// children's names (empty for a plain resource).
	ResourceType []xml.Name

	// The properties of a calendar (Calendars) and of a calendar object
	// (MultiGet). Each text value is at most maxPropText bytes
	// (calendar-timezone maxTimezoneBytes, calendar-data the reader's
	// data limit): a longer one is left nil and its name put in TooLarge.
	Owner              *hrefValue
	SyncToken          *string
	GetCTag            *string
	CalendarTimezone   *string
	CalendarTimezoneID *string
	CalendarData       *string
	// SharedURL is CS:shared-url (a sharee's view of a calendar names the
	// owner's path of it); Description CALDAV:calendar-description;
	// Color Apple's calendar-color.
	SharedURL   *hrefValue
	Description *string
	Color       *string
	// SupportedComponents is nil when
	// CALDAV:supported-calendar-component-set is absent, else the names
	// (upper case, each once) of its CALDAV:comp children.
	SupportedComponents []string
	// TooLarge names the properties left out for their size.
	TooLarge []string
}

// hrefValue is a property whose value is DAV:href elements.
type hrefValue struct {
	Hrefs []string
	// Dropped counts the hrefs left out for their number or size (a
	// bounded property: CALDAV:calendar-user-address-set).
	Dropped int
}

// href returns the first non-empty href child.
func (h *hrefValue) href() string {
	if h == nil {
		return ""
	}
	for _, s := range h.Hrefs {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// isCalendar reports whether p's DAV:resourcetype names a CALDAV:calendar.
func (p *msProp) isCalendar() bool {
	for _, n := range p.ResourceType {
		if n.Space == nsCalDAV && n.Local == "calendar" {
			return true
		}
	}
	return false
}

// readMultistatus reads a DAV:multistatus from r one DAV:response at a
// time, calling each for every response (each may keep it), and returns
// the DAV:sync-token. Within its bounds it keeps
// only one response in memory; beyond them it fails with a protocolError
// saying which bound. Errors from r are returned as they are; each's too.
func readMultistatus(r io.Reader, each func(*msResponse) error) (syncToken string, err error) {
	return readMultistatusData(r, defaultMaxObjectBytes, each)
}

// readMultistatusData is readMultistatus keeping CALDAV:calendar-data
// values of at most dataLimit bytes (a longer one is dropped and named in
// the prop's TooLarge).
func readMultistatusData(r io.Reader, dataLimit int, each func(*msResponse) error) (syncToken string, err error) {
	const outside = "outside DAV:response elements"
	x := newXMLReader(r)
	x.dataLimit = dataLimit
	x.limited(maxOuterElements, maxOuterElements, outside)
	if err := x.root(nsDAV, "multistatus"); err != nil {
		return "", err
	}
	responses := 0
	err = x.children(func(el xml.StartElement) error {
		switch {
		case el.Name.Space == nsDAV && el.Name.Local == "response":
			if responses++; responses > maxResponses {
				return protoErrorf("more than %d DAV:response elements", maxResponses)
			}
			// The response element counts in its own budget, not in
			// the one outside responses.
			outer := x.budget + 1
			x.limited(maxResponseElements-1, maxResponseElements, "in one DAV:response")
			var resp msResponse
			if err := x.response(&resp); err != nil {
				return err
			}
			x.limited(outer, maxOuterElements, outside)
			return each(&resp)
		case el.Name.Space == nsDAV && el.Name.Local == "sync-token":
			s, err := x.text()
			syncToken = s
			return err
		}
		return x.skip()
	})
	if err != nil {
		return "", err
	}
	return syncToken, nil
}

// response reads a DAV:response's children.
func (x *xmlReader) response(r *msResponse) error {
	return x.children(func(el xml.StartElement) error {
		if el.Name.Space != nsDAV {
			return x.skip()
		}
		var err error
		switch el.Name.Local {
		case "href":
			var s string
			s, err = x.text()
			r.Hrefs = append(r.Hrefs, s)
		case "status":
			r.Status, err = x.text()
		case "propstat":
			var ps msPropstat
			err = x.children(func(el xml.StartElement) error {
				switch {
				case el.Name.Space == nsDAV && el.Name.Local == "prop":
					return x.prop(&ps.Prop)
				case el.Name.Space == nsDAV && el.Name.Local == "status":
					var err error
					ps.Status, err = x.text()
					return err
				}
				return x.skip()
			})
			r.Propstats = append(r.Propstats, ps)
		default:
			err = x.skip()
		}
		return err
	})
}

// prop reads the properties this client knows of a DAV:prop.
func (x *xmlReader) prop(p *msProp) error {
	return x.children(func(el xml.StartElement) error {
		var (
			target **hrefValue
			text   **string
			limit  = -1 // no bound of its own (the body's)
		)
		switch el.Name {
		case xml.Name{Space: nsDAV, Local: "getetag"}:
			text = &p.GetETag
		case xml.Name{Space: nsDAV, Local: "displayname"}:
			text = &p.DisplayName
		case xml.Name{Space: nsDAV, Local: "notification-URL"}:
			target = &p.NotificationURL
		case xml.Name{Space: nsCS, Local: "notification-URL"}:
			target = &p.CSNotificationURL
		case xml.Name{Space: nsDAV, Local: "current-user-principal"}:
			target = &p.CurrentUserPrincipal
		case xml.Name{Space: nsCalDAV, Local: "calendar-home-set"}:
			target = &p.CalendarHomeSet
		case xml.Name{Space: nsCalDAV, Local: "calendar-user-address-set"}:
			p.CalendarUserAddressSet = &hrefValue{}
			return x.boundedHrefs(p.CalendarUserAddressSet, maxAddresses, maxAddressBytes)
		case xml.Name{Space: nsCalDAV, Local: "schedule-inbox-URL"}:
			target = &p.ScheduleInboxURL
		case xml.Name{Space: nsDAV, Local: "owner"}:
			target = &p.Owner
		case xml.Name{Space: nsDAV, Local: "sync-token"}:
			text, limit = &p.SyncToken, maxPropText
		case xml.Name{Space: nsCS, Local: "getctag"}:
			text, limit = &p.GetCTag, maxPropText
		case xml.Name{Space: nsCalDAV, Local: "calendar-timezone"}:
			text, limit = &p.CalendarTimezone, maxTimezoneBytes
		case xml.Name{Space: nsCalDAV, Local: "calendar-timezone-id"}:
			text, limit = &p.CalendarTimezoneID, maxPropText
		case xml.Name{Space: nsCS, Local: "shared-url"}:
			target = &p.SharedURL
		case xml.Name{Space: nsCalDAV, Local: "calendar-description"}:
			text, limit = &p.Description, maxPropText
		case xml.Name{Space: nsApple, Local: "calendar-color"}:
			text, limit = &p.Color, maxPropText
		case xml.Name{Space: nsCalDAV, Local: "calendar-data"}:
			text, limit = &p.CalendarData, x.dataLimit
		case xml.Name{Space: nsCalDAV, Local: "supported-calendar-component-set"}:
			return x.components(p)
		case xml.Name{Space: nsDAV, Local: "resourcetype"}:
			p.ResourceType = []xml.Name{}
			return x.children(func(el xml.StartElement) error {
				p.ResourceType = append(p.ResourceType, el.Name)
				return x.skip()
			})
		default:
			return x.skip()
		}
		if text != nil {
			s, over, err := x.textCapped(limit)
			if over {
				p.TooLarge = append(p.TooLarge, el.Name.Local)
				return err
			}
			*text = &s
			return err
		}
		h := &hrefValue{}
		*target = h
		return x.children(func(el xml.StartElement) error {
			if el.Name.Space != nsDAV || el.Name.Local != "href" {
				return x.skip()
			}
			s, err := x.text()
			h.Hrefs = append(h.Hrefs, s)
			return err
		})
	})
}

// boundedHrefs reads the DAV:href children of the element whose start
// was just read into h: at most n of them, each of at most limit bytes
// (after trimming white space); the others are counted in h.Dropped.
func (x *xmlReader) boundedHrefs(h *hrefValue, n, limit int) error {
	return x.children(func(el xml.StartElement) error {
		if el.Name.Space != nsDAV || el.Name.Local != "href" {
			return x.skip()
		}
		// Room for white space around a value of limit bytes.
		s, over, err := x.textCapped(limit + 256)
		s = strings.TrimSpace(s)
		switch {
		case err != nil:
			return err
		case over || len(s) > limit || len(h.Hrefs) == n:
			h.Dropped++
		case s != "":
			h.Hrefs = append(h.Hrefs, s)
		}
		return nil
	})
}

// maxComponentName bounds a component name in
// CALDAV:supported-calendar-component-set (the longest standard one,
// VAVAILABILITY, has 13 letters); a longer one is ignored.
const maxComponentName = 64

// components reads a CALDAV:supported-calendar-component-set into p.
func (x *xmlReader) components(p *msProp) error {
	p.SupportedComponents = []string{}
	return x.children(func(el xml.StartElement) error {
		if el.Name.Space == nsCalDAV && el.Name.Local == "comp" {
			for _, a := range el.Attr {
				if a.Name.Space != "" || a.Name.Local != "name" {
					continue
				}
				name := strings.ToUpper(strings.TrimSpace(a.Value))
				if name != "" && len(name) <= maxComponentName && !slices.Contains(p.SupportedComponents, name) {
					p.SupportedComponents = append(p.SupportedComponents, name)
				}
			}
		}
		return x.skip()
	})
}

// hasValidSyncTokenError reports whether body is a DAV:error with the
// DAV:valid-sync-token precondition.
func hasValidSyncTokenError(body []byte) bool {
	x := newXMLReader(bytes.NewReader(body))
	x.limited(maxOuterElements, maxOuterElements, "in the DAV:error")
	if x.root(nsDAV, "error") != nil {
		return false
	}
	found := false
	err := x.children(func(el xml.StartElement) error {
		if el.Name.Space == nsDAV && el.Name.Local == "valid-sync-token" {
			found = true
		}
		return x.skip()
	})
	return err == nil && found
}

// statusCode reads the code of a DAV:status line ("HTTP/1.1 404 Not
// Found"); 0 when absent or malformed.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 100 || n > 999 {
		return 0
	}
	return n
}

// okProp returns the merged properties of r's 2xx propstats.
func (r *msResponse) okProps() []msProp {
	var out []msProp
	for _, ps := range r.Propstats {
		if c := statusCode(ps.Status); c >= 200 && c <= 299 {
			out = append(out, ps.Prop)
		}
	}
	return out
}
