package engine_test

import (
	"context"

	"github.com/notifyd/notifyd/caldavclient"
)

// Calendars lists no calendars: the notification tests' server has none.
func (f *fakeDAV) Calendars(context.Context, string) ([]caldavclient.Calendar, error) {
	return nil, nil
}

// MultiGet reads nothing: the notification tests' server has no calendars.
func (f *fakeDAV) MultiGet(context.Context, string, []string) ([]caldavclient.Object, error) {
	return nil, nil
}
