package im

import (
	"io"

	"github.com/notifyd/notifyd/delivery/message"
)

// Size limits of an instant message (see the package documentation).
const (
	// MaxStanzaBytes caps a message stanza as written on the stream
	// (body, calendar object, escaping and hint included): under what
	// servers accept from a client (Prosody's c2s_stanza_size_limit is
	// 256 KiB by default, ejabberd's max_stanza_size has been 64 KiB),
	// so that no server closes the stream over a large notification.
	MaxStanzaBytes = 32 << 10
	// MaxCalendarBytes caps the calendar object once escaped for XML; a
	// larger one is written again with shorter fields, else left out.
	MaxCalendarBytes = 8 << 10
	// maxBodyRunes caps a message body, shortening note included; longer
	// ones are cut with "…". A pop-up is a glance, not a letter.
	maxBodyRunes = 1000
	// maxBodyBytes bounds the text template's output before it is cut
	// to maxBodyRunes.
	maxBodyBytes = 8 << 10
)

// hintNoStore is the longest processing hint a message carries.
const hintNoStore = "no-store"

// calendar renders the calendar object of v with the templates of typ.
// An object over MaxCalendarBytes is rendered again from a view whose
// fields are cut to message.TightFieldRunes, and left out when it is
// still over; shortened reports either.
func (lt *langTemplates) calendar(typ string, in RenderInput, tag string, v *view) (cal string, shortened bool, err error) {
	for _, maxRunes := range []int{message.MaxFieldRunes, message.TightFieldRunes} {
		if maxRunes != message.MaxFieldRunes {
			shortened = true
			v, _ = newView(in, lt.lang, tag, maxRunes)
		}
		out, full, err := message.Execute(MaxCalendarBytes, func(w io.Writer) error {
			return lt.tmpl[typ].ExecuteTemplate(w, "calendar", v)
		})
		if err != nil {
			return "", false, err
		}
		if full {
			continue
		}
		if cal, err = tidyCalendar(out); err != nil {
			return "", false, err
		}
		if len(esc(cal)) <= MaxCalendarBytes {
			return cal, shortened, nil
		}
	}
	return "", true, nil
}
