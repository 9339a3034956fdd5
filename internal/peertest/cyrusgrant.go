package peertest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// cyrusCalendarMailbox returns the IMAP name, as the admin sees it, of
// owner's calendar whose path is /dav/calendars/user/OWNER/CALENDAR/:
// "user/OWNER/#calendars/CALENDAR".
func cyrusCalendarMailbox(owner, calendar string) string {
	return "user/" + owner + "/#calendars/" + calendar
}

// SharedCalendarPath returns the path at which reader reads owner's
// calendar on Cyrus 3.6: /dav/calendars/user/READER/OWNER.CALENDAR/ (a
// request for the owner's path is redirected there).
func (c *Cyrus) SharedCalendarPath(reader, owner, calendar string) string {
	return c.CalendarHome(reader) + owner + "." + calendar + "/"
}

// CyrusGrant says what GrantCalendar does; the zero value does all of it.
type CyrusGrant struct {
	// NoSharedSeen leaves the calendar's sharedseen option off: the
	// service account then reads the owner's events without their alarms.
	NoSharedSeen bool
	// NoSubscribe leaves the service account unsubscribed: the calendar
	// is then readable at its path but not listed in the service
	// account's calendar home.
	NoSubscribe bool
}

// GrantCalendar gives the service account (CyrusNotifier) what notifyd
// needs to read owner's calendar (the last segment of its path) with its
// alarms and to find it, over IMAP, as the caldavclient package
// documentation says:
//
//	admin:    SETACL "user/OWNER/#calendars/CAL" notifier lr
//	admin:    SETMETADATA "user/OWNER/#calendars/CAL" (/shared/vendor/cmu/cyrus-imapd/sharedseen "true")
//	notifier: SUBSCRIBE "Other Users/OWNER/#calendars/CAL"
func (c *Cyrus) GrantCalendar(t testing.TB, owner, calendar string, how ...CyrusGrant) {
	t.Helper()
	var g CyrusGrant
	if len(how) > 0 {
		g = how[0]
	}
	if err := c.Grant(owner, calendar, g); err != nil {
		t.Fatal(err)
	}
}

// Grant is GrantCalendar for a program that is not a test: it returns
// what went wrong.
func (c *Cyrus) Grant(owner, calendar string, g CyrusGrant) error {
	mbox := cyrusCalendarMailbox(owner, calendar)
	admin := []string{"SETACL " + imapQuote(mbox) + " " + CyrusNotifier + " lr"}
	if !g.NoSharedSeen {
		admin = append(admin, "SETMETADATA "+imapQuote(mbox)+` (/shared/vendor/cmu/cyrus-imapd/sharedseen "true")`)
	}
	if _, err := c.imap(CyrusAdmin, admin); err != nil {
		return fmt.Errorf("IMAP as %s: %v (%s)", CyrusAdmin, err, LogHint)
	}
	if !g.NoSubscribe {
		if _, err := c.imap(CyrusNotifier, []string{"SUBSCRIBE " + imapQuote("Other Users/"+owner+"/#calendars/"+calendar)}); err != nil {
			return fmt.Errorf("IMAP as %s: %v (%s)", CyrusNotifier, err, LogHint)
		}
	}
	return nil
}

// IMAP logs in to the instance's IMAP server as user, sends each command
// in turn and fails the test unless each is answered OK. It returns the
// untagged answers ("* …" lines, without the "* "). It knows no IMAP
// literal: commands and answers must fit on one line each.
func (c *Cyrus) IMAP(t testing.TB, user string, commands ...string) []string {
	t.Helper()
	untagged, err := c.imap(user, commands)
	if err != nil {
		t.Fatalf("IMAP as %s: %v (%s)", user, err, LogHint)
	}
	return untagged
}

func (c *Cyrus) imap(user string, commands []string) ([]string, error) {
	conn, err := net.DialTimeout("tcp", c.IMAPAddr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, err
	}
	r := bufio.NewReader(conn)
	greeting, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("reading the greeting: %w", err)
	}
	if !strings.HasPrefix(greeting, "* OK") {
		return nil, fmt.Errorf("greeting %q", strings.TrimSpace(greeting))
	}
	var untagged []string
	all := append([]string{"LOGIN " + imapQuote(user) + " " + imapQuote(c.Password(user))}, commands...)
	all = append(all, "LOGOUT")
	for i, cmd := range all {
		tag := fmt.Sprintf("n%d", i)
		if _, err := fmt.Fprintf(conn, "%s %s\r\n", tag, cmd); err != nil {
			return nil, err
		}
		what := cmd
		if i == 0 {
			what = "LOGIN" // not the password
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			line = strings.TrimRight(line, "\r\n")
			if rest, ok := strings.CutPrefix(line, "* "); ok {
				untagged = append(untagged, rest)
				continue
			}
			if rest, ok := strings.CutPrefix(line, tag+" "); ok {
				if !strings.HasPrefix(rest, "OK") {
					return nil, fmt.Errorf("%s: %s", what, rest)
				}
				break
			}
		}
	}
	return untagged, nil
}

// imapQuote returns s as an IMAP quoted string.
func imapQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
