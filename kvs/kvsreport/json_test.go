package kvsreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// checkAppendJSON checks that AppendJSON writes what json.Marshal writes
// for the same Record, byte for byte.
func checkAppendJSON(t *testing.T, r *Record) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON of record %d:\n got %s\nwant %s", r.Index, got, want)
	}
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
			f.Frames = []kvs.Frame{{Track: 1, Size: 10, Timestamp: time.Second}, {Track: 1, Size: 5, Timestamp: 2 * time.Second}}
		}
		switch i % 4 {
		case 1:
			f.Err = &tags.FragmentError{Code: s, ID: 4000, Message: s}
		case 2:
			f.Err = &tags.FragmentError{}
		case 3:
			f.Err = &tags.FragmentError{ID: -1}
		}
		switch i % 5 {
		case 1:
			f.Damage = []*kvs.Damage{{Offset: int64(i), ID: mkv.IDCluster, Err: mkv.ErrChecksum, Stored: 0xFFFFFFFF, Computed: 1}}
		case 2:
			f.Damage = []*kvs.Damage{
				{Offset: 1 << 40, Err: errors.New(s), Skipped: int64(i)},
				{Offset: 7, ID: 0x1F43B675 + 1, Err: &mkv.SyntaxError{Offset: 7, Err: mkv.ErrInvalidSize}},
			}
		case 3:
			f.Damage = []*kvs.Damage{{ID: mkv.IDSegment, Err: mkv.ErrInvalidID}}
		}
		out = append(out, f)
	}
	return append(out, &kvs.Fragment{}, &kvs.Fragment{Tags: []kvs.Tag{}, Tracks: []kvs.Track{}})
}

// TestAppendJSON checks AppendJSON against json.Marshal for the records of
// fragments with odd strings and every field set or empty, with and
// without what FromFragment adds, and for records as JSON gives them back.
func TestAppendJSON(t *testing.T) {
	for i, f := range oddFragments() {
		r := RecordOf(f)
		checkAppendJSON(t, &r)
		r = FromFragment(oddStrings[i%len(oddStrings)], f)
		checkAppendJSON(t, &r)
	}
	for _, s := range []string{
		`{}`,
		`{"index":-1,"offset":-2,"size":-3,"durationMs":-4,"millisBehindNow":-5,"error":{},"damaged":[{},{"offset":-1,"element":"","cause":"","stored":"","computed":"","skipped":-2}],"tags":[{"name":""},{"name":"v","value":"","binary":"AA==","tags":[]}],"tracks":[{}]}`,
	} {
		var r Record
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatal(err)
		}
		checkAppendJSON(t, &r)
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
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
