package fuzz

import (
	"bytes"
	"errors"
	"io"
	"testing"

	. "github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

type hostileInput struct {
	name string
	in   []byte
	want error // the cause, for errors.Is
}

// hostile returns inputs built to hurt a decoder.
func hostile() []hostileInput {
	seg := func(children ...[]byte) []byte { return append(EBMLHeader(), Unknown(mkv.IDSegment, children...)...) }
	size8 := func(id mkv.ID, size uint64) []byte { // an element header with an 8-byte size
		b := IDBytes(id)
		b = append(b, 0x01)
		for i := 6; i >= 0; i-- {
			b = append(b, byte(size>>(8*i)))
		}
		return b
	}
	deep := []byte{}
	for range 100 {
		deep = Unknown(mkv.IDCluster, deep) // unknown sizes: nothing to compute
	}
	nested := EBMLHeader()
	for range 100 {
		nested = El(mkv.IDSimpleTag, nested)
	}
	laces := []byte{0x81, 0, 0, 0x02, 254} // Xiph lacing, 255 frames
	laces = append(laces, bytes.Repeat([]byte{255}, 300)...)
	return []hostileInput{
		{"declared size of 2^56-2 on a block", seg(size8(mkv.IDSimpleBlock, 1<<56-2)), mkv.ErrTooLarge},
		{"declared size of 2^56-2 on a value", seg(size8(mkv.IDTitle, 1<<56-2)), mkv.ErrTooLarge},
		{"declared size of 2^56-2 on a master, then nothing", seg(size8(mkv.IDTags, 1<<56-2)), io.ErrUnexpectedEOF},
		{"huge BlockGroup", seg(size8(mkv.IDBlockGroup, 1<<40)), mkv.ErrTooLarge},
		{"unknown-size value", seg(Unknown(mkv.IDTimecode)), mkv.ErrUnknownSize},
		{"unknown-size block", seg(Unknown(mkv.IDSimpleBlock)), mkv.ErrUnknownSize},
		{"unknown-size unknown element", seg(Unknown(0x4ABC)), mkv.ErrUnknownSize},
		{"nesting deeper than the limit", seg(nested), mkv.ErrTooDeep},
		{"ID of 5 bytes", seg([]byte{0x08, 1, 2, 3, 4, 0x80}), mkv.ErrInvalidID},
		{"ID of 0 bytes", seg([]byte{0x00}), mkv.ErrInvalidID},
		{"size of 9 bytes", seg([]byte{0xEC, 0x00, 1, 2, 3, 4, 5, 6, 7, 8}), mkv.ErrInvalidSize},
		{"lace count 255 with absurd lace sizes", seg(El(mkv.IDCluster, El(mkv.IDSimpleBlock, laces))), mkv.ErrInvalidBlock},
		{"EBML lacing with a negative size", seg(El(mkv.IDCluster, El(mkv.IDSimpleBlock, []byte{0x81, 0, 0, 0x06, 2, 0x81, 0x80, 1, 2}))), mkv.ErrInvalidBlock},
		{"endless Void", seg(Unknown(mkv.IDVoid)), mkv.ErrUnknownSize},
		{"Void of 2^56-2 bytes, cut", seg(size8(mkv.IDVoid, 1<<56-2), make([]byte, 1000)), io.ErrUnexpectedEOF},
		{"8-byte track number in a short block", seg(El(mkv.IDCluster, El(mkv.IDSimpleBlock, []byte{0x01, 0, 0, 0, 0, 0, 0, 1, 0}))), mkv.ErrInvalidBlock},
		{"EBMLMaxSizeLength 1", append(El(mkv.IDEBML, El(mkv.IDEBMLMaxSizeLength, Uint(1))), size8(mkv.IDSegment, 10)...), mkv.ErrInvalidSize},
		{"child larger than its parent", seg(El(mkv.IDInfo, size8(mkv.IDTitle, 100))), mkv.ErrOverflow},
		{"bad CRC-32 (data, not an error)", seg(El(mkv.IDInfo, El(mkv.IDCRC32, []byte{1, 2, 3, 4}), El(mkv.IDTitle, Str("x")))), nil},
		{"float of 3 bytes", seg(El(mkv.IDInfo, El(mkv.IDDuration, []byte{1, 2, 3}))), mkv.ErrInvalidValue},
		{"unknown-size clusters nested 100 deep", seg(deep), nil},
	}
}

// TestHostile decodes each hostile input in both doors and through the kvs
// reader: a typed error (or, for a bad CRC-32 and the last, a clean end) after bounded work
// and memory.
func TestHostile(t *testing.T) {
	for _, h := range hostile() {
		t.Run(h.name, func(t *testing.T) {
			var errPull, errPush error
			n := allocated(func() {
				errPull = Pull(bytes.NewReader(h.in), func(*mkv.Event) error { return nil }, opts...)
				errPush = Push(h.in, []int{3}, func(*mkv.Event) error { return nil }, opts...)
			})
			for _, err := range []error{errPull, errPush} {
				checkErr(t, err, len(h.in))
				if h.want == nil && err != nil || h.want != nil && !errors.Is(err, h.want) {
					t.Errorf("got %v, want %v", err, h.want)
				}
			}
			if limit := uint64(8*maxElement + 256<<10); n > limit {
				t.Errorf("allocated %d bytes, limit %d", n, limit)
			}
			r := kvs.NewReader(bytes.NewReader(h.in), kvs.WithDecoderOptions(opts...))
			var err error
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF {
				err = nil
			}
			checkErr(t, err, len(h.in))
			if h.want != nil && !errors.Is(err, h.want) {
				t.Errorf("kvs: got %v, want %v", err, h.want)
			}
		})
	}
}

// TestHostileKVS checks input that is valid Matroska but no KVS response:
// GetMedia's closing tags in a unit that has no Segment.
func TestHostileKVS(t *testing.T) {
	in := append(EBMLHeader(), El(mkv.IDTags, El(mkv.IDTag, El(mkv.IDSimpleTag,
		El(mkv.IDTagName, Str("AWS_KINESISVIDEO_CONTINUATION_TOKEN")), El(mkv.IDTagString, Str("1")))))...)
	r := kvs.NewReader(bytes.NewReader(in))
	f, err := r.Next()
	if err != nil || f.ContinuationToken != "1" {
		t.Fatalf("got %+v, %v; want the fragment", f, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want a unit cut before its Segment", err)
	}
}

// TestHostileShapes reads each hostile shape at 1 MB with the kvs reader's
// default budgets, whole, streaming and pushed: the shape's error, at an
// offset inside the input, naming the budget that was hit, after the
// fragment it cut short, marked Partial; and allocations that do not grow
// with what the input declares or repeats.
func TestHostileShapes(t *testing.T) {
	const size = 1 << 20
	modes := []struct {
		name  string
		whole bool
		read  func(in []byte) (frags []*kvs.Fragment, err error)
	}{
		{"Next", true, func(in []byte) ([]*kvs.Fragment, error) {
			r := kvs.NewReader(bytes.NewReader(in))
			var frags []*kvs.Fragment
			for {
				f, err := r.Next()
				if err != nil {
					return frags, err
				}
				frags = append(frags, f)
			}
		}},
		{"NextEvent", false, func(in []byte) ([]*kvs.Fragment, error) {
			r := kvs.NewReader(bytes.NewReader(in))
			var frags []*kvs.Fragment
			for {
				ev, err := r.NextEvent()
				if err != nil {
					return frags, err
				}
				if ev.Kind == kvs.FragmentEvent {
					frags = append(frags, ev.Fragment)
				}
			}
		}},
		{"PushReader", false, func(in []byte) ([]*kvs.Fragment, error) {
			var frags []*kvs.Fragment
			p := kvs.NewPushReader(func(ev *kvs.Event) error {
				if ev.Kind == kvs.FragmentEvent {
					frags = append(frags, ev.Fragment)
				}
				return nil
			})
			for rest := in; len(rest) > 0; {
				n := min(len(rest), 64<<10)
				if _, err := p.Write(rest[:n]); err != nil {
					return frags, err
				}
				rest = rest[n:]
			}
			if err := p.Close(); err != nil {
				return frags, err
			}
			return frags, io.EOF
		}},
	}
	for _, s := range Shapes() {
		in := s.Bytes(size)
		for _, m := range modes {
			t.Run(s.Name+"/"+m.name, func(t *testing.T) {
				want := s.Streaming
				if m.whole {
					want = s.Whole
				}
				var frags []*kvs.Fragment
				var err error
				n := allocated(func() { frags, err = m.read(in) })
				if want == nil {
					if err != io.EOF {
						t.Fatalf("got %v, want a clean end", err)
					}
				} else {
					var se *mkv.SyntaxError
					if !errors.Is(err, want) || !errors.As(err, &se) || se.Offset < 0 || se.Offset >= int64(len(in)) {
						t.Fatalf("got %v, want a *mkv.SyntaxError inside the input for %v", err, want)
					}
					if _, budget := want.(interface{ Is(error) bool }); budget && !errors.Is(err, kvs.ErrBudget) {
						t.Errorf("%v is not an ErrBudget", err)
					}
					if len(frags) != 1 || !frags[0].Partial || frags[0].Offset+frags[0].Size > se.Offset {
						t.Errorf("got %d fragments before the error at %d, want one, Partial, ending before it", len(frags), se.Offset)
					}
				}
				if limit := uint64(32 << 20); n > limit {
					t.Errorf("allocated %d bytes reading %d, limit %d", n, len(in), limit)
				}
			})
		}
	}
}
