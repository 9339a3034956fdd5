package caldavclient

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// XML namespaces.
const (
	nsDAV    = "DAV:"
	nsCS     = "http://calendarserver.org/ns/"
	nsCalDAV = "urn:ietf:params:xml:ns:caldav"
)

// undeclaredPrefixes maps the prefixes servers use without declaring them
// (Cyrus writes <CS:notification/> into resourcetype with no xmlns:CS when
// the request did not declare it) to their usual namespaces. A declared
// prefix has already been replaced by its namespace URI when these apply.
var undeclaredPrefixes = map[string]string{
	"D":  nsDAV,
	"d":  nsDAV,
	"CS": nsCS,
	"cs": nsCS,
	"C":  nsCalDAV,
	"c":  nsCalDAV,
}

// nsFixer is a token reader that gives elements with an undeclared prefix
// the namespace that prefix usually stands for.
type nsFixer struct{ d *xml.Decoder }

func (f nsFixer) Token() (xml.Token, error) {
	t, err := f.d.Token()
	switch v := t.(type) {
	case xml.StartElement:
		if ns, ok := undeclaredPrefixes[v.Name.Space]; ok {
			v.Name.Space = ns
		}
		// The namespaces are resolved: drop the declarations so the outer
		// decoder does not resolve prefixes a second time.
		attrs := v.Attr[:0:0]
		for _, a := range v.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			attrs = append(attrs, a)
		}
		v.Attr = attrs
		return v, err
	case xml.EndElement:
		if ns, ok := undeclaredPrefixes[v.Name.Space]; ok {
			v.Name.Space = ns
		}
		return v, err
	}
	return t, err
}

// newDecoder returns a decoder for a server's XML body that matches
// elements by namespace URI and tolerates undeclared well-known prefixes.
func newDecoder(body []byte) *xml.Decoder {
	inner := xml.NewDecoder(bytes.NewReader(body))
	inner.Strict = true
	inner.CharsetReader = charsetReader
	return xml.NewTokenDecoder(nsFixer{inner})
}

// charsetReader accepts the few non-UTF-8 encodings a server might declare.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(data))
		for _, b := range data {
			out = utf8.AppendRune(out, rune(b))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// multistatus is a DAV:multistatus (RFC 4918 §14.16, RFC 6578 §6.4).
type multistatus struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

type msResponse struct {
	Hrefs     []string     `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type msPropstat struct {
	Prop   msProp `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

// msProp holds the properties this client asks for.
type msProp struct {
	GetETag              *string    `xml:"DAV: getetag"`
	DisplayName          *string    `xml:"DAV: displayname"`
	NotificationURL      *hrefValue `xml:"DAV: notification-URL"`
	CSNotificationURL    *hrefValue `xml:"http://calendarserver.org/ns/ notification-URL"`
	CurrentUserPrincipal *hrefValue `xml:"DAV: current-user-principal"`
}

type hrefValue struct {
	Hrefs []string `xml:"DAV: href"`
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

// davError is a DAV:error body (RFC 4918 §16) with the preconditions this
// client looks for.
type davError struct {
	XMLName        xml.Name  `xml:"DAV: error"`
	ValidSyncToken *struct{} `xml:"DAV: valid-sync-token"`
}

func parseMultistatus(body []byte) (*multistatus, error) {
	var ms multistatus
	if err := newDecoder(body).Decode(&ms); err != nil {
		return nil, protoErrorf("malformed multistatus: %v", err)
	}
	return &ms, nil
}

// hasValidSyncTokenError reports whether body is a DAV:error with the
// DAV:valid-sync-token precondition.
func hasValidSyncTokenError(body []byte) bool {
	var e davError
	if err := newDecoder(body).Decode(&e); err != nil {
		return false
	}
	return e.ValidSyncToken != nil
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

// escapeText returns s escaped for XML character data.
func escapeText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
