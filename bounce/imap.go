package bounce

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// MailboxOptions say which IMAP mailbox PollMailbox reads.
type MailboxOptions struct {
	// Addr is the IMAP server's host:port.
	Addr string
	// TLS connects with TLS from the first byte (port 993); without it
	// the connection is plain text, for a server on the same host only.
	TLS bool
	// TLSConfig verifies the server with TLS (default: the system's
	// roots, the host of Addr).
	TLSConfig *tls.Config
	// Username and Password log in (IMAP LOGIN).
	Username, Password string
	// Mailbox is the mailbox to read (default INBOX).
	Mailbox string
	// VERP checks the bounce addresses in the messages' headers.
	VERP *VERP
	// Handle receives the reports (required).
	Handle Handler
	// Timeout bounds the whole poll (default 1 minute).
	Timeout time.Duration
	// Logger logs what is dropped (default slog.Default()).
	Logger *slog.Logger
}

// PollMailbox reads every message in the mailbox once and hands each
// report to Handle. A message whose report was handled, and one that is
// no report of this notifyd (an auto-reply, a forged or missing bounce
// address, an unreadable message), is deleted; one whose Handle failed
// stays for the next poll. It returns how many reports were handled.
func PollMailbox(ctx context.Context, o MailboxOptions) (int, error) {
	if o.VERP == nil || o.Handle == nil {
		return 0, errors.New("bounce: polling a mailbox needs a VERP and a Handler")
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, err := dialIMAP(ctx, o)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if _, err := c.cmd("LOGIN "+imapQuote(o.Username)+" "+imapQuote(o.Password), "LOGIN"); err != nil {
		return 0, err
	}
	if _, err := c.cmd("SELECT "+imapQuote(o.Mailbox), ""); err != nil {
		return 0, err
	}
	untagged, err := c.cmd("UID SEARCH ALL", "")
	if err != nil {
		return 0, err
	}
	var uids []string
	for _, u := range untagged {
		if rest, ok := strings.CutPrefix(u.line, "SEARCH"); ok {
			uids = append(uids, strings.Fields(rest)...)
		}
	}
	handled, deleted := 0, 0
	for _, uid := range uids {
		if _, err := strconv.ParseUint(uid, 10, 32); err != nil {
			return handled, fmt.Errorf("bounce: IMAP: UID SEARCH gave %q", uid)
		}
		// At most MaxReportBytes: a larger message is cut, fails to
		// parse and is deleted rather than block every later poll.
		res, err := c.cmd("UID FETCH "+uid+" (BODY.PEEK[]<0."+strconv.Itoa(MaxReportBytes)+">)", "")
		if err != nil {
			return handled, err
		}
		var raw []byte
		for _, u := range res {
			if u.literal != nil && strings.Contains(u.line, "FETCH") {
				raw = u.literal
			}
		}
		if raw == nil {
			continue // expunged meanwhile
		}
		rep, err := Parse(raw, "", o.VERP)
		switch {
		case err != nil:
			from, subject := Summary(raw)
			o.Logger.Info("bounce mailbox: not a report of this notifyd; deleted", "uid", uid, "from", from, "subject", subject, "err", err)
		default:
			if herr := o.Handle(ctx, rep); herr != nil {
				o.Logger.Warn("bounce mailbox: report not recorded; kept for the next poll", "uid", uid, "delivery", rep.DeliveryID, "err", herr)
				continue
			}
			handled++
		}
		if _, err := c.cmd("UID STORE "+uid+" +FLAGS.SILENT (\\Deleted)", ""); err != nil {
			return handled, err
		}
		deleted++
	}
	if deleted > 0 {
		if _, err := c.cmd("EXPUNGE", ""); err != nil {
			return handled, err
		}
	}
	_, _ = c.cmd("LOGOUT", "")
	return handled, nil
}

// imapConn is a minimal IMAP4rev1 client: commands one at a time,
// untagged answers with their literals.
type imapConn struct {
	conn net.Conn
	r    *bufio.Reader
	n    int
}

type untagged struct {
	line    string
	literal []byte // the last literal of the answer, if any
}

func dialIMAP(ctx context.Context, o MailboxOptions) (*imapConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bounce: IMAP: %w", err)
	}
	if o.TLS {
		cfg := o.TLSConfig
		if cfg == nil {
			host, _, _ := net.SplitHostPort(o.Addr)
			cfg = &tls.Config{ServerName: host}
		}
		conn = tls.Client(conn, cfg)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := &imapConn{conn: conn, r: bufio.NewReader(io.LimitReader(conn, 1<<30))}
	greeting, err := c.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		conn.Close()
		return nil, fmt.Errorf("bounce: IMAP: greeting %q: %v", strings.TrimSpace(greeting), err)
	}
	return c, nil
}

func (c *imapConn) close() { _ = c.conn.Close() }

// cmd sends command and reads its answer; what names it in errors
// (default: the command itself, for LOGIN not to show the password).
func (c *imapConn) cmd(command, what string) ([]untagged, error) {
	if what == "" {
		what = command
	}
	c.n++
	tag := "b" + strconv.Itoa(c.n)
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, command); err != nil {
		return nil, fmt.Errorf("bounce: IMAP %s: %w", what, err)
	}
	var out []untagged
	for {
		line, lit, err := c.readLine()
		if err != nil {
			return nil, fmt.Errorf("bounce: IMAP %s: %w", what, err)
		}
		if rest, ok := strings.CutPrefix(line, "* "); ok {
			out = append(out, untagged{line: rest, literal: lit})
			continue
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return nil, fmt.Errorf("bounce: IMAP %s: %s", what, rest)
			}
			return out, nil
		}
	}
}

// readLine reads one answer line, with the literals ({N}) inside it
// read and set apart.
func (c *imapConn) readLine() (string, []byte, error) {
	var line strings.Builder
	var lit []byte
	for {
		s, err := c.r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		s = strings.TrimRight(s, "\r\n")
		line.WriteString(s)
		open := strings.LastIndexByte(s, '{')
		if open < 0 || !strings.HasSuffix(s, "}") {
			return line.String(), lit, nil
		}
		n, err := strconv.Atoi(s[open+1 : len(s)-1])
		if err != nil || n < 0 || n > MaxReportBytes {
			return "", nil, fmt.Errorf("literal %q too large or malformed", s[open:])
		}
		lit = make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return "", nil, err
		}
	}
}

// imapQuote returns s as an IMAP quoted string.
func imapQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
