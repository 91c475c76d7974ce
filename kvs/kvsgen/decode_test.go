package kvsgen_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// TestMediaDecodes checks that a Media stream's units are MKV files ffmpeg
// decodes without a message, every frame of each, the later fragments
// too (each starts with its own IDR frame).
func TestMediaDecodes(t *testing.T) {
	mediatest.Need(t)
	g := kvsgen.Generator{Fragments: 3, Media: true, Audio: true, FragmentDuration: time.Second, GetMedia: true, ProducerTags: true}
	dir := t.TempDir()
	for i := range g.Fragments {
		file := filepath.Join(dir, "unit.mkv")
		if err := os.WriteFile(file, g.Unit(i), 0o666); err != nil {
			t.Fatal(err)
		}
		mediatest.StructureOK(t, file)
		mediatest.Plays(t, file)
		video, audio := 0, 0
		for _, f := range g.Frames(i) {
			if f.Track == kvsgen.VideoTrackNumber {
				video++
			} else {
				audio++
			}
		}
		if got := mediatest.Frames(t, file, "v:0"); got != video || video != 30 {
			t.Errorf("unit %d: ffprobe decodes %d video frames, want %d (30)", i, got, video)
		}
		if got := mediatest.Frames(t, file, "a:0"); got != audio || audio == 0 {
			t.Errorf("unit %d: ffprobe decodes %d audio frames, want %d", i, got, audio)
		}
	}
}
