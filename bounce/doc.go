// Package bounce handles the mail that comes back after notifyd sent an
// email: it makes the per-delivery envelope sender (VERP, [VERP]) so a
// bounce names the delivery it is about, parses bounce reports ([Parse]:
// RFC 3464 delivery status notifications and the common plain-text
// formats of qmail, Exim, Postfix, Microsoft and Gmail), and runs an
// inbound SMTP listener ([Listener]) that accepts reports for the VERP
// addresses only and hands each parsed [Report] to a callback; or reads
// them from a mailbox over IMAP ([PollMailbox]).
//
// The same paths take complaints: feedback reports (ARF, RFC 5965) that
// mailbox providers' feedback loops send when a recipient marks a
// message as spam, to the fixed address [VERP.FeedbackAddress]
// (fbl@<bounce domain>) or to a bounce address. [Parse] finds the
// delivery in the reported message's Return-Path (or the report's
// Original-Mail-From) and gives a [Report] of kind [Complaint] or
// [NotSpam]; a DMARC or DKIM failure report is no complaint.
//
// A report counts only when it was sent to a VERP address whose MAC
// verifies: a forged or altered address is refused ([ErrForged]), and
// auto-replies (out-of-office) are not bounces ([ErrNotBounce]). The
// listener never sends mail, so notifyd never bounces a bounce.
package bounce
