package kvstest_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
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
		{spec: "connect", call: kvsgen.ConnectCall, change: 5},
		{spec: "connect,fragments=9", call: kvsgen.ConnectCall, change: 4},
		{spec: "connect,change=0", call: kvsgen.ConnectCall},
		{spec: "connect,fragments=8,change=3", call: kvsgen.ConnectCall, change: 3},
		{spec: "chime=alaw", call: kvsgen.ChimeALaw, change: 5},
		{spec: "fragments=4", change: 0},
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

// TestCallChangeZero checks that a generated call stream's CallChange
// means what kvsgen's does: 0 keeps one call throughout, 2 changes the
// call at the third fragment.
func TestCallChangeZero(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	for change, want := range map[int][]string{0: {"a", "a", "a", "a"}, 2: {"a", "a", "b", "b"}} {
		numbers := srv.AddStream("call", kvstest.StreamConfig{Fragments: 4, Call: kvsgen.ConnectCall, CallChange: change})
		body, err := media(t, srv, "call", numbers)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		ids := map[string]string{}
		for f, err := range kvs.NewReader(bytes.NewReader(body)).All() {
			if err != nil {
				t.Fatal(err)
			}
			id, _ := f.Tag(kvsgen.TagContactID)
			if ids[id] == "" {
				ids[id] = string(rune('a' + len(ids)))
			}
			got = append(got, ids[id])
		}
		if !slices.Equal(got, want) {
			t.Errorf("CallChange %d: calls by fragment %v, want %v", change, got, want)
		}
	}
}
