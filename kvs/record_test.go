package kvs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	pos int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		s.pos = int(off)
	case io.SeekCurrent:
		s.pos += int(off)
	case io.SeekEnd:
		s.pos = len(s.b) + int(off)
	}
	return int64(s.pos), nil
}

type h264Track struct {
	codecPrivate []byte
	frames       [][]byte
	keys         []bool
}

// encode makes an H.264 track with ffmpeg (10 fps, a keyframe every 10
// frames, no B-frames) and reads it back.
func encode(t *testing.T, size string, seconds int) h264Track {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size="+size+":rate=10", "-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-g", "10", "-bf", "0", "-pix_fmt", "yuv420p", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var tr h264Track
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDCodecPrivate:
			tr.codecPrivate = bytes.Clone(ev.Bytes)
		case ev.Kind == mkv.BlockKind:
			tr.frames = append(tr.frames, bytes.Clone(ev.Block.Frames[0]))
			tr.keys = append(tr.keys, ev.Block.Keyframe)
		}
	}
	return tr
}

// unit writes one KVS-like unit: a GOP of tr with KVS tags, producer time p.
func unit(t *testing.T, tr h264Track, from, to, index int, p time.Duration, width, height uint64) []byte {
	t.Helper()
	var b seekBuffer
	w, err := mkv.NewWriter(&b, mkv.WriterOptions{Tracks: []mkv.Track{{
		Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: tr.codecPrivate, Width: width, Height: height,
		DefaultDuration: 100 * time.Millisecond,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		if err := w.WriteFrame(1, time.Duration(i-from)*100*time.Millisecond, tr.keys[i], tr.frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.AddTags([]mkv.SimpleTag{
		{Name: tags.NameFragmentNumber, Value: (kvsgen.Generator{}).FragmentNumber(index)},
		{Name: tags.NameProducerTimestamp, Value: kvsgen.FormatTimestamp(p)},
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.b
}

// TestRecorder writes fragments of real H.264 as MKV files and checks them
// with mkvinfo and ffprobe: one file per fragment, then merged runs whose
// timestamps never go back (a gap kept, a producer clock going backwards
// absorbed), a new file when the tracks change, error fragments skipped.
func TestRecorder(t *testing.T) {
	mediatest.Need(t)
	small, big := encode(t, "320x240", 4), encode(t, "352x288", 1)
	base := 1511852108513 * time.Millisecond
	var stream []byte
	starts := []time.Duration{0, time.Second, 3500 * time.Millisecond, 3 * time.Second} // a gap, then backwards
	for i, s := range starts {
		stream = append(stream, unit(t, small, 10*i, 10*i+10, i, base+s, 320, 240)...)
	}
	stream = append(stream, (kvsgen.Generator{}).Error((kvsgen.Generator{}).FragmentNumber(9), kvsgen.ErrorUnit{Code: "FRAGMENT_NOT_FOUND", ID: 4000})...)
	stream = append(stream, unit(t, big, 0, 10, 5, base+5*time.Second, 352, 288)...)

	var frags []*kvs.Fragment
	for f, err := range kvs.NewReader(bytes.NewReader(stream)).All() {
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, f.Clone())
	}
	if len(frags) != 6 {
		t.Fatalf("%d fragments, want 6", len(frags))
	}
	dir := t.TempDir()
	record := func(merge bool) []string {
		var files []string
		var opts []kvs.RecorderOption
		if merge {
			opts = append(opts, kvs.WithMerge())
		}
		r := kvs.NewRecorder(func(first *kvs.Fragment) (io.WriteSeeker, error) {
			name := filepath.Join(dir, fmt.Sprintf("%v-%s.mkv", merge, first.Number))
			files = append(files, name)
			return os.Create(name)
		}, opts...)
		skipped := 0
		for _, f := range frags {
			s, err := r.Add(f)
			if err != nil {
				t.Fatal(err)
			}
			if s {
				skipped++
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if skipped != 1 {
			t.Errorf("merge=%v: %d fragments skipped, want the error one", merge, skipped)
		}
		return files
	}

	for i, name := range record(false) {
		mediatest.StructureOK(t, name)
		if n := mediatest.Frames(t, name, "v:0"); n != 10 {
			t.Errorf("file %d: ffprobe counts %d frames, want 10", i, n)
		}
	}

	merged := record(true)
	if len(merged) != 2 {
		t.Fatalf("%d merged files, want 2 (the tracks change once)", len(merged))
	}
	if n := mediatest.Frames(t, merged[0], "v:0"); n != 40 {
		t.Errorf("merged run: %d frames, want 40", n)
	}
	pts := packetTimes(t, merged[0])
	for i := 1; i < len(pts); i++ {
		if pts[i] < pts[i-1] {
			t.Fatalf("packet %d at %v, before packet %d at %v", i, pts[i], i-1, pts[i-1])
		}
	}
	// Fragment 2 starts 3.5 s after the first: the 1.5 s gap is kept.
	if got := pts[20]; got != 3500*time.Millisecond {
		t.Errorf("fragment 2 starts at %v, want 3.5s", got)
	}
	// Fragment 3 says 3 s, before fragment 2's end: it follows it instead.
	if got := pts[30]; got != 4500*time.Millisecond {
		t.Errorf("fragment 3 starts at %v, want 4.5s", got)
	}
	if dims := mediatest.Size(t, merged[1]); dims != "352,288" {
		t.Errorf("second file: %s", dims)
	}
	// ffmpeg plays the merged run through, first frame to last, silently.
	mediatest.Plays(t, merged[0])
}

func packetTimes(t *testing.T, name string) []time.Duration {
	t.Helper()
	out := mediatest.Run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", name)
	var ts []time.Duration
	for _, line := range strings.Fields(out) {
		f, err := strconv.ParseFloat(strings.TrimSuffix(line, ","), 64)
		if err != nil {
			t.Fatalf("pts %q", line)
		}
		ts = append(ts, time.Duration(f*1000+0.5)*time.Millisecond)
	}
	return ts
}

func TestRecorderNeedsData(t *testing.T) {
	data := (kvsgen.Generator{Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600}).Bytes()
	f, err := kvs.NewReader(bytes.NewReader(data), kvs.WithoutFrameData()).Next()
	if err != nil {
		t.Fatal(err)
	}
	r := kvs.NewRecorder(func(*kvs.Fragment) (io.WriteSeeker, error) { return &seekBuffer{}, nil })
	if _, err := r.Add(f); !errors.Is(err, kvs.ErrNoFrameData) {
		t.Errorf("got %v, want ErrNoFrameData", err)
	}
}

// TestRecorderWritingApp checks that WithWritingApp names the application
// in the file's Info, and that the default is kvsmkv.
func TestRecorderWritingApp(t *testing.T) {
	data := (kvsgen.Generator{Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600}).Bytes()
	f, err := kvs.NewReader(bytes.NewReader(data)).Next()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opts []kvs.RecorderOption
		want string
	}{
		{"default", nil, "kvsmkv"},
		{"WithWritingApp", []kvs.RecorderOption{kvs.WithWritingApp("door-recorder")}, "door-recorder"},
	} {
		out := &seekBuffer{}
		r := kvs.NewRecorder(func(*kvs.Fragment) (io.WriteSeeker, error) { return out, nil }, tt.opts...)
		if _, err := r.Add(f); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var app string
		d := mkv.NewDecoder(bytes.NewReader(out.b))
		for {
			ev, err := d.Next()
			if err != nil {
				break
			}
			if ev.ID == mkv.IDWritingApp {
				app = ev.StringValue()
			}
		}
		if app != tt.want {
			t.Errorf("%s: WritingApp %q, want %q", tt.name, app, tt.want)
		}
	}
}
