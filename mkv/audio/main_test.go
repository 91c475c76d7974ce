package audio_test

import (
	"os"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
)

// TestMain says, after the tests, how many skipped for a missing tool, and
// how to get them to run.
func TestMain(m *testing.M) { os.Exit(mediatest.Main(m)) }
