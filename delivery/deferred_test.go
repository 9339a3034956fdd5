package delivery

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// A deferral says when to send again and is temporary to callers that
// do not tell it from a failure; a temporary failure is no deferral.
func TestDeferredIsTemporaryButNoFailure(t *testing.T) {
	err := fmt.Errorf("email to fred@example.org: %w", Deferred(errors.New("example.org is paced"), 3*time.Second))
	if ok, after := IsDeferred(err); !ok || after != 3*time.Second {
		t.Errorf("IsDeferred = %v, %s; want true, 3s", ok, after)
	}
	if ok, after := IsTemporary(err); !ok || after != 3*time.Second {
		t.Errorf("IsTemporary = %v, %s; want true, 3s", ok, after)
	}
	if ok, _ := IsDeferred(Temporary(errors.New("451 try again later"), time.Second)); ok {
		t.Error("a temporary failure is taken for a deferral")
	}
	if Deferred(nil, time.Second) != nil {
		t.Error("Deferred(nil) is not nil")
	}
}
