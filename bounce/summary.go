package bounce

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// maxSummaryField caps each field of a dropped message's summary.
const maxSummaryField = 200

// Summary names a message by its From and Subject (decoded, each at most
// 200 characters; "" when absent or unreadable), for the log line that
// says a message sent to a bounce or feedback address was dropped: a
// feedback loop's sign-up confirmation, for one, is recognised by them.
func Summary(raw []byte) (from, subject string) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(raw, []byte("\n\n"))
	}
	if end >= 0 {
		raw = raw[:end+2]
	}
	m, err := mail.ReadMessage(bytes.NewReader(append(raw[:len(raw):len(raw)], '\n')))
	if err != nil {
		return "", ""
	}
	dec := new(mime.WordDecoder)
	field := func(name string) string {
		v := m.Header.Get(name)
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		v = strings.ToValidUTF8(strings.Join(strings.Fields(v), " "), "\uFFFD")
		if utf8.RuneCountInString(v) > maxSummaryField {
			v = string([]rune(v)[:maxSummaryField]) + "…"
		}
		return v
	}
	return field("From"), field("Subject")
}
