package engine

import "testing"

// Only a path below the notification collection is one of its
// notifications; nothing is while the collection is unknown.
func TestFromNotificationCollection(t *testing.T) {
	t.Parallel()
	const coll = "/dav/notifications/user/wilma/"
	for _, tt := range []struct {
		href, coll string
		want       bool
	}{
		{"/dav/notifications/user/wilma/n1.xml", coll, true},
		{"/dav/notifications/user/wilma/n1.xml", "/dav/notifications/user/wilma", true},
		{"/dav/notifications/user/wilma/n%201.xml", coll, true},
		{"/dav/notifications/user/wilma/n1.xml", "", false},
		{"/dav/notifications/user/wilma/", coll, false},
		{"/dav/notifications/user/wilmax/n1.xml", coll, false},
		{"/dav/calendars/user/wilma/Default/e1.ics", coll, false},
		{"/dav/notifications/user/wilma/../../../calendars/user/wilma/Default/e1.ics", coll, false},
		{"/dav/notifications/user/wilma/%2e%2e/x", coll, false},
		{"/dav/notifications/user/wilma/a%2fb", coll, false},
		{"enp:///ics/caleventmodify?uid=e1", coll, false},
		{"", coll, false},
	} {
		if got := fromNotificationCollection(tt.href, tt.coll); got != tt.want {
			t.Errorf("fromNotificationCollection(%q, %q) = %v, want %v", tt.href, tt.coll, got, tt.want)
		}
	}
}
