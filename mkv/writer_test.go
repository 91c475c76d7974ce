package mkv_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
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
			tagNames = append(tagNames, ev.StringValue())
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

// TestWriterTimecodeScale rewrites, with mkv.Writer, an H.264 stream that
// mkvmerge wrote at a TimecodeScale of 1 µs and of 1 ms, and checks that
// ffprobe reads the same frame times from both files: at 1 µs a block's
// int16 offset spans only 32 ms, so the Writer must cut Clusters by offset
// range, not only every few seconds.
func TestWriterTimecodeScale(t *testing.T) {
	mediatest.Need(t)
	if _, err := exec.LookPath("mkvmerge"); err != nil {
		t.Skip("mkvmerge not installed (apt-get install mkvtoolnix)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=30", "-t", "3",
		"-c:v", "libx264", "-g", "45", "-pix_fmt", "yuv420p", src)
	for _, scale := range []string{"1000", "1000000"} {
		scaled := filepath.Join(dir, "scaled-"+scale+".mkv")
		mediatest.Run(t, "mkvmerge", "-q", "-o", scaled, "--timestamp-scale", scale, src)
		out := filepath.Join(dir, "out-"+scale+".mkv")
		rewrite(t, scaled, out)
		mediatest.StructureOK(t, out)
		want, got := packetTimes(t, scaled), packetTimes(t, out)
		if len(want) != 90 || !slices.Equal(want, got) {
			t.Errorf("scale %s: frame times differ:\nsource  %v\nwritten %v", scale, want, got)
		}
	}
}

// rewrite copies the frames of an MKV file to a new one with mkv.Writer,
// at the source's TimecodeScale and times.
func rewrite(t *testing.T, in, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	copyFrames(t, in, func(opts mkv.WriterOptions) (*mkv.Writer, error) { return mkv.NewWriter(f, opts) })
}

// copyFrames copies the frames of an MKV file to a Writer made by open,
// at the source's TimecodeScale and times.
func copyFrames(t *testing.T, in string, open func(mkv.WriterOptions) (*mkv.Writer, error)) {
	t.Helper()
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	type frame struct {
		track uint64
		at    time.Duration
		key   bool
		data  []byte
	}
	var (
		scale   uint64 = mkv.DefaultTimecodeScale
		tracks  []mkv.Track
		frames  []frame
		cluster int64
	)
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDTimecodeScale:
			scale = ev.Uint
		case ev.ID == mkv.IDTrackEntry && ev.Kind == mkv.Start:
			tracks = append(tracks, mkv.NewTrack())
		case ev.ID == mkv.IDTimecode:
			cluster = int64(ev.Uint)
		case ev.Kind == mkv.BlockKind:
			at := mkv.Timing(&ev.Block, cluster, scale, 0, -1).Time(0)
			frames = append(frames, frame{ev.Block.Track, at, ev.Block.Keyframe, bytes.Clone(ev.Block.Frames[0])})
		case ev.Kind == mkv.Value && len(tracks) > 0:
			tracks[len(tracks)-1].Set(ev)
		}
	}
	w, err := open(mkv.WriterOptions{TimecodeScale: scale, Tracks: tracks})
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WriteFrame(fr.track, fr.at, fr.key, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// packetTimes returns the presentation times ffprobe reads of a file's
// video packets, in order.
func packetTimes(t *testing.T, file string) []string {
	out := mediatest.Run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", file)
	return strings.Fields(out)
}

// TestStreamWriterPipe writes H.264 with a streaming Writer into ffprobe's
// standard input, a pipe: ffprobe reads the frame times of the source, and
// every block is out before the Writer is closed.
func TestStreamWriterPipe(t *testing.T) {
	mediatest.Need(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=30", "-t", "3",
		"-c:v", "libx264", "-g", "45", "-pix_fmt", "yuv420p", src)
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", "-i", "pipe:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copyFrames(t, src, func(opts mkv.WriterOptions) (*mkv.Writer, error) { return mkv.NewStreamWriter(stdin, opts) })
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe: %v %s", err, stderr.String())
	}
	if want, got := packetTimes(t, src), strings.Fields(out.String()); len(want) != 90 || !slices.Equal(want, got) {
		t.Errorf("frame times differ:\nsource   %v\nstreamed %v", want, got)
	}
}

// TestStreamWriterNoDelay checks that a streaming Writer writes each block
// when WriteFrame is called, not when its Cluster ends.
func TestStreamWriterNoDelay(t *testing.T) {
	var b bytes.Buffer
	w, err := mkv.NewStreamWriter(&b, mkv.WriterOptions{Tracks: []mkv.Track{{Number: 1, Type: mkv.VideoTrack, CodecID: "V_TEST"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, frame := range []string{"first-frame", "second-frame"} {
		if err := w.WriteFrame(1, time.Duration(i)*40*time.Millisecond, i == 0, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b.Bytes(), []byte(frame)) {
			t.Fatalf("after WriteFrame(%q) the output ends with %q", frame, b.Bytes()[max(0, b.Len()-16):])
		}
	}
	var sizes []int64
	for ev, err := range mkv.NewDecoder(bytes.NewReader(b.Bytes())).All() {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == mkv.Start && (ev.ID == mkv.IDSegment || ev.ID == mkv.IDCluster) {
			sizes = append(sizes, ev.Size)
		}
	}
	if len(sizes) != 2 || sizes[0] != mkv.UnknownSize || sizes[1] != mkv.UnknownSize {
		t.Errorf("Segment and Cluster sizes %v, want unknown", sizes)
	}
}
