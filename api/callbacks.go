package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// ProblemForbidden is the problem type of a request whose credentials are
// refused although present or not needed from a person (a Twilio callback
// without a valid signature).
const ProblemForbidden = "urn:notifyd:problem:forbidden"

// ProviderStatuses records what a provider reports about the messages it
// accepted; store.DB implements it.
type ProviderStatuses interface {
	ProviderStatus(ctx context.Context, channel, providerID, status, reason string, now time.Time) (*store.DeliveryRecord, error)
}

// TwilioCallbacks configures POST /v1/callbacks/twilio, where Twilio
// reports what became of the SMS notifyd sent (each message's
// StatusCallback).
type TwilioCallbacks struct {
	// AuthToken is the Twilio auth token the callbacks are signed with
	// (X-Twilio-Signature). Empty (SMS not configured): every callback is
	// refused with 403.
	AuthToken string
	// FallbackAuthTokens are the auth tokens of channels.twilio's
	// fallback_accounts: a message sent through one of them has its
	// callbacks signed with that account's token, which is accepted too.
	FallbackAuthTokens []string
	// URL is the endpoint's public URL, as notifyd gives it to Twilio (see
	// sms.CallbackURL): Twilio signs the URL it posts to, and behind a
	// proxy the request's own Host and scheme may differ.
	URL string
	// Statuses records the statuses reported.
	Statuses ProviderStatuses
}

// twilioStatus maps the MessageStatus values of Twilio's callbacks that
// notifyd records to delivery statuses; the others (queued, sending,
// accepted, scheduled…) say nothing new and are ignored.
var twilioStatus = map[string]string{
	"sent":        store.DeliverySent,
	"delivered":   store.DeliveryDelivered,
	"undelivered": store.DeliveryUndelivered,
	"failed":      store.DeliveryFailed,
}

// twilioStop is Twilio's error code for a recipient who replied STOP.
const twilioStop = "21610"

// twilioErrors describes the error codes Twilio's delivery reports carry
// most (https://www.twilio.com/docs/api/errors), for the delivery log.
var twilioErrors = map[string]string{
	"30001": "queue overflow",
	"30002": "account suspended",
	"30003": "unreachable destination handset",
	"30004": "message blocked",
	"30005": "unknown destination handset",
	"30006": "landline or unreachable carrier",
	"30007": "message filtered by the carrier",
	"30008": "unknown error",
	"21610": "recipient unsubscribed (replied STOP)",
}

// verifyTwilio is the authentication of POST /v1/callbacks/twilio: the
// request must carry an X-Twilio-Signature that Twilio computed with the
// auth token over the public URL and the form parameters. It runs before
// the contract validator, so that an unsigned request learns nothing
// about the body it should have sent.
func (s *Server) verifyTwilio(o TwilioCallbacks, maxBody int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		req := c.Request
		sig := req.Header.Get("X-Twilio-Signature")
		if sig == "" {
			forbidden(c, "The X-Twilio-Signature header is missing: this endpoint only takes Twilio's signed status callbacks.")
			return
		}
		if o.AuthToken == "" {
			s.log.Warn("Twilio status callback refused: the SMS channel is not configured (channels.twilio)",
				"request_id", c.GetString(ctxRequestID))
			forbidden(c, "notifyd has no Twilio auth token to check the signature with: the SMS channel is not configured.")
			return
		}
		if req.ContentLength > maxBody {
			tooLarge(c, maxBody)
			return
		}
		body, ok := readBody(c, maxBody)
		if !ok {
			return
		}
		// Twilio signs the URL it posts to, query included, followed by
		// the form parameters (for a form body; other bodies are not
		// part of the signature).
		signed := o.URL
		if req.URL.RawQuery != "" {
			signed += "?" + req.URL.RawQuery
		}
		var params url.Values
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			var err error
			if params, err = url.ParseQuery(string(body)); err != nil {
				badRequest(c, "The form body is malformed: "+err.Error())
				return
			}
		}
		if !validTwilioSignatureAny(o, signed, params, sig) {
			s.log.Warn("Twilio status callback refused: bad signature; if Twilio sends it, check that http.public_url is the URL Twilio posts to",
				"request_id", c.GetString(ctxRequestID), "verified_against", signed, "remote", c.ClientIP())
			forbidden(c, "The X-Twilio-Signature does not match: the request was not signed by Twilio with notifyd's auth token for "+
				signed+" (the public URL, http.public_url, and this path).")
			return
		}
		c.Next()
	}
}

// twilioCallback records a verified status callback.
func (s *Server) twilioCallback(o TwilioCallbacks) gin.HandlerFunc {
	return func(c *gin.Context) {
		form, _ := url.ParseQuery(string(c.MustGet(ctxBody).([]byte))) // the contract checked it
		sid, reported := form.Get("MessageSid"), form.Get("MessageStatus")
		log := s.log.With("request_id", c.GetString(ctxRequestID), "message_sid", sid, "message_status", reported)
		status, ok := twilioStatus[reported]
		if !ok {
			log.Debug("Twilio status callback ignored: an intermediate status")
			c.Status(http.StatusOK)
			return
		}
		reason := twilioReason(reported, form.Get("ErrorCode"), form.Get("ErrorMessage"))
		d, err := o.Statuses.ProviderStatus(c.Request.Context(), string(notifyd.ChannelSMS), sid, status, reason, time.Now())
		switch {
		case errors.Is(err, notifyd.ErrNotFound):
			// Answering an error would have Twilio retry for nothing.
			log.Warn("Twilio status callback for a message notifyd has no delivery of (sent by another system on this account, or its delivery was purged); ignored")
			c.Status(http.StatusOK)
			return
		case err != nil:
			writeError(c, s.log, err)
			return
		}
		log.Info("Twilio status callback recorded", "delivery", d.ID, "status", d.Status, "reason", reason)
		if form.Get("ErrorCode") == twilioStop && s.suppressions != nil {
			// The recipient replied STOP: Twilio blocks the number for the
			// whole account, so no subscription is to send to it.
			if _, _, err := s.suppressions.AddSuppression(c.Request.Context(), store.Suppression{Channel: notifyd.ChannelSMS,
				Address: d.Address, Reason: store.SuppressStop, Detail: reason, DeliveryID: d.ID}); err != nil {
				writeError(c, s.log, err) // Twilio retries the callback
				return
			}
			log.Info("phone number suppressed: its recipient replied STOP", "delivery", d.ID)
		}
		c.Status(http.StatusOK)
	}
}

// twilioReason writes the delivery log's reason for a reported status:
// the error code, what it means and Twilio's message, if any.
func twilioReason(status, code, message string) string {
	if code == "" || code == "0" {
		if status == "undelivered" || status == "failed" {
			return "Twilio reports the message " + status + " (no error code)"
		}
		return ""
	}
	r := "Twilio error " + code
	if what := twilioErrors[code]; what != "" {
		r += " (" + what + ")"
	}
	if message = strings.TrimSpace(message); message != "" {
		r += ": " + message
	}
	return r + "; https://www.twilio.com/docs/api/errors/" + url.PathEscape(code)
}

func forbidden(c *gin.Context, detail string) {
	writeProblem(c, Problem{Type: ProblemForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: detail})
}

// validTwilioSignatureAny reports whether sig is the signature of the
// request by any of the configured accounts' auth tokens.
func validTwilioSignatureAny(o TwilioCallbacks, rawURL string, params url.Values, sig string) bool {
	if validTwilioSignature(o.AuthToken, rawURL, params, sig) {
		return true
	}
	for _, token := range o.FallbackAuthTokens {
		if token != "" && validTwilioSignature(token, rawURL, params, sig) {
			return true
		}
	}
	return false
}

// validTwilioSignature reports whether sig is Twilio's signature of a
// request to rawURL with the form params: base64(HMAC-SHA1(authToken, URL
// followed by each parameter's name and value, sorted by name, then by
// value)). Like Twilio's own libraries, it also accepts the URL with the
// scheme's default port added or removed (Twilio signs whichever it was
// given).
func validTwilioSignature(authToken, rawURL string, params url.Values, sig string) bool {
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	var tail strings.Builder
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values := append([]string(nil), params[name]...)
		sort.Strings(values)
		for _, v := range values {
			tail.WriteString(name)
			tail.WriteString(v)
		}
	}
	for _, u := range urlVariants(rawURL) {
		mac := hmac.New(sha1.New, []byte(authToken))
		mac.Write([]byte(u))
		mac.Write([]byte(tail.String()))
		if hmac.Equal(mac.Sum(nil), want) {
			return true
		}
	}
	return false
}

// urlVariants returns rawURL and, when it has the scheme's default port
// or none, the same URL with that port removed or added.
func urlVariants(rawURL string) []string {
	out := []string{rawURL}
	u, err := url.Parse(rawURL)
	if err != nil {
		return out
	}
	def := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	switch port := u.Port(); {
	case def == "":
	case port == "":
		v := *u
		v.Host += ":" + def
		out = append(out, v.String())
	case port == def:
		v := *u
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") {
			v.Host = "[" + v.Host + "]"
		}
		out = append(out, v.String())
	}
	return out
}
