package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
)

// TestMKVOfRange writes a stream's time range with -mkv FILE (not
// following): the file holds every frame the fragment lines count, with
// their bytes.
func TestMKVOfRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "range.mkv")
	stdout, stderr, code := dump(t, "-emulate", "-mkv", path)
	frags, _ := parse(t, stdout)
	if code != 0 || len(frags) != 12 {
		t.Fatalf("exit %d, %d fragments; stderr %q", code, len(frags), stderr)
	}
	want := 0
	for _, f := range frags {
		for _, tr := range f.Tracks {
			want += tr.Frames
		}
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	got, bytes := 0, 0
	for f, err := range kvs.NewReader(file).All() {
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range f.Frames {
			got++
			bytes += len(fr.Data)
		}
	}
	if got != want || bytes < got {
		t.Errorf("-mkv wrote %d frames of %d bytes, want the %d frames of the range, with data", got, bytes, want)
	}
}
