package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
)

// DefaultCoolDown is how long an account found down is skipped when
// channels.twilio.cool_down is not set.
const DefaultCoolDown = time.Minute

// account is one Twilio account (or messaging service) the channel sends
// through: channels.twilio's own, then each of its fallback_accounts.
type account struct {
	name          string // metric label: "primary", or the fallback's name
	sid, token    string
	from, service string
	baseURL       *url.URL // nil: Twilio's own

	accepted, failed, failovers atomic.Uint64

	mu        sync.Mutex
	downUntil time.Time // zero: up
}

// newAccount checks one account's settings; key is its configuration
// key ("channels.twilio" or "channels.twilio.fallback_accounts[2]").
func newAccount(key, name, sid, token, from, service, baseURL string) (*account, error) {
	if !accountSID.MatchString(sid) {
		return nil, fmt.Errorf("%s.account_sid %q: a Twilio account SID is AC followed by 32 hexadecimal digits", key, sid)
	}
	if !alphanumeric.MatchString(token) {
		return nil, fmt.Errorf("%s.auth_token: required, letters and digits only (a Twilio auth token is 32 hexadecimal digits)", key)
	}
	if from == "" && service == "" {
		return nil, fmt.Errorf("%s.from or %s.messaging_service_sid is required", key, key)
	}
	if from != "" && !validSender(from) {
		return nil, fmt.Errorf("%s.from %q: must be an E.164 number such as \"+15551234567\", a short code, or an alphanumeric sender ID (at most 11 letters, digits and spaces)", key, from)
	}
	if service != "" && !serviceSID.MatchString(service) {
		return nil, fmt.Errorf("%s.messaging_service_sid %q: a messaging service SID is MG followed by 32 hexadecimal digits", key, service)
	}
	a := &account{name: name, sid: sid, token: token, from: from, service: service}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s.base_url %q: must be an absolute http or https URL", key, baseURL)
		}
		a.baseURL = u
	}
	return a, nil
}

// fallbackAccounts checks and builds channels.twilio.fallback_accounts.
func fallbackAccounts(list []config.TwilioAccount) ([]*account, error) {
	var out []*account
	for i, fa := range list {
		name := fa.Name
		if name == "" {
			name = fmt.Sprintf("fallback-%d", i+1)
		}
		a, err := newAccount(fmt.Sprintf("channels.twilio.fallback_accounts[%d]", i+1), name,
			fa.AccountSID, fa.AuthToken.Reveal(), fa.From, fa.MessagingServiceSID, fa.BaseURL)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// apiBase is the API base URL the account's requests go to.
func (a *account) apiBase() string {
	if a.baseURL != nil {
		return a.baseURL.String()
	}
	return "https://api.twilio.com"
}

// cooling reports whether the account is skipped at now, and until when.
func (a *account) cooling(now time.Time) (bool, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return now.Before(a.downUntil), a.downUntil
}

// order returns the accounts to try at now, in priority order: those not
// cooling down; when every account is, the one whose cool-down ends first
// (one try rather than none).
func (c *Channel) order(now time.Time) []*account {
	var up []*account
	var soonest *account
	var soonestEnd time.Time
	for _, a := range c.accounts {
		cooling, until := a.cooling(now)
		if !cooling {
			up = append(up, a)
			continue
		}
		if soonest == nil || until.Before(soonestEnd) {
			soonest, soonestEnd = a, until
		}
	}
	if len(up) == 0 {
		return []*account{soonest}
	}
	return up
}

// markDown skips the account for the cool-down, saying why.
func (c *Channel) markDown(a *account, reason error, next *account) {
	until := c.now().Add(c.coolDown)
	a.mu.Lock()
	a.downUntil = until
	a.mu.Unlock()
	msg := "sms: Twilio account down, skipped for the cool-down; check the account's status and credentials (https://status.twilio.com) or its base_url"
	attrs := []any{"account", a.name, "api", config.RedactURL(a.apiBase()), "cool_down", c.coolDown, "until", until, "reason", reason.Error()}
	if next != nil {
		attrs = append(attrs, "next_account", next.name)
	} else if len(c.accounts) == 1 {
		msg += "; add channels.twilio.fallback_accounts to send through another account meanwhile"
	}
	c.log.Warn(msg, attrs...)
}

// markUp ends the account's cool-down after it accepted a message.
func (c *Channel) markUp(a *account) {
	a.mu.Lock()
	was := !a.downUntil.IsZero()
	a.downUntil = time.Time{}
	a.mu.Unlock()
	if was {
		c.log.Info("sms: Twilio account accepts messages again", "account", a.name)
	}
}

// outcome is what a failed request says about the account and the
// message.
type outcome int

const (
	// refused: the account answered and refused this message (an invalid
	// or unsubscribed number…): no other account would do better.
	refused outcome = iota
	// down: the account certainly did not take the message and is not
	// working (unreachable, 5xx, 429, 401): the next account may send it.
	down
	// unknown: the account may have taken the message (no answer after the
	// request was sent, a gateway timeout): it is not sent through another
	// account, which could send it twice; the durable retry decides.
	unknown
	// stopped: the Send's own context ended (notifyd is stopping).
	stopped
)

// judge tells what the failed request err, seen by x, says. ctx is the
// Send's context.
func judge(ctx context.Context, err error, x *exchange) outcome {
	if ctx.Err() != nil {
		return stopped
	}
	status, _, _ := x.reply()
	switch {
	case status == http.StatusGatewayTimeout:
		return unknown
	case status == http.StatusTooManyRequests || status == http.StatusUnauthorized || status >= 500:
		return down
	case status >= 400:
		return refused
	case status != 0:
		return refused // a 2xx with an unreadable reply: accepted, not resent
	}
	if x.notSent() || dialError(err) {
		return down
	}
	return unknown
}

// dialError reports whether err is a failure to connect: the request was
// not sent.
func dialError(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

var (
	acceptedDesc = prometheus.NewDesc("notifyd_sms_account_accepted_total",
		"SMS messages a Twilio account accepted, by account (channels.twilio is \"primary\").", []string{"account"}, nil)
	failedDesc = prometheus.NewDesc("notifyd_sms_account_failed_total",
		"SMS send requests that failed at a Twilio account (refused, down or unanswered), by account.", []string{"account"}, nil)
	failoverDesc = prometheus.NewDesc("notifyd_sms_account_failovers_total",
		"SMS messages sent on to the next Twilio account because this one was down, by account.", []string{"account"}, nil)
	coolingDesc = prometheus.NewDesc("notifyd_sms_account_cooling_down",
		"1 while a Twilio account is skipped for its cool-down after it was found down, by account.", []string{"account"}, nil)
)

// Describe describes the per-account metrics (prometheus.Collector).
func (c *Channel) Describe(ch chan<- *prometheus.Desc) {
	ch <- acceptedDesc
	ch <- failedDesc
	ch <- failoverDesc
	ch <- coolingDesc
}

// Collect reports the per-account metrics (prometheus.Collector).
func (c *Channel) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, a := range c.accounts {
		ch <- prometheus.MustNewConstMetric(acceptedDesc, prometheus.CounterValue, float64(a.accepted.Load()), a.name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(a.failed.Load()), a.name)
		ch <- prometheus.MustNewConstMetric(failoverDesc, prometheus.CounterValue, float64(a.failovers.Load()), a.name)
		cooling, _ := a.cooling(now)
		v := 0.0
		if cooling {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(coolingDesc, prometheus.GaugeValue, v, a.name)
	}
}
