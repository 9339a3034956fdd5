// Package message is what every channel needs to write a message: times
// in the recipient's zone and language, readable names for people and
// calendars, templates per notification type and language with an
// override directory, and text clean-up.
//
// The channels (email, sms, im) keep what is theirs: their template files
// (embedded in each channel and handed over as an [io/fs.FS]), the data
// their templates see, and how a rendered text is shaped for the medium.
package message
