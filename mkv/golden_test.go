package mkv_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

var update = flag.Bool("update", false, "rewrite the files in testdata/ from the generator")

// tinyConfig is testdata/tiny.mkv: one GetMedia unit with three video
// frames and tags before and after the Cluster.
var tinyConfig = kvsgen.Generator{
	Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 4800,
	GetMedia: true, ProducerTags: true,
}

// TestTinyFixture keeps testdata/tiny.mkv, which the examples read, equal
// to what the generator writes; -update rewrites it.
func TestTinyFixture(t *testing.T) {
	path := filepath.Join("testdata", "tiny.mkv")
	want := tinyConfig.Bytes()
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mkv -run TestTinyFixture -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generator's output (run go test ./mkv -run TestTinyFixture -update)", path)
	}
}
