package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// The suppression list: addresses notifyd must not send to, whatever
// subscription names them, each with why (a hard bounce, a complaint, an
// unsubscribe, an SMS STOP, an operator's decision) and who added it.
// The engine looks a delivery's address up (Suppressed) before every
// send; a bounce processor suppresses an address with Suppress in its
// own write. Every change is audited, in its transaction.
//
// Only the channels whose addresses a provider can reject for good are
// in it: email and SMS. An IM address's reachability is its presence
// (the IM channel falls back while it is offline), and a webhook URL is
// the operator's own endpoint: neither bounces, complains or replies
// STOP.

// Suppression reasons.
const (
	// SuppressHardBounce: a bounce report said the address does not exist
	// (or will never accept mail).
	SuppressHardBounce = "hard_bounce"
	// SuppressComplaint: the recipient reported a message as spam.
	SuppressComplaint = "complaint"
	// SuppressUnsubscribe: the recipient asked for no more messages.
	SuppressUnsubscribe = "unsubscribe"
	// SuppressStop: the recipient of an SMS replied STOP.
	SuppressStop = "stop"
	// SuppressManual: an operator added it.
	SuppressManual = "manual"
)

// SuppressionReasons are the valid reasons, in the order the docs give.
var SuppressionReasons = []string{SuppressHardBounce, SuppressComplaint, SuppressUnsubscribe, SuppressStop, SuppressManual}

// Actions and resource type of suppression audit entries (the resource
// ID is "<channel>:<address>").
const (
	ActionSuppressionAdded   = "suppression.added"
	ActionSuppressionRemoved = "suppression.removed"
	AuditSuppression         = "suppression"
)

// maxSuppressionDetail bounds a suppression's detail, in bytes.
const maxSuppressionDetail = 2000

// Suppression is one suppressed address.
type Suppression struct {
	// ID is 32 hex digits, given when it is added.
	ID string
	// Channel is notifyd.ChannelEmail or notifyd.ChannelSMS.
	Channel notifyd.Channel
	// Address is normalized when it is added (NormalizeSuppressionAddress).
	Address string
	// Reason is one of the Suppress* reasons.
	Reason string
	// Detail says more: a bounce's diagnostic, an operator's note.
	Detail string
	// Actor is who added it; when empty, the actor of the context (see
	// WithAudit), notifyd itself without one.
	Actor AuditActor
	// DeliveryID is the delivery that caused it (a bounce, a complaint,
	// a STOP reply); "" for one no delivery caused.
	DeliveryID string
	// CreatedAt is when it was added; when zero, now.
	CreatedAt time.Time
}

// e164 is an E.164 phone number, as subscriptions.NormalizeAddress takes.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// NormalizeSuppressionAddress checks that address is one of channel's and
// returns the form the list keeps and compares. An email address is put
// all in lower case, its local part too: RFC 5321 lets a server tell
// Wilma@ from wilma@, but no common one does, and a bounce report or a
// complaint often spells the address otherwise than the subscription;
// the error, if any, is not to send. Tags (wilma+cal@) and dots are kept:
// they are real, distinct mailboxes on many domains. A phone number must
// be E.164.
func NormalizeSuppressionAddress(channel notifyd.Channel, address string) (string, error) {
	address = strings.TrimSpace(address)
	switch channel {
	case notifyd.ChannelEmail:
		a, err := mail.ParseAddress(address)
		if err != nil || a.Name != "" || a.Address != address {
			return "", errors.New("must be a bare email address such as wilma@example.org")
		}
		return strings.ToLower(address), nil
	case notifyd.ChannelSMS:
		if !e164.MatchString(address) {
			return "", errors.New("must be an E.164 phone number such as +14155550100")
		}
		return address, nil
	}
	return "", fmt.Errorf("channel %q has no suppression list: only email and sms addresses are suppressed", channel)
}

// suppressionKey is the normalized form of an address the engine sends
// to (already valid for its channel): only email addresses change.
func suppressionKey(channel, address string) string {
	if channel == string(notifyd.ChannelEmail) {
		return strings.ToLower(address)
	}
	return address
}

// validReason reports whether r is a suppression reason.
func validReason(r string) bool {
	for _, v := range SuppressionReasons {
		if r == v {
			return true
		}
	}
	return false
}

const suppressionColumns = `id, channel, address, reason, detail, actor_kind, actor, created_at, delivery_id`

func scanSuppression(r scanner) (*Suppression, error) {
	var s Suppression
	var ch string
	var at int64
	if err := r.Scan(&s.ID, &ch, &s.Address, &s.Reason, &s.Detail, &s.Actor.Kind, &s.Actor.Name, &at, &s.DeliveryID); err != nil {
		return nil, err
	}
	s.Channel, s.CreatedAt = notifyd.Channel(ch), fromMicros(at)
	return &s, nil
}

// suppressionJSON is s as an audit entry's before or after.
func suppressionJSON(s *Suppression) json.RawMessage {
	b, _ := json.Marshal(struct {
		ID         string    `json:"id"`
		Channel    string    `json:"channel"`
		Address    string    `json:"address"`
		Reason     string    `json:"reason"`
		Detail     string    `json:"detail"`
		Actor      string    `json:"actor"`
		At         time.Time `json:"created_at"`
		DeliveryID string    `json:"delivery_id,omitempty"`
	}{s.ID, string(s.Channel), s.Address, s.Reason, s.Detail, s.Actor.Name, s.CreatedAt, s.DeliveryID})
	return b
}

// Suppress adds s to the suppression list in tx, audited, unless its
// address is suppressed already: it is idempotent, and the first reason
// stays. It returns the entry as stored (the existing one, with added
// false, when there was one). s.Address is normalized; its reason must be
// one of the Suppress* reasons.
//
// It is what a bounce processor calls for a hard bounce, in the write
// that records the bounce:
//
//	store.Suppress(ctx, tx, store.Suppression{Channel: notifyd.ChannelEmail,
//		Address: rcpt, Reason: store.SuppressHardBounce, Detail: diagnostic})
func Suppress(ctx context.Context, tx *sql.Tx, s Suppression) (stored *Suppression, added bool, err error) {
	addr, err := NormalizeSuppressionAddress(s.Channel, s.Address)
	if err != nil {
		return nil, false, fmt.Errorf("suppression of %s address %q: the address %w", s.Channel, s.Address, err)
	}
	if !validReason(s.Reason) {
		return nil, false, fmt.Errorf("suppression reason %q: not one of %s", s.Reason, strings.Join(SuppressionReasons, ", "))
	}
	s.Address = addr
	if len(s.Detail) > maxSuppressionDetail {
		s.Detail = truncateUTF8(s.Detail, maxSuppressionDetail)
	}
	if s.Actor == (AuditActor{}) {
		s.Actor = auditOf(ctx).Actor
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now()
	}
	s.CreatedAt = fromMicros(micros(s.CreatedAt))
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	s.ID = hex.EncodeToString(id[:])
	res, err := tx.ExecContext(ctx, `INSERT INTO suppressions (`+suppressionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (channel, address) DO NOTHING`,
		s.ID, string(s.Channel), s.Address, s.Reason, s.Detail, s.Actor.Kind, s.Actor.Name, micros(s.CreatedAt), s.DeliveryID)
	if err != nil {
		return nil, false, Classify(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return nil, false, Classify(err)
		}
		cur, err := scanSuppression(tx.QueryRowContext(ctx, `SELECT `+suppressionColumns+` FROM suppressions
WHERE channel = $1 AND address = $2`, string(s.Channel), s.Address))
		return cur, false, notFound(err)
	}
	return &s, true, recordAudit(ctx, tx, AuditEntry{At: s.CreatedAt, Actor: s.Actor, Action: ActionSuppressionAdded,
		ResourceType: AuditSuppression, ResourceID: string(s.Channel) + ":" + s.Address, After: suppressionJSON(&s)})
}

// truncateUTF8 cuts s to at most n bytes, not inside a character.
func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// AddSuppression is Suppress in a durable write of its own.
func (db *DB) AddSuppression(ctx context.Context, s Suppression) (stored *Suppression, added bool, err error) {
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		stored, added, err = Suppress(ctx, tx, s)
		return err
	})
	return stored, added, err
}

// RemoveSuppression takes channel's address off the suppression list,
// audited as done by the actor of ctx, and returns what was removed;
// notifyd.ErrNotFound if it is not suppressed.
func (db *DB) RemoveSuppression(ctx context.Context, channel notifyd.Channel, address string) (*Suppression, error) {
	addr, err := NormalizeSuppressionAddress(channel, address)
	if err != nil {
		return nil, notifyd.ErrNotFound // no such address can be suppressed
	}
	var removed *Suppression
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		s, err := scanSuppression(tx.QueryRowContext(ctx, `DELETE FROM suppressions WHERE channel = $1 AND address = $2
RETURNING `+suppressionColumns, string(channel), addr))
		if err != nil {
			return notFound(err)
		}
		removed = s
		return recordAudit(ctx, tx, AuditEntry{Actor: auditOf(ctx).Actor, Action: ActionSuppressionRemoved,
			ResourceType: AuditSuppression, ResourceID: string(channel) + ":" + addr, Before: suppressionJSON(s)})
	})
	return removed, err
}

// Suppressed returns the suppression of channel's address (as the engine
// sends to it), or nil when it is not suppressed: one lookup of the
// primary key, made before every send.
func (db *DB) Suppressed(ctx context.Context, channel, address string) (*Suppression, error) {
	if channel != string(notifyd.ChannelEmail) && channel != string(notifyd.ChannelSMS) {
		return nil, nil
	}
	s, err := scanSuppression(db.reader.QueryRowContext(ctx, `SELECT `+suppressionColumns+` FROM suppressions
WHERE channel = $1 AND address = $2`, channel, suppressionKey(channel, address)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, Classify(err)
	}
	return s, nil
}

// SuppressionFilter selects suppressions, oldest first. Empty fields
// match everything.
type SuppressionFilter struct {
	Channel string
	Reason  string
	// Address keeps the entry of that address (of any channel, unless
	// Channel says which), compared as the list keeps it (in lower
	// case): a lookup of the primary key.
	Address string
	// AddressPrefix keeps the addresses that start with it, compared in
	// lower case (see suppressionsQuery).
	AddressPrefix string
	// Newest lists newest first (the cursor then pages backwards in time).
	Newest bool
	// AfterTime and AfterID are the cursor: entries after (newest first:
	// before) the one added at AfterTime with ID AfterID.
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// prefixEnd is the least string greater than every string that starts
// with p, in byte (and so code point) order: p with its last character
// one higher. It is false when there is none (p is all U+10FFFF).
func prefixEnd(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.RuneError && size == 1, r == utf8.MaxRune:
			continue // not text, or no character above: one before it
		case r == 0xD7FF:
			r = 0xE000 // past the surrogates, which UTF-8 cannot encode
		default:
			r++
		}
		return p + string(r), true
	}
	return "", false
}

// Suppressions lists the suppressions matching f, oldest first (newest
// first with f.Newest).
func (db *DB) Suppressions(ctx context.Context, f SuppressionFilter) ([]Suppression, error) {
	q, args := suppressionsQuery(f, db.Postgres())
	var out []Suppression
	err := db.each(ctx, q, args, func(r scanner) error {
		s, err := scanSuppression(r)
		if err == nil {
			out = append(out, *s)
		}
		return err
	})
	return out, err
}

// suppressionsQuery is Suppressions' query. An address, and on SQLite an
// address prefix, is looked up in the primary key (channel, address),
// both of whose columns it states; the other filters (a channel, a
// reason) are checked in time order (suppressions_created): a channel is
// a large part of the list, and a reason has no index (a rare one reads
// much of the list: see BenchmarkSuppressionListing).
func suppressionsQuery(f SuppressionFilter, postgres bool) (string, []any) {
	var w filter
	channels := []string{string(notifyd.ChannelEmail), string(notifyd.ChannelSMS)}
	// Email addresses are kept in lower case, phone numbers have none.
	addr, prefix := strings.ToLower(strings.TrimSpace(f.Address)), strings.ToLower(f.AddressPrefix)
	end, ranged := prefixEnd(prefix)
	// SQLite compares text byte by byte (BINARY), so the addresses that
	// start with a prefix are a range of the primary key. PostgreSQL
	// compares in the database's collation, where they need not be: it
	// reads the list (a sequential scan, 30-40 ms at 100,000 entries).
	ranged = ranged && !postgres && addr == ""
	switch {
	case addr != "" || ranged:
		if f.Channel != "" {
			w.eq("channel", f.Channel)
		} else {
			w.in("channel", channels)
		}
		if addr != "" {
			w.eq("address", addr)
		} else {
			w.conds = append(w.conds, "address >= "+w.param(prefix)+" AND address < "+w.param(end))
		}
	default:
		// The cast keeps SQLite, which plans without statistics, from
		// the primary key for a channel (it would sort every entry of
		// the channel); PostgreSQL drops it.
		w.eq("CAST(channel AS TEXT)", f.Channel)
	}
	w.eq("reason", f.Reason)
	if prefix != "" {
		w.conds = append(w.conds, fmt.Sprintf("substr(address, 1, %d) = %s", utf8.RuneCountInString(prefix), w.param(prefix)))
	}
	order := ` ORDER BY created_at, id LIMIT `
	if f.Newest {
		w.before("created_at", "id", f.AfterTime, f.AfterID)
		order = ` ORDER BY created_at DESC, id DESC LIMIT `
	} else {
		w.after("created_at", "id", f.AfterTime, f.AfterID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return `SELECT ` + suppressionColumns + ` FROM suppressions` + w.where() + order + w.param(f.Limit), w.args
}
