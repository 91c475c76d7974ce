package mkv_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// TestWriterRoundTrip writes a file and reads it back with our decoder:
// known sizes everywhere, the frames, the tags, a SeekHead that points at
// Info, Tracks, Cues and Tags.
func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.mkv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mkv.NewWriter(f, mkv.WriterOptions{WritingApp: "test", Tracks: []mkv.Track{
		{Number: 1, Type: mkv.VideoTrack, CodecID: "V_TEST", Width: 64, Height: 48, DefaultDuration: 40 * time.Millisecond},
		{Number: 2, Type: mkv.AudioTrack, CodecID: "A_TEST", SamplingRate: 8000, Channels: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 300 {
		ts := time.Duration(i) * 40 * time.Millisecond
		key := i%50 == 0
		data := bytes.Repeat([]byte{byte(i)}, 100+i)
		if err := w.WriteFrame(1, ts, key, data); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(2, ts+5*time.Millisecond, true, data[:10]); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(data), string(data[:10]))
	}
	w.AddTags([]mkv.SimpleTag{{Name: "A", Value: "b", Tags: []mkv.SimpleTag{{Name: "C", Binary: []byte{1}}}}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var clusterTC, seeks, cues uint64
	var tagNames []string
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == mkv.Start && ev.Size == mkv.UnknownSize {
			t.Errorf("%v has an unknown size", ev.ID)
		}
		switch {
		case ev.ID == mkv.IDTimecode:
			clusterTC = ev.Uint
		case ev.Kind == mkv.BlockKind:
			got = append(got, string(ev.Block.Frames[0]))
			if ts := clusterTC + uint64(ev.Block.Timecode); ev.Block.Track == 1 && ts%40 != 0 {
				t.Errorf("video frame at %d ms", ts)
			}
		case ev.ID == mkv.IDSeekPos:
			seeks++
		case ev.ID == mkv.IDCuePoint && ev.Kind == mkv.Start:
			cues++
		case ev.ID == mkv.IDTagName:
			tagNames = append(tagNames, ev.String())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d differs", i)
		}
	}
	if seeks != 4 || cues != 6 || strings.Join(tagNames, ",") != "A,C" {
		t.Errorf("%d Seek entries, %d CuePoints, tags %v; want 4, 6, A,C", seeks, cues, tagNames)
	}
	if _, err := exec.LookPath("mkvinfo"); err == nil {
		out, err := exec.Command("mkvinfo", "-v", path).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("rror")) {
			t.Errorf("mkvinfo: %v\n%s", err, out)
		}
	}
}
