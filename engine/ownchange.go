package engine

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/notifyd/notifyd"
)

// ownChange reports whether by, who made a change, names principal:
// the principal's href (the same path once normalised as
// notifyd.CleanHref does, a trailing slash aside), the path of an
// http(s) URL that is it, or one of addrs, the principal's calendar user
// addresses (store.DB.CalendarUserAddresses; a mailto: address compared
// case-insensitively, other URIs such as urn:uuid: exactly). A bare user
// id ("fred", as Sun's server writes it) names nobody: it cannot be told
// apart from another system's user.
//
// It is the one comparison for every source that says who made what it
// tells of: a publish's triggered_by, a CalendarServer resource change's
// changed-by, a scheduling message's sender (the ORGANIZER of a REQUEST
// or CANCEL, the ATTENDEE of a REPLY). Sources that decide per delivery
// use Engine.ownChangeReason, which reads addrs and words the reason.
func ownChange(by, principal string, addrs []string) bool {
	b := comparableAddress(by)
	if b == "" {
		return false
	}
	if b == comparableAddress(principal) {
		return true
	}
	for _, a := range addrs {
		if comparableAddress(a) == b {
			return true
		}
	}
	return false
}

// comparableAddress writes a principal href or calendar user address for
// comparison: "mailto:" and the address in lower case; the path of an
// http(s) URL or an href, normalised and without a trailing slash; other
// URIs (urn:uuid:…) as they are. A bare word is "": it names nobody.
func comparableAddress(a string) string {
	a = strings.TrimSpace(a)
	scheme, rest, isURI := strings.Cut(a, ":")
	switch {
	case a == "":
		return ""
	case strings.HasPrefix(a, "/"):
	case !isURI:
		return ""
	case strings.EqualFold(scheme, "mailto"):
		return "mailto:" + strings.ToLower(strings.TrimSpace(rest))
	case strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"):
		u, err := url.Parse(a)
		if err != nil || u.EscapedPath() == "" {
			return a
		}
		a = u.EscapedPath()
	default:
		return a
	}
	if clean, err := notifyd.CleanHref(a); err == nil {
		a = clean
	}
	if len(a) > 1 {
		a = strings.TrimSuffix(a, "/")
	}
	return a
}

// ownChangeReason returns why a change is not sent to principal, who made
// it: the status text of its suppressed deliveries, "" when it is someone
// else's or nobody's. bys are who made each part of the change (a
// resource change may coalesce several), as the source's field names
// them (field: "triggered_by", "changed-by", "sender"); the change is the
// principal's only when there is at least one and every one names the
// principal (see ownChange). The principal's calendar user addresses
// are read only when there is something to compare. A subscription with
// notify_own_changes gets such a change all the same: the caller checks.
func (e *Engine) ownChangeReason(ctx context.Context, system, principal, field string, bys ...string) (string, error) {
	if len(bys) == 0 {
		return "", nil
	}
	for _, by := range bys {
		if comparableAddress(by) == "" {
			return "", nil
		}
	}
	addrs, _, err := e.db.CalendarUserAddresses(ctx, system, principal)
	if err != nil {
		return "", err
	}
	for _, by := range bys {
		if !ownChange(by, principal, addrs) {
			return "", nil
		}
	}
	return fmt.Sprintf("suppressed: %s made this change (%s %s), and the subscription does not ask for its own changes (notify_own_changes)",
		principal, field, strings.Join(unique(bys), ", ")), nil
}

// unique is ss without repeats, in order.
func unique(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// changedBy is who made each change a notification from the principal's
// collection tells of (a CalendarServer resource change's changed-by):
// nil when one of them does not say, so that a change by someone unknown
// is never taken for the principal's own.
func changedBy(n *notifyd.Notification) []string {
	if n.Type != notifyd.TypeResourceChange {
		return nil
	}
	var bys []string
	for _, c := range n.Changes {
		if strings.TrimSpace(c.By.Href) == "" {
			return nil
		}
		bys = append(bys, c.By.Href)
	}
	return bys
}
