package email

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/notifyd/notifyd/delivery/message"
)

// parts are a message's rendered text and HTML parts; a full part went
// beyond its limit and was cut there.
type parts struct {
	text, html         string
	textFull, htmlFull bool
}

func (p parts) fit() bool { return !p.textFull && !p.htmlFull }

// body renders the text and HTML parts of v with the templates of typ,
// each into at most its limit less noteRoom.
func (lt *langTemplates) body(typ string, v *view) (parts, error) {
	var p parts
	var err error
	p.text, p.textFull, err = message.Execute(MaxTextBytes-noteRoom, func(w io.Writer) error {
		return lt.text[typ].ExecuteTemplate(w, "text", v)
	})
	if err != nil {
		return parts{}, fmt.Errorf("email: render %s text: %w", typ, err)
	}
	p.text = tidyText(p.text)
	p.html, p.htmlFull, err = message.Execute(MaxHTMLBytes-noteRoom, func(w io.Writer) error {
		return lt.html[typ].ExecuteTemplate(w, "html", v)
	})
	if err != nil {
		return parts{}, fmt.Errorf("email: render %s html: %w", typ, err)
	}
	if p.html = strings.TrimSpace(p.html); p.html != "" {
		p.html += "\n"
	}
	return p, nil
}

// fit renders the parts of a message that is over a limit again, from a
// view whose free-text fields are cut to message.TightFieldRunes and
// whose lists (Changes, Fields, an update's Changes) keep as many entries
// as fit: templates
// then finish (footer, unsubscribe link, closing tags) within the limits.
// When even empty lists do not fit (a template that writes much more than
// its data), the text part is cut at a line and the HTML part left out.
func (lt *langTemplates) fit(typ string, in RenderInput, tag, subject string) (parts, error) {
	v, _ := newView(in, lt.lang, tag, message.TightFieldRunes)
	v.Subject = subject
	changes, fields := v.Changes, v.Fields
	var update message.Update
	if v.Update != nil {
		update = *v.Update
		v.Update = &message.Update{}
	}
	try := func(k int) (parts, error) {
		v.Changes, v.Fields = changes[:min(k, len(changes))], fields[:min(k, len(fields))]
		if v.Update != nil {
			*v.Update = update
			v.Update.Changes = update.Changes[:min(k, len(update.Changes))]
		}
		return lt.body(typ, v)
	}
	var best parts
	k, err := message.MostThatFit(max(len(changes), len(fields), len(update.Changes)), func(k int) (bool, error) {
		p, err := try(k)
		if p.fit() {
			best = p
		}
		return p.fit(), err
	})
	if err != nil {
		return parts{}, err
	}
	if k >= 0 {
		return best, nil
	}
	p, err := try(0)
	if err != nil {
		return parts{}, err
	}
	if p.textFull {
		p.text = strings.TrimRight(message.CutBytes(p.text, MaxTextBytes-noteRoom-8, "\n"), " \n") + " …\n"
	}
	if p.htmlFull {
		p.html = ""
	}
	return p, nil
}

// noteText adds the shortening note to a text part, before its "-- "
// signature separator when it has one.
func noteText(text, note string) string {
	if text == "" {
		return ""
	}
	if i := strings.LastIndex(text, "\n-- \n"); i >= 0 {
		return strings.TrimRight(text[:i], "\n") + "\n\n" + note + "\n" + text[i:]
	}
	return strings.TrimRight(text, "\n") + "\n\n" + note + "\n"
}

// noteHTML adds the shortening note to an HTML part, as a paragraph at
// the end of its body.
func noteHTML(htmlPart, note string) string {
	if htmlPart == "" {
		return ""
	}
	p := `<p style="max-width:600px;margin:0 auto;padding:0 24px 24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:12px;line-height:1.5;color:#57606a;">` +
		html.EscapeString(note) + "</p>\n"
	i := strings.LastIndex(htmlPart, "</body>")
	if i < 0 {
		i = strings.LastIndex(htmlPart, "</BODY>")
	}
	if i < 0 {
		return htmlPart + p
	}
	return htmlPart[:i] + p + htmlPart[i:]
}
