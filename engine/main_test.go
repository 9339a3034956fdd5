package engine_test

import (
	"os"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

func TestMain(m *testing.M) { os.Exit(peertest.WithPostgres(m.Run)) }
