package kvstest_test

import (
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestCallSpecs reads the spec words of call streams.
func TestCallSpecs(t *testing.T) {
	tests := []struct {
		spec   string
		call   kvsgen.CallKind
		change int
		bad    bool
	}{
		{spec: "connect", call: kvsgen.ConnectCall},
		{spec: "connect,fragments=8,change=3", call: kvsgen.ConnectCall, change: 3},
		{spec: "chime=alaw", call: kvsgen.ChimeALaw},
		{spec: "chime=mulaw,change=1", call: kvsgen.ChimeMuLaw, change: 1},
		{spec: "chime=g729", bad: true},
		{spec: "chime", bad: true},
		{spec: "connect,change=-1", bad: true},
		{spec: "connect,change=x", bad: true},
	}
	for _, tc := range tests {
		c, err := kvstest.ParseStreamConfig(tc.spec)
		switch {
		case tc.bad && err == nil:
			t.Errorf("ParseStreamConfig(%q) = %+v, want an error", tc.spec, c)
		case !tc.bad && err != nil:
			t.Errorf("ParseStreamConfig(%q): %v", tc.spec, err)
		case !tc.bad && (c.Call != tc.call || c.CallChange != tc.change):
			t.Errorf("ParseStreamConfig(%q): call %d change %d, want %d %d", tc.spec, c.Call, c.CallChange, tc.call, tc.change)
		}
	}
}
