package kvsreport

import (
	"os"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
)

func TestMain(m *testing.M) { os.Exit(mediatest.Main(m)) }
