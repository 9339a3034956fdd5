package bounce

import (
	"regexp"
	"strings"
)

// enhancedStatus finds an RFC 3463 status code in text.
var enhancedStatus = regexp.MustCompile(`(?:^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)`)

// replyCode finds an SMTP reply code at the start of a reply.
var replyCode = regexp.MustCompile(`(?:^|[^0-9])([45][0-9][0-9])[ -]`)

// fieldBlocks splits a delivery-status body into its blocks of fields
// (RFC 3464 section 2.1): names lower-cased, first occurrence kept,
// folded lines joined; lines that are no field are skipped.
func fieldBlocks(body string) []map[string]string {
	var blocks []map[string]string
	var cur map[string]string
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				blocks = append(blocks, cur)
			}
			cur, last = nil, ""
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil && last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			last = ""
			continue
		}
		if cur == nil {
			cur = map[string]string{}
		}
		name = strings.ToLower(name)
		if _, seen := cur[name]; !seen {
			cur[name] = strings.TrimSpace(value)
			last = name
		} else {
			last = ""
		}
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	return blocks
}

// typed drops a field's type ("rfc822; a@b" → "a@b", "dns; mx" → "mx").
func typed(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	}
	return strings.Join(strings.Fields(v), " ")
}

// parseDSN reads a message/delivery-status body; ok is false when it
// names no recipient.
func parseDSN(body []byte) (Report, bool) {
	blocks := fieldBlocks(string(body))
	var perMessage map[string]string
	var best map[string]string
	rank := func(b map[string]string) int {
		switch strings.ToLower(strings.Fields(b["action"] + " x")[0]) {
		case "failed":
			return 3
		case "delayed":
			return 2
		}
		return 1
	}
	for _, b := range blocks {
		_, final := b["final-recipient"]
		_, orig := b["original-recipient"]
		_, action := b["action"]
		if !final && !orig && !action {
			if perMessage == nil {
				perMessage = b
			}
			continue
		}
		if best == nil || rank(b) > rank(best) {
			best = b
		}
	}
	if best == nil {
		return Report{}, false
	}
	r := Report{Format: "rfc3464", Recipient: typed(best["final-recipient"]), Diagnostic: typed(best["diagnostic-code"])}
	if r.Recipient == "" {
		r.Recipient = typed(best["original-recipient"])
	}
	r.Recipient = strings.Trim(r.Recipient, "<>")
	if perMessage != nil {
		r.ReportingMTA = typed(perMessage["reporting-mta"])
	}
	if r.ReportingMTA == "" {
		r.ReportingMTA = typed(best["remote-mta"])
	}
	if f := strings.Fields(best["status"]); len(f) > 0 {
		if m := enhancedStatus.FindStringSubmatch(f[0]); m != nil {
			r.Status = m[1]
		}
	}
	if r.Status == "" {
		r.Status = statusIn(r.Diagnostic)
	}
	r.Action = action(best["action"], r.Status)
	return r, true
}

// statusIn finds a status code in a server's reply: an enhanced status
// code, else one made from the reply code's class ("550" → "5.0.0").
func statusIn(s string) string {
	if m := enhancedStatus.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := replyCode.FindStringSubmatch(s); m != nil {
		return m[1][:1] + ".0.0"
	}
	return ""
}

// action reads a DSN action, or derives one from the status.
func action(v, status string) Action {
	switch a := Action(strings.ToLower(strings.Fields(v + " x")[0])); a {
	case ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded:
		return a
	}
	switch {
	case strings.HasPrefix(status, "4"):
		return ActionDelayed
	case strings.HasPrefix(status, "2"):
		return ActionDelivered
	}
	return ActionFailed
}
