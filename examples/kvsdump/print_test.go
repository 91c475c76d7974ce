package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The records as encoding/json writes them, the reference that the
// hand-written appenders of print.go must equal byte for byte.

type fragmentJSON struct {
	Index             int              `json:"index"`
	Offset            int64            `json:"offset"`
	Size              int64            `json:"size"`
	Partial           bool             `json:"partial,omitempty"`
	FragmentNumber    string           `json:"fragmentNumber,omitempty"`
	ServerTimestamp   string           `json:"serverTimestamp,omitempty"`
	ProducerTimestamp string           `json:"producerTimestamp,omitempty"`
	MillisBehindNow   *int64           `json:"millisBehindNow,omitempty"`
	ContinuationToken string           `json:"continuationToken,omitempty"`
	Error             *kvsreport.Error `json:"error,omitempty"`
	Tags              []kvsreport.Tag  `json:"tags,omitempty"`
	Tracks            []trackJSON      `json:"tracks,omitempty"`
}

// trackJSON is kvsreport.Track without its Bytes, which kvsdump does not
// print.
type trackJSON struct {
	Number    uint64 `json:"number"`
	Type      string `json:"type"`
	CodecID   string `json:"codecId,omitempty"`
	Blocks    int    `json:"blocks"`
	Frames    int    `json:"frames"`
	Keyframes int    `json:"keyframes"`
}

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

// toJSON is the record of f: kvsreport's, with kvsdump's fields.
func toJSON(f *kvs.Fragment) fragmentJSON {
	r := kvsreport.FromFragment("", f)
	j := fragmentJSON{
		Index: r.Index, Offset: f.Offset, Size: r.Size, Partial: r.Partial,
		FragmentNumber: r.FragmentNumber, ServerTimestamp: r.ServerTimestamp, ProducerTimestamp: r.ProducerTimestamp,
		MillisBehindNow: r.MillisBehindNow, ContinuationToken: r.ContinuationToken, Error: r.Error, Tags: r.Tags,
	}
	for _, t := range f.Tracks {
		j.Tracks = append(j.Tracks, trackJSON{t.Number, t.Type.String(), t.CodecID, t.Blocks, t.Frames, t.Keyframes})
	}
	return j
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

// oddStrings need escaping, or look as if they did.
var oddStrings = []string{
	"", "plain", `"quoted"`, `back\slash`, "tab\tnew\nline\rcr", "\b\f\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029end", "bad \xff\xfe utf-8 \xc3", "cut \xe2\x82",
	"émoji 😀 and ünïcödé", "\u00a0\ufeff\ufffd",
}

// oddFragments are fragments with every optional field set or not, and
// odd strings wherever the record has strings.
func oddFragments() []*kvs.Fragment {
	var out []*kvs.Fragment
	for i, s := range oddStrings {
		f := &kvs.Fragment{
			Index: i, Offset: int64(i) * 1000, Size: 999, Partial: i%2 == 0,
			Number: tags.FragmentNumber(s), ContinuationToken: s,
			MillisBehindNow: int64(i - 1), HasMillisBehindNow: i%3 == 0,
			Tags: []kvs.Tag{
				{SimpleTag: mkv.SimpleTag{Name: s, Value: s}},
				{SimpleTag: mkv.SimpleTag{Name: "BIN", Binary: []byte(s)}},
				{SimpleTag: mkv.SimpleTag{Name: "EMPTY_BIN", Binary: []byte{}}},
				{SimpleTag: mkv.SimpleTag{Name: "NESTED", Value: s, Tags: []mkv.SimpleTag{
					{Name: s, Value: "child", Tags: []mkv.SimpleTag{{Name: "grandchild", Binary: []byte{0, 1, 2, 0xFF}}}},
				}}},
			},
			Tracks: []kvs.Track{
				{Track: mkv.Track{Number: 1, Type: mkv.VideoTrack, CodecID: s}, Blocks: 3, Frames: 4, Keyframes: 1},
				{Track: mkv.Track{Number: 1 << 63, Type: 0x77}},
			},
		}
		if i%4 == 1 {
			f.ServerTimestamp = tags.FromTime(time.Date(2024, 2, 29, 23, 59, 59, 999_000_000, time.UTC))
			f.ProducerTimestamp = tags.FromTime(time.Date(1970, 1, 1, 0, 0, 0, 1_000_000, time.UTC))
		}
		switch i % 4 {
		case 1:
			f.Err = &tags.FragmentError{Code: s, ID: 4000, Message: s}
		case 2:
			f.Err = &tags.FragmentError{}
		case 3:
			f.Err = &tags.FragmentError{ID: -1}
		}
		out = append(out, f)
	}
	return append(out, &kvs.Fragment{}, &kvs.Fragment{Tags: []kvs.Tag{}, Tracks: []kvs.Track{}})
}

// TestJSONLikeEncodingJSON checks that the hand-written records equal
// encoding/json's, byte for byte: for every fragment and frame of the
// sample, and for fragments with odd strings and every field set or empty.
func TestJSONLikeEncodingJSON(t *testing.T) {
	frags := oddFragments()
	var frames [][2]any
	for f, err := range kvs.NewReader(bytes.NewReader(sample), kvs.WithOwnedFrames()).All() {
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, f)
		for i := range f.Frames {
			frames = append(frames, [2]any{f, &f.Frames[i]})
		}
	}
	if len(frames) == 0 {
		t.Fatal("the sample has no frames")
	}
	for _, f := range frags {
		want := encodeJSON(t, toJSON(f))
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

// TestAppendString checks the string escaping alone against encoding/json
// for every odd string and every single byte.
func TestAppendString(t *testing.T) {
	cases := append([]string(nil), oddStrings...)
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z")
	}
	for _, s := range cases {
		want := encodeJSON(t, s)
		want = want[:len(want)-1] // the Encoder's newline
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
