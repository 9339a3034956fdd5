package bounce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// Handler receives each report the listener accepts. An error makes the
// listener answer 451, so the sending server keeps the report and tries
// again later: a Handler must therefore accept the same report twice.
type Handler func(ctx context.Context, r Report) error

// ListenerOptions configure a Listener.
type ListenerOptions struct {
	// Addr is host:port to listen on ("127.0.0.1:0" for a free port).
	Addr string
	// VERP checks the recipients: only its bounce addresses are taken.
	VERP *VERP
	// Handle receives the reports (required).
	Handle Handler
	// Hostname is the name in the greeting; default the VERP's domain.
	Hostname string
	// MaxBytes bounds a message (default MaxReportBytes).
	MaxBytes int64
	// Timeout bounds reading a command or a message and writing a reply
	// (default 1 minute); HandleTimeout bounds one Handle call (default
	// 30 seconds).
	Timeout, HandleTimeout time.Duration
	// Logger logs what is refused and dropped (default slog.Default()).
	Logger *slog.Logger
}

// Listener is an inbound SMTP server that takes bounce reports and
// complaints: mail for the VERP's bounce addresses and its fixed
// feedback address (VERP.FeedbackAddress, fbl@<bounce domain>) only
// (550 for any other recipient, so it relays nothing), without
// authentication, size-limited and with timeouts. It never sends mail,
// so it never bounces a bounce; and it takes every message to the
// feedback address, dropping (and logging) those that are no complaint
// about a delivery of this notifyd, so that the sending server does not
// send a bounce of its own either.
type Listener struct {
	srv  *smtp.Server
	ln   net.Listener
	opts ListenerOptions
	// ctx is cancelled when the listener stops, ending Handle calls.
	ctx    context.Context
	cancel context.CancelFunc
}

// Listen binds opts.Addr; Serve then takes connections.
func Listen(opts ListenerOptions) (*Listener, error) {
	if opts.VERP == nil || opts.Handle == nil {
		return nil, errors.New("bounce: a listener needs a VERP and a Handler")
	}
	if opts.Hostname == "" {
		opts.Hostname = opts.VERP.Domain()
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxReportBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	if opts.HandleTimeout <= 0 {
		opts.HandleTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("bounce listener: %w", err)
	}
	l := &Listener{ln: ln, opts: opts}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{l: l, remote: c.Conn().RemoteAddr().String()}, nil
	}))
	s.Domain = opts.Hostname
	s.MaxMessageBytes = opts.MaxBytes
	s.MaxRecipients = 10
	s.ReadTimeout = opts.Timeout
	s.WriteTimeout = opts.Timeout
	s.ErrorLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)
	l.srv = s
	return l, nil
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve takes connections until Shutdown or Close; it returns nil after
// those.
func (l *Listener) Serve() error {
	err := l.srv.Serve(l.ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking connections and waits for the open ones until
// ctx ends, then closes them.
func (l *Listener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if err != nil {
		_ = l.srv.Close()
	}
	l.cancel()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close closes the listener and every connection at once.
func (l *Listener) Close() error {
	l.cancel()
	err := l.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// SMTP replies of the listener.
var (
	errNotOurs = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such recipient here: this server takes bounce reports for notifyd only"}
	errForgedRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "This bounce address does not verify"}
	errHandle = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Cannot record the report now; try again later"}
)

// session is one SMTP session: the recipients of its current message.
type session struct {
	l      *Listener
	remote string
	rcpts  []string
}

func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

// Mail accepts any sender: bounces come from the null sender "<>".
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.l.opts.VERP.isFeedbackAddress(to) {
		s.rcpts = append(s.rcpts, to)
		return nil
	}
	if _, err := s.l.opts.VERP.Decode(to); err != nil {
		s.l.opts.Logger.Info("bounce listener: recipient refused", "remote", s.remote, "rcpt", to, "err", err)
		if errors.Is(err, ErrForged) {
			return errForgedRcpt
		}
		return errNotOurs
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // ErrDataTooLarge, or the connection's failure
	}
	log := s.l.opts.Logger
	for _, rcpt := range s.rcpts {
		rep, err := Parse(raw, rcpt, s.l.opts.VERP)
		switch {
		case errors.Is(err, ErrNotBounce):
			from, subject := Summary(raw)
			log.Info("bounce listener: not a bounce report or complaint (an auto-reply?); dropped", "remote", s.remote, "rcpt", rcpt,
				"from", from, "subject", subject, "why", err)
			continue
		case err != nil && s.l.opts.VERP.isFeedbackAddress(rcpt):
			// Refusing it would make the provider send a bounce of
			// the report; it would not read it either.
			from, subject := Summary(raw)
			log.Warn("bounce listener: mail to the feedback address is no complaint about a delivery of this notifyd; dropped "+
				"(a feedback loop's sign-up confirmation? see docs/deliverability.md, Complaints)",
				"remote", s.remote, "rcpt", rcpt, "from", from, "subject", subject, "err", err)
			continue
		case err != nil:
			log.Warn("bounce listener: report refused", "remote", s.remote, "rcpt", rcpt, "err", err)
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Cannot read this report: " + err.Error()}
		}
		ctx, cancel := context.WithTimeout(s.l.ctx, s.l.opts.HandleTimeout)
		err = s.l.opts.Handle(ctx, rep)
		cancel()
		if err != nil {
			log.Warn("bounce listener: report not recorded; the sender will retry", "remote", s.remote, "delivery", rep.DeliveryID, "err", err)
			return errHandle
		}
	}
	return nil
}
