package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/tags"
)

// frameJSON is a frame line as encoding/json writes it, the reference the
// hand-written appendFrame must equal byte for byte.
type frameJSON struct {
	Fragment  int    `json:"fragment"`
	Track     uint64 `json:"track"`
	Keyframe  bool   `json:"keyframe"`
	Timestamp int64  `json:"timestampNs"`
	Duration  int64  `json:"durationNs,omitempty"`
	WallClock string `json:"wallClock"`
	Size      int    `json:"size"`
	Offset    int64  `json:"offset"`
}

func frameToJSON(f *kvs.Fragment, fr *kvs.Frame) frameJSON {
	return frameJSON{
		Fragment: f.Index, Track: fr.Track, Keyframe: fr.Keyframe,
		Timestamp: int64(fr.Timestamp), Duration: int64(fr.Duration),
		WallClock: f.WallClock(fr).Format(kvsreport.TimeLayout), Size: fr.Size, Offset: fr.Offset,
	}
}

// encodeJSON is a line as json.Encoder writes it.
func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestJSONLikeEncodingJSON checks that the lines equal encoding/json's,
// byte for byte: a fragment's line is json.Marshal of its kvsreport.Record
// (kvsreport's tests check AppendJSON on odd records), a frame's line that
// of frameJSON, for every fragment and frame of the sample and odd frames.
func TestJSONLikeEncodingJSON(t *testing.T) {
	var frags []*kvs.Fragment
	var frames [][2]any
	for f, err := range kvs.NewReader(bytes.NewReader(sample)).All() {
		if err != nil {
			t.Fatal(err)
		}
		f = f.Clone()
		frags = append(frags, f)
		for i := range f.Frames {
			frames = append(frames, [2]any{f, &f.Frames[i]})
		}
	}
	if len(frames) == 0 {
		t.Fatal("the sample has no frames")
	}
	for _, f := range frags {
		want := encodeJSON(t, kvsreport.RecordOf(f))
		if got := appendFragment(nil, f); !bytes.Equal(got, want) {
			t.Errorf("fragment %d:\n got %s\nwant %s", f.Index, got, want)
		}
	}
	// Frames with a duration and without, and a producer timestamp or not.
	odd := &kvs.Fragment{Index: 7, ProducerTimestamp: tags.FromTime(time.Unix(1700000000, 123_456_789))}
	frames = append(frames,
		[2]any{odd, &kvs.Frame{Track: 2, Timestamp: -5 * time.Millisecond, Size: 1, Offset: 1 << 40}},
		[2]any{odd, &kvs.Frame{Track: 1, Keyframe: true, Timestamp: time.Hour, Duration: 33 * time.Millisecond}},
		[2]any{&kvs.Fragment{}, &kvs.Frame{Timestamp: 1}})
	for _, p := range frames {
		f, fr := p[0].(*kvs.Fragment), p[1].(*kvs.Frame)
		want := encodeJSON(t, frameToJSON(f, fr))
		if got := appendFrame(nil, f, fr); !bytes.Equal(got, want) {
			t.Errorf("frame of fragment %d:\n got %s\nwant %s", f.Index, got, want)
		}
	}
}
