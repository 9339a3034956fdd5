// Package delivery renders notifications and sends them through channels,
// one subpackage per channel (email, sms, im, webhook), each registering
// itself by name.
//
// The channels are built with the delivery issues; until then nothing is
// sent.
package delivery
