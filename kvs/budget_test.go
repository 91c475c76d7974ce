package kvs_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// nth returns the offset of the n-th element (from 0) with the given ID.
func nth(t *testing.T, data []byte, id mkv.ID, n int) int64 {
	t.Helper()
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			break
		}
		if ev.ID == id && ev.Kind != mkv.End {
			if n == 0 {
				return ev.Offset
			}
			n--
		}
	}
	t.Fatalf("no element %v number %d", id, n)
	return 0
}

// readMode reads data one of three ways and returns the fragments before
// the end and the error that ended reading (io.EOF at a clean end).
func readMode(mode string, data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error) {
	var frags []*kvs.Fragment
	switch mode {
	case "Next":
		r := kvs.NewReader(bytes.NewReader(data), opts...)
		for {
			f, err := r.Next()
			if err != nil {
				return frags, err
			}
			frags = append(frags, f.Clone())
		}
	case "NextEvent":
		r := kvs.NewReader(bytes.NewReader(data), opts...)
		for {
			ev, err := r.NextEvent()
			if err != nil {
				return frags, err
			}
			if ev.Kind == kvs.FragmentEvent {
				frags = append(frags, ev.Fragment)
			}
		}
	default:
		p := kvs.NewPushReader(func(ev *kvs.Event) error {
			if ev.Kind == kvs.FragmentEvent {
				frags = append(frags, ev.Fragment)
			}
			return nil
		}, opts...)
		if _, err := p.Write(data); err != nil {
			return frags, err
		}
		if err := p.Close(); err != nil {
			return frags, err
		}
		return frags, io.EOF
	}
}

// TestBudgets goes past each budget in each mode: the fragment read so far
// comes out Partial, then a *mkv.SyntaxError at the element past the
// budget, wrapping the budget's error; budgets that concern only whole
// fragments leave streaming alone.
func TestBudgets(t *testing.T) {
	el, u, str := mkvtest.El, mkvtest.Uint, mkvtest.Str
	seg := func(children ...[]byte) []byte {
		return append(mkvtest.EBMLHeader(), mkvtest.Unknown(mkv.IDSegment, children...)...)
	}
	repeat := func(n int, part func(i int) []byte) []byte {
		var out []byte
		for i := range n {
			out = append(out, part(i)...)
		}
		return out
	}
	cluster := func(blocks []byte) []byte {
		return mkvtest.Unknown(mkv.IDCluster, el(mkv.IDTimecode, u(0)), blocks)
	}
	tracks := seg(el(mkv.IDTracks, repeat(6, func(i int) []byte { return el(mkv.IDTrackEntry, el(mkv.IDTrackNumber, u(uint64(i+1)))) })))
	blockTracks := seg(cluster(repeat(6, func(i int) []byte { return mkvtest.SimpleBlock(byte(i+1), 0, 0x80, []byte{1, 2}) })))
	groupTracks := seg(cluster(repeat(6, func(i int) []byte {
		return el(mkv.IDBlockGroup, el(mkv.IDBlock, []byte{0x81 + byte(i), 0, 0, 0}, []byte{1}))
	})))
	simpleTags := seg(el(mkv.IDTags, el(mkv.IDTag, repeat(20, func(int) []byte {
		return el(mkv.IDSimpleTag, el(mkv.IDTagName, str("N")), el(mkv.IDTagString, str("v")))
	}))))
	nested := seg(el(mkv.IDTags, el(mkv.IDTag, el(mkv.IDSimpleTag, repeat(20, func(int) []byte { return el(mkv.IDSimpleTag) })))))
	frames := seg(cluster(repeat(6, func(int) []byte { return mkvtest.SimpleBlock(1, 0, 0x80, []byte{1, 2, 3}) })))
	bigTag := seg(el(mkv.IDTags, el(mkv.IDTag, repeat(3, func(int) []byte {
		return el(mkv.IDSimpleTag, el(mkv.IDTagName, str("N")), el(mkv.IDTagBinary, make([]byte, 30<<10)))
	}))))
	bigFrames := seg(cluster(repeat(3, func(int) []byte { return mkvtest.SimpleBlock(1, 0, 0x80, make([]byte, 30<<10)) })))
	bigCodec := seg(el(mkv.IDTracks, repeat(3, func(i int) []byte {
		return el(mkv.IDTrackEntry, el(mkv.IDTrackNumber, u(uint64(i+1))), el(mkv.IDCodecPrivate, make([]byte, 30<<10)))
	})))

	tests := []struct {
		name string
		in   []byte
		opts []kvs.Option
		// want is the cause in whole mode; streaming tells whether
		// streaming fails the same way (or ends cleanly).
		want      error
		streaming bool
		at        int64 // offset of the element past the budget
		id        mkv.ID
		kept      int // tracks, tags or frames the partial fragment keeps, or -1
	}{
		{"TrackEntries", tracks, []kvs.Option{kvs.WithMaxTracks(4)}, kvs.ErrTooManyTracks, true, nth(t, tracks, mkv.IDTrackEntry, 4), mkv.IDTrackEntry, 4},
		{"tracks named by SimpleBlocks", blockTracks, []kvs.Option{kvs.WithMaxTracks(4)}, kvs.ErrTooManyTracks, true, nth(t, blockTracks, mkv.IDSimpleBlock, 4), mkv.IDSimpleBlock, 4},
		{"tracks named by BlockGroups", groupTracks, []kvs.Option{kvs.WithMaxTracks(4)}, kvs.ErrTooManyTracks, true, nth(t, groupTracks, mkv.IDBlock, 4), mkv.IDBlock, 4},
		{"SimpleTags", simpleTags, []kvs.Option{kvs.WithMaxTags(16)}, kvs.ErrTooManyTags, true, nth(t, simpleTags, mkv.IDSimpleTag, 16), mkv.IDSimpleTag, 16},
		{"nested SimpleTags", nested, []kvs.Option{kvs.WithMaxTags(16)}, kvs.ErrTooManyTags, true, nth(t, nested, mkv.IDSimpleTag, 16), mkv.IDSimpleTag, 0},
		{"frames", frames, []kvs.Option{kvs.WithMaxFrames(4)}, kvs.ErrTooManyFrames, false, nth(t, frames, mkv.IDSimpleBlock, 4), mkv.IDSimpleBlock, 4},
		{"tag bytes", bigTag, []kvs.Option{kvs.WithMaxFragmentBytes(64 << 10)}, kvs.ErrFragmentTooLarge, true, nth(t, bigTag, mkv.IDTagBinary, 2), mkv.IDTagBinary, -1},
		{"frame bytes", bigFrames, []kvs.Option{kvs.WithMaxFragmentBytes(64 << 10)}, kvs.ErrFragmentTooLarge, false, nth(t, bigFrames, mkv.IDSimpleBlock, 2), mkv.IDSimpleBlock, -1},
		{"CodecPrivate bytes", bigCodec, []kvs.Option{kvs.WithMaxFragmentBytes(64 << 10)}, kvs.ErrFragmentTooLarge, true, nth(t, bigCodec, mkv.IDCodecPrivate, 2), mkv.IDCodecPrivate, -1},
		{"frame bytes without frame data", bigFrames, []kvs.Option{kvs.WithMaxFragmentBytes(64 << 10), kvs.WithoutFrameData()}, nil, false, 0, 0, -1},
		{"within the budgets", frames, []kvs.Option{kvs.WithMaxFrames(6), kvs.WithMaxTracks(1)}, nil, false, 0, 0, -1},
	}
	for _, tt := range tests {
		for _, mode := range []string{"Next", "NextEvent", "PushReader"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				frags, err := readMode(mode, tt.in, tt.opts...)
				want := tt.want
				if mode != "Next" && !tt.streaming {
					want = nil
				}
				if want == nil {
					if err != io.EOF || len(frags) != 1 || frags[0].Partial {
						t.Fatalf("got %d fragments and %v, want one whole fragment and io.EOF", len(frags), err)
					}
					return
				}
				var se *mkv.SyntaxError
				if !errors.Is(err, want) || !errors.Is(err, kvs.ErrBudget) || !errors.As(err, &se) {
					t.Fatalf("got %v, want a *mkv.SyntaxError wrapping %v", err, want)
				}
				if se.Offset != tt.at || se.ID != tt.id {
					t.Errorf("error at %d in %v, want %d in %v", se.Offset, se.ID, tt.at, tt.id)
				}
				if len(frags) != 1 || !frags[0].Partial || frags[0].Offset+frags[0].Size != tt.at {
					t.Fatalf("got %d fragments before the error, want one Partial ending at %d", len(frags), tt.at)
				}
				if f := frags[0]; tt.kept >= 0 {
					got := map[error]int{kvs.ErrTooManyTracks: len(f.Tracks), kvs.ErrTooManyTags: len(f.Tags), kvs.ErrTooManyFrames: len(f.Frames)}[want]
					if got != tt.kept {
						t.Errorf("partial fragment keeps %d, want %d", got, tt.kept)
					}
				}
			})
		}
	}
}

// TestTrackLookup reads blocks of many tracks, past the few that a linear
// search serves, in an order that revisits them: each block is counted in
// its own track, TrackEntries first, then tracks only blocks name.
func TestTrackLookup(t *testing.T) {
	el, u := mkvtest.El, mkvtest.Uint
	var entries, blocks []byte
	for n := range 12 {
		entries = append(entries, el(mkv.IDTrackEntry, el(mkv.IDTrackNumber, u(uint64(n+1))), el(mkv.IDCodecID, []byte("V_X")))...)
	}
	want := map[uint64]int{}
	for i := range 200 {
		n := uint64(1 + (i*7)%20) // tracks 1-12 declared, 13-20 named by blocks only
		want[n]++
		blocks = append(blocks, mkvtest.SimpleBlock(byte(n), 0, 0x80, []byte{byte(i)})...)
	}
	in := append(mkvtest.EBMLHeader(), mkvtest.Unknown(mkv.IDSegment, el(mkv.IDTracks, entries),
		mkvtest.Unknown(mkv.IDCluster, el(mkv.IDTimecode, u(0)), blocks))...)
	for _, mode := range []string{"Next", "NextEvent", "PushReader"} {
		frags, err := readMode(mode, in)
		if err != io.EOF || len(frags) != 1 {
			t.Fatalf("%s: got %d fragments and %v", mode, len(frags), err)
		}
		got := map[uint64]int{}
		for i, tr := range frags[0].Tracks {
			if got[tr.Number] != 0 {
				t.Errorf("%s: track %d twice", mode, tr.Number)
			}
			got[tr.Number] = tr.Blocks
			if wantCodec := i < 12; (tr.CodecID == "V_X") != wantCodec {
				t.Errorf("%s: track %d (%d-th) has CodecID %q", mode, tr.Number, i, tr.CodecID)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: blocks per track mismatch (-want +got):\n%s", mode, diff)
		}
	}
}

// TestFramesRecycled reads whole fragments two ways: lent frame bytes,
// valid until the next call, and Clone of the lent ones, kept to the end
// (as readWhole keeps them). Both give the same frames, and lending
// allocates per fragment no more than a fraction of the frames' bytes: a
// stream twice as long costs little more.
func TestFramesRecycled(t *testing.T) {
	gen := func(fragments int) []byte {
		return with(func(c *kvsgen.Generator) {
			c.Fragments, c.FragmentDuration, c.VideoBitrate, c.GetMedia = fragments, time.Second, 2_000_000, true
		}).Bytes()
	}
	half, data := gen(8), gen(16)
	owned, err := readWhole(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	frameBytes := 0
	for _, f := range owned[8:] {
		for _, fr := range f.Frames {
			frameBytes += len(fr.Data)
		}
	}
	read := func(data []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := kvs.NewReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			f, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Frames) != len(owned[i].Frames) {
				t.Fatalf("fragment %d: %d frames, want %d", i, len(f.Frames), len(owned[i].Frames))
			}
			for j, fr := range f.Frames {
				if !bytes.Equal(fr.Data, owned[i].Frames[j].Data) {
					t.Fatalf("fragment %d, frame %d: recycled bytes differ", i, j)
				}
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	if a, b := read(half), read(data); b-min(a, b) > uint64(frameBytes)/8 {
		t.Errorf("8 more fragments with %d bytes of frames cost %d bytes more (%d, then %d)", frameBytes, b-a, a, b)
	}

	var clones []*kvs.Fragment
	for f, err := range kvs.NewReader(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		clones = append(clones, f.Clone())
	}
	for i, c := range clones {
		for j, fr := range c.Frames {
			if !bytes.Equal(fr.Data, owned[i].Frames[j].Data) {
				t.Fatalf("clone of fragment %d, frame %d: bytes differ", i, j)
			}
		}
		o := *owned[i]
		o.Frames, c.Frames = nil, nil
		if diff := cmp.Diff(&o, c, cmpTS); diff != "" {
			t.Errorf("clone of fragment %d mismatch (-owned +clone):\n%s", i, diff)
		}
	}
}
