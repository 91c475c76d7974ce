package mkv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

func f32(v float32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], math.Float32bits(v))
	return b[:]
}

func f64(v float64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	return b[:]
}

// TestRules checks each EBML and Matroska rule on hand-made bytes, in pull
// mode and pushed one byte at a time.
func TestRules(t *testing.T) {
	hdr := ebmlHeader() // 0..20
	seg := func(children ...[]byte) []byte { return append(ebmlHeader(), unknown(mkv.IDSegment, children...)...) }
	segEvents := []string{"start EBML", "value EBMLVersion", "value DocType", "end EBML", "start Segment"}
	tests := []struct {
		name    string
		in      []byte
		opts    []mkv.Option
		want    []string // event lines (trace), or their prefixes
		wantErr error    // cause, checked with errors.Is
		errAt   int64    // offset of the SyntaxError
	}{
		{
			name: "ebml header values",
			in:   el(mkv.IDEBML, el(mkv.IDEBMLVersion, u(1)), el(mkv.IDDocType, str("webm\x00\x00")), el(mkv.IDDocTypeReadVersion, u(2))),
			want: []string{
				"start EBML @0+5 size=17 depth=0",
				"value EBMLVersion @5+3 size=1 depth=1 =1",
				"value DocType @9+3 size=6 depth=1 =\"webm\"",
				"value DocTypeReadVersion @18+3 size=1 depth=1 =2",
				"end EBML @0+5 size=17 depth=0",
			},
		},
		{
			name: "unknown-size segment ends at a new EBML header",
			in:   append(seg(el(mkv.IDInfo)), hdr...),
			want: []string{
				"start EBML", "value EBMLVersion", "value DocType", "end EBML",
				"start Segment @20+5 size=-1 depth=0",
				"start Info @25+5 size=0 depth=1", "end Info @25+5 size=0 depth=1",
				"end Segment @20+5 size=5 depth=0",
				"start EBML @30+5", "value EBMLVersion", "value DocType", "end EBML",
			},
		},
		{
			name: "unknown-size clusters end at a sibling, a parent-level element and the end of input",
			in: seg(
				unknown(mkv.IDCluster, el(mkv.IDTimecode, u(1))),
				unknown(mkv.IDCluster, el(mkv.IDTimecode, u(2))),
				el(mkv.IDTags),
				unknown(mkv.IDCluster, el(mkv.IDTimecode, u(3))),
			),
			want: []string{
				"start EBML", "value EBMLVersion", "value DocType", "end EBML", "start Segment",
				"start Cluster @25+5 size=-1 depth=1", "value Timecode @30+2 size=1 depth=2 =1", "end Cluster @25+5 size=3 depth=1",
				"start Cluster @33+5 size=-1", "value Timecode", "end Cluster @33+5 size=3",
				"start Tags @41+5 size=0", "end Tags",
				"start Cluster @46+5", "value Timecode", "end Cluster @46+5 size=3",
				"end Segment @20+5 size=29",
			},
		},
		{
			name: "unknown-size cluster ends with its known-size segment",
			in: append(ebmlHeader(), el(mkv.IDSegment,
				unknown(mkv.IDCluster, el(mkv.IDTimecode, u(1))))...),
			want: []string{
				"start EBML", "value EBMLVersion", "value DocType", "end EBML",
				"start Segment @20+5 size=8", "start Cluster @25+5 size=-1", "value Timecode",
				"end Cluster @25+5 size=3", "end Segment @20+5 size=8",
			},
		},
		{
			name: "crc-32 and void in any master, unknown element skipped",
			in: seg(el(mkv.IDTags, el(mkv.IDCRC32, []byte{1, 2, 3, 4}), el(mkv.IDVoid, make([]byte, 300)),
				el(mkv.IDTag, el(mkv.IDVoid)), el(0x4ABC, str("?")))),
			want: []string{
				"start EBML", "value EBMLVersion", "value DocType", "end EBML", "start Segment",
				"start Tags @25+6 size=318", "value CRC-32 @31+2 size=4 depth=2 =\"\\x01\\x02\\x03\\x04\"",
				"skip Void @37+3 size=300 depth=2",
				"start Tag @340+3 size=2", "skip Void @343+2 size=0 depth=3", "end Tag",
				"skip 0x4ABC @345+3 size=1 depth=2", "end Tags", "end Segment",
			},
		},
		{
			name: "value types",
			in: el(mkv.IDInfo, el(mkv.IDDuration, f32(1.5)), el(mkv.IDDuration, f64(-2.25)), el(mkv.IDDuration),
				el(mkv.IDReferenceBlock, []byte{0xFF, 0x38}), el(mkv.IDDateUTC, u(1 << 40)[0:0], make([]byte, 7), []byte{10}),
				el(mkv.IDTitle, str("t\x00")), el(mkv.IDSegmentUID, []byte{0, 1, 0})),
			want: []string{
				"start Info", "value Duration @5+3 size=4 depth=1 =1.5", "value Duration @12+3 size=8 depth=1 =-2.25",
				"value Duration @23+3 size=0 depth=1 =0", "value ReferenceBlock @26+2 size=2 depth=1 =-200",
				"value DateUTC @30+3 size=8 depth=1 =10", "value Title @41+3 size=2 depth=1 =\"t\"",
				"value SegmentUID @46+3 size=3 depth=1 =\"\\x00\\x01\\x00\"", "end Info",
			},
		},
		{
			name: "block flags",
			in:   el(mkv.IDCluster, simpleBlock(1, -1, 0x89, str("abc")), el(mkv.IDBlockGroup, el(mkv.IDBlock, []byte{0x82, 0, 7, 0x08}, str("de")))),
			want: []string{
				"start Cluster",
				"block SimpleBlock @5+2 size=7 depth=1 track=1 tc=-1 key=true inv=true disc=true lacing=0 [3 352441c2]",
				"start BlockGroup", "block Block @16+2 size=6 depth=2 track=2 tc=7 key=false inv=true disc=false lacing=0 [2 " + crc("de", 1) + "]",
				"end BlockGroup", "end Cluster",
			},
		},
		{
			name: "xiph lacing",
			in: el(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x82, 2, 255, 1, 2},
				bytes.Repeat([]byte{'a'}, 256), str("bb"), str("ccc")),
			want: []string{"block SimpleBlock @0+3 size=269 depth=0 track=1 tc=0 key=true inv=false disc=false lacing=1 [256 " + crc("a", 256) + "] [2 " + crc("b", 2) + "] [3 " + crc("c", 3) + "]"},
		},
		{
			name: "ebml lacing",
			// sizes 3, then 3-1=2 (signed VINT -1: 0xBE), then the rest, 4.
			in:   el(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x06, 2, 0x83, 0xBE}, str("aaabbcccc")),
			want: []string{"block SimpleBlock @0+2 size=16 depth=0 track=1 tc=0 key=false inv=false disc=false lacing=3 [3 " + crc("a", 3) + "] [2 " + crc("b", 2) + "] [4 " + crc("c", 4) + "]"},
		},
		{
			name: "fixed lacing",
			in:   el(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x04, 1}, str("aabb")),
			want: []string{"block SimpleBlock @0+2 size=9 depth=0 track=1 tc=0 key=false inv=false disc=false lacing=2 [2 " + crc("a", 2) + "] [2 " + crc("b", 2) + "]"},
		},
		{
			name: "nested simple tags",
			in: el(mkv.IDSimpleTag, el(mkv.IDTagName, str("A")), el(mkv.IDSimpleTag, el(mkv.IDTagName, str("B")),
				el(mkv.IDTagBinary, []byte{0}))),
			want: []string{"start SimpleTag", "value TagName", "start SimpleTag @7+3 size=8 depth=1", "value TagName", "value TagBinary", "end SimpleTag", "end SimpleTag"},
		},
		{name: "unknown element of unknown size", in: seg(unknown(0x4ABC)), want: segEvents, wantErr: mkv.ErrUnknownSize, errAt: 25},
		{name: "unknown size on a value", in: unknown(mkv.IDTimecode), wantErr: mkv.ErrUnknownSize},
		{name: "unknown size on tracks", in: seg(unknown(mkv.IDTracks)), want: segEvents, wantErr: mkv.ErrUnknownSize, errAt: 25},
		{name: "id longer than 4 bytes", in: []byte{0x08, 1, 2, 3, 4, 0x80}, wantErr: mkv.ErrInvalidID},
		{name: "id zero byte", in: append(ebmlHeader(), 0), want: segEvents[:4], wantErr: mkv.ErrInvalidID, errAt: 20},
		{name: "reserved id", in: []byte{0xFF, 0x80}, wantErr: mkv.ErrInvalidID},
		{name: "size zero byte", in: []byte{0xEC, 0}, wantErr: mkv.ErrInvalidSize},
		{
			name:    "size longer than EBMLMaxSizeLength",
			in:      append(el(mkv.IDEBML, el(mkv.IDEBMLMaxSizeLength, u(1))), 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
			want:    []string{"start EBML", "value EBMLMaxSizeLength", "end EBML"},
			wantErr: mkv.ErrInvalidSize, errAt: 9,
		},
		{
			name:    "child overflows parent",
			in:      append(append(idBytes(mkv.IDInfo), 0x83), el(mkv.IDTitle, str("long title"))...),
			want:    []string{"start Info @0+5 size=3"},
			wantErr: mkv.ErrOverflow, errAt: 5,
		},
		{name: "uint longer than 8 bytes", in: el(mkv.IDTimecode, make([]byte, 9)), wantErr: mkv.ErrInvalidValue},
		{name: "float of 5 bytes", in: el(mkv.IDDuration, make([]byte, 5)), wantErr: mkv.ErrInvalidValue},
		{name: "lace sizes exceed the block", in: el(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x02, 254}, bytes.Repeat([]byte{255}, 20)), wantErr: mkv.ErrInvalidBlock},
		{name: "fixed lacing uneven", in: el(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x04, 1}, str("abc")), wantErr: mkv.ErrInvalidBlock},
		{name: "track number of 9 bytes", in: el(mkv.IDSimpleBlock, []byte{0, 0, 0, 0, 0}), wantErr: mkv.ErrInvalidBlock},
		{name: "short block", in: el(mkv.IDSimpleBlock, []byte{0x81, 0}), wantErr: mkv.ErrInvalidBlock},
		{
			name:    "element larger than the maximum",
			in:      append(append(idBytes(mkv.IDSimpleBlock), 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE), 0x81),
			wantErr: mkv.ErrTooLarge,
		},
		{
			name:    "maximum element size option",
			in:      el(mkv.IDCluster, simpleBlock(1, 0, 0, make([]byte, 2000))),
			opts:    []mkv.Option{mkv.WithMaxElementSize(1024)},
			want:    []string{"start Cluster"},
			wantErr: mkv.ErrTooLarge, errAt: 6,
		},
		{
			name:    "nesting deeper than the maximum",
			in:      el(mkv.IDSimpleTag, el(mkv.IDSimpleTag, el(mkv.IDSimpleTag, el(mkv.IDSimpleTag)))),
			opts:    []mkv.Option{mkv.WithMaxDepth(3)},
			want:    []string{"start SimpleTag", "start SimpleTag", "start SimpleTag"},
			wantErr: mkv.ErrTooDeep, errAt: 9,
		},
		{name: "cut inside a header", in: []byte{0x1A, 0x45}, wantErr: io.ErrUnexpectedEOF},
		{name: "cut inside a known-size master", in: append(idBytes(mkv.IDInfo), 0x85), want: []string{"start Info"}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"pull", "push"} {
				var got []string
				var err error
				if mode == "pull" {
					got, err = pullTrace(bytes.NewReader(tt.in), tt.opts...)
				} else {
					got, err = pushTrace(tt.in, 1, tt.opts...)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d events, want %d:\n%s", mode, len(got), len(tt.want), strings.Join(got, "\n"))
				}
				for i := range got {
					if !strings.HasPrefix(got[i], tt.want[i]) {
						t.Errorf("%s: event %d = %q, want it to start with %q", mode, i, got[i], tt.want[i])
					}
				}
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("%s: %v", mode, err)
					}
					continue
				}
				var se *mkv.SyntaxError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &se) || se.Offset != tt.errAt {
					t.Fatalf("%s: got error %v, want %v at offset %d", mode, err, tt.wantErr, tt.errAt)
				}
				if !strings.HasPrefix(err.Error(), "mkv: offset ") {
					t.Errorf("%s: error %q does not say where", mode, err)
				}
			}
		})
	}
}

// crc is the checksum trace prints for a frame of n copies of s.
func crc(s string, n int) string {
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(strings.Repeat(s, n))))
}

// TestHugeDeclaredSize checks that a declared size of 2^56-2 bytes is
// refused before anything of that size is allocated, in both doors.
func TestHugeDeclaredSize(t *testing.T) {
	in := append(append(idBytes(mkv.IDSimpleBlock), 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE), 0x81, 0, 0, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, errPull := pullTrace(bytes.NewReader(in))
	_, errPush := pushTrace(in, 1)
	runtime.ReadMemStats(&after)
	if !errors.Is(errPull, mkv.ErrTooLarge) || !errors.Is(errPush, mkv.ErrTooLarge) {
		t.Fatalf("got %v and %v, want ErrTooLarge", errPull, errPush)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("allocated %d bytes for a refused element", n)
	}
}

// TestDeclaredSizeNotAllocated checks that an element declared large but
// within the maximum element size costs memory only for the bytes that
// arrive: a 60 MiB SimpleBlock of which 16 bytes are present, in both doors.
func TestDeclaredSizeNotAllocated(t *testing.T) {
	in := append(append(idBytes(mkv.IDSimpleBlock), 0x01, 0, 0, 0, 0x03, 0xC0, 0x00, 0x00), bytes.Repeat([]byte{0x81}, 16)...)
	tests := []struct {
		name string
		run  func() error
	}{
		{"pull", func() error { _, err := pullTrace(bytes.NewReader(in)); return err }},
		{"pull, 1-byte reads", func() error { _, err := pullTrace(iotest.OneByteReader(bytes.NewReader(in))); return err }},
		{"push", func() error { _, err := pushTrace(in, 4); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tt.run()
			runtime.ReadMemStats(&after)
			var se *mkv.SyntaxError
			if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &se) || se.ID != mkv.IDSimpleBlock {
				t.Fatalf("got %v, want a SimpleBlock cut off", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("allocated %d bytes for 16 bytes of a declared 60 MiB element", n)
			}
		})
	}
}

// TestCRC verifies the CRC-32 of a master when asked, reporting the result
// on the master's End event, and ignores it otherwise.
func TestCRC(t *testing.T) {
	body := el(mkv.IDTimecode, u(7))
	sum := func(v uint32) []byte {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], v)
		return b[:]
	}
	want := crc32.ChecksumIEEE(body)
	tests := []struct {
		name   string
		stored uint32
		opts   []mkv.Option
		end    mkv.Checksum
	}{
		{"good", want, []mkv.Option{mkv.WithCRC(true)}, mkv.Checksum{Checked: true, Stored: want, Computed: want}},
		{"bad", want + 1, []mkv.Option{mkv.WithCRC(true)}, mkv.Checksum{Checked: true, Stored: want + 1, Computed: want}},
		{"bad, not verified", want + 1, nil, mkv.Checksum{}},
	}
	for _, tt := range tests {
		in := append(el(mkv.IDCluster, el(mkv.IDCRC32, sum(tt.stored)), body), el(mkv.IDCluster, body)...)
		for _, mode := range []string{"pull", "push"} {
			var ends []mkv.Checksum
			fn := func(ev *mkv.Event) error {
				if ev.Kind == mkv.End {
					ends = append(ends, ev.Checksum)
				} else if ev.Checksum != (mkv.Checksum{}) {
					t.Errorf("%s, %s: %v event with a checksum %+v", tt.name, mode, ev.Kind, ev.Checksum)
				}
				return nil
			}
			var err error
			if mode == "pull" {
				err = mkvtest.Pull(bytes.NewReader(in), fn, tt.opts...)
			} else {
				err = mkvtest.Push(in, []int{2}, fn, tt.opts...)
			}
			if err != nil {
				t.Errorf("%s, %s: %v", tt.name, mode, err)
			}
			// The second Cluster has no CRC-32: nothing to check.
			if diff := cmp.Diff([]mkv.Checksum{tt.end, {}}, ends); diff != "" {
				t.Errorf("%s, %s: End checksums mismatch (-want +got):\n%s", tt.name, mode, diff)
			}
			if got := tt.end.Mismatch(); got != (tt.name == "bad") {
				t.Errorf("%s: Mismatch() = %v", tt.name, got)
			}
		}
	}
}

// TestLargeFrame checks that a frame larger than the buffer is delivered
// whole, and that a BlockGroup's Block frames stay valid until its End.
func TestLargeFrame(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 30000)
	in := el(mkv.IDCluster, el(mkv.IDBlockGroup, el(mkv.IDBlock, []byte{0x81, 0, 0, 0}, big), el(mkv.IDReferenceBlock, u(1))),
		simpleBlock(1, 1, 0x80, big))
	d := mkv.NewDecoder(iotest.HalfReader(bytes.NewReader(in)), mkv.WithBufferSize(4096))
	var held []byte
	blocks := 0
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Kind == mkv.BlockKind:
			blocks++
			if !bytes.Equal(ev.Block.Frames[0], big) {
				t.Fatalf("block %d: frame of %d bytes differs from the %d written", blocks, len(ev.Block.Frames[0]), len(big))
			}
			if ev.ID == mkv.IDBlock {
				held = ev.Block.Frames[0]
			}
		case ev.Kind == mkv.End && ev.ID == mkv.IDBlockGroup:
			if !bytes.Equal(held, big) {
				t.Fatal("the Block's frame changed before its BlockGroup ended")
			}
		}
	}
	if blocks != 2 {
		t.Fatalf("got %d blocks, want 2", blocks)
	}
}

type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReaderErrors checks that a reader's error comes after every complete
// element, that a reader making no progress is given up, and that errors
// and io.EOF are final.
func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	in := append(el(mkv.IDInfo, el(mkv.IDTitle, str("x"))), 0x1A)
	got, err := pullTrace(&errReader{in, boom})
	if err != boom || len(got) != 3 {
		t.Errorf("got %d events and %v, want 3 and the reader's error", len(got), err)
	}
	_, err = pullTrace(&errReader{nil, nil})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader without progress: got %v, want io.ErrNoProgress", err)
	}
	d := mkv.NewDecoder(bytes.NewReader(el(mkv.IDInfo)))
	for range 2 {
		d.Next()
	}
	for range 2 {
		if _, err := d.Next(); err != io.EOF {
			t.Errorf("after the end: got %v, want io.EOF", err)
		}
	}
}

// TestPushHandlerError checks that the handler's error stops decoding and
// is returned, and that a PushDecoder refuses writes after Close.
func TestPushHandlerError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	p := mkv.NewPushDecoder(func(ev *mkv.Event) error {
		n++
		return stop
	})
	if _, err := p.Write(el(mkv.IDInfo, el(mkv.IDTitle, str("x")))); err != stop {
		t.Errorf("Write: got %v, want the handler's error", err)
	}
	if _, err := p.Write([]byte{0xEC, 0x80}); err != stop || n != 1 {
		t.Errorf("Write after the error: got %v after %d events, want the same error after 1", err, n)
	}
	q := mkv.NewPushDecoder(func(*mkv.Event) error { return nil })
	if err := q.Close(); err != nil {
		t.Errorf("Close of an empty stream: %v", err)
	}
	if _, err := q.Write([]byte{0xEC}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestAll checks the iterator: the same events as Next, and the error once.
func TestAll(t *testing.T) {
	in := handmadeStream()
	want, _ := pullTrace(bytes.NewReader(in))
	var got []string
	for ev, err := range mkv.NewDecoder(bytes.NewReader(in)).All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, trace(ev))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("All() mismatch (-want +got):\n%s", diff)
	}
	errs := 0
	for _, err := range mkv.NewDecoder(bytes.NewReader(in[:len(in)-1])).All() {
		if err != nil {
			errs++
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("got %v, want a cut-off error", err)
			}
		}
	}
	if errs != 1 {
		t.Errorf("All() yielded %d errors, want 1", errs)
	}
}
