package engine_test

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
)

// CalendarsListedSince lists no calendars: the notification tests' server
// has none.
func (f *fakeDAV) CalendarsListedSince(context.Context, string, time.Time) ([]caldavclient.Calendar, error) {
	return nil, nil
}

// OthersCalendarsListedSince lists none.
func (f *fakeDAV) OthersCalendarsListedSince(context.Context, string, time.Time) ([]caldavclient.Calendar, error) {
	return nil, nil
}

// CalendarUserAddresses names none.
func (f *fakeDAV) CalendarUserAddresses(context.Context, string) ([]string, error) {
	return nil, nil
}

// MultiGet reads nothing: the notification tests' server has no calendars.
func (f *fakeDAV) MultiGet(context.Context, string, []string) ([]caldavclient.Object, error) {
	return nil, nil
}
