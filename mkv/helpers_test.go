package mkv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// el encodes an element of known size whose data is the concatenation of
// parts, with the shortest size field.
func el(id mkv.ID, parts ...[]byte) []byte {
	data := bytes.Join(parts, nil)
	return append(append(idBytes(id), sizeBytes(int64(len(data)))...), data...)
}

// unknown encodes the header of a master of unknown size followed by parts.
func unknown(id mkv.ID, parts ...[]byte) []byte {
	return append(append(idBytes(id), 0xFF), bytes.Join(parts, nil)...)
}

func idBytes(id mkv.ID) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	i := 0
	for i < 3 && b[i] == 0 {
		i++
	}
	return b[i:]
}

func sizeBytes(n int64) []byte {
	for l := 1; l <= 8; l++ {
		if n < 1<<(7*l)-1 {
			b := make([]byte, l)
			v := uint64(n) | 1<<(7*l)
			for i := l - 1; i >= 0; i-- {
				b[i] = byte(v)
				v >>= 8
			}
			return b
		}
	}
	panic("size too large")
}

func u(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return b[i:]
}

func str(s string) []byte { return []byte(s) }

// ebmlHeader is a minimal EBML header with DocType matroska.
func ebmlHeader() []byte {
	return el(mkv.IDEBML, el(mkv.IDEBMLVersion, u(1)), el(mkv.IDDocType, str("matroska")))
}

// simpleBlock encodes a SimpleBlock of one frame.
func simpleBlock(track byte, tc int16, flags byte, frame []byte) []byte {
	return el(mkv.IDSimpleBlock, []byte{0x80 | track, byte(tc >> 8), byte(tc), flags}, frame)
}

// trace renders an event in one line, with a checksum of any data, so that
// two decodings can be compared exactly.
func trace(ev *mkv.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s @%d+%d size=%d depth=%d", ev.Kind, ev.ID.Name(), ev.Offset, ev.HeaderSize, ev.Size, ev.Depth)
	switch ev.Kind {
	case mkv.Value:
		switch ev.Type {
		case mkv.TypeUint:
			fmt.Fprintf(&b, " =%d", ev.Uint)
		case mkv.TypeInt, mkv.TypeDate:
			fmt.Fprintf(&b, " =%d", ev.Int)
		case mkv.TypeFloat:
			fmt.Fprintf(&b, " =%g", ev.Float)
		default:
			fmt.Fprintf(&b, " =%q", ev.Bytes)
		}
	case mkv.BlockKind:
		bl := &ev.Block
		fmt.Fprintf(&b, " track=%d tc=%d key=%v inv=%v disc=%v lacing=%d", bl.Track, bl.Timecode, bl.Keyframe, bl.Invisible, bl.Discardable, bl.Lacing)
		for _, f := range bl.Frames {
			fmt.Fprintf(&b, " [%d %08x]", len(f), crc32.ChecksumIEEE(f))
		}
	}
	return b.String()
}

// collect decodes with fn-driven decoding and returns the trace lines and
// the final error (nil at a clean end).
func collect(run func(func(*mkv.Event) error) error) ([]string, error) {
	var lines []string
	err := run(func(ev *mkv.Event) error {
		lines = append(lines, trace(ev))
		return nil
	})
	return lines, err
}

func pullTrace(r io.Reader, opts ...mkv.Option) ([]string, error) {
	return collect(func(fn func(*mkv.Event) error) error { return pull(r, fn, opts...) })
}

func pushTrace(data []byte, chunk int, opts ...mkv.Option) ([]string, error) {
	return collect(func(fn func(*mkv.Event) error) error { return push(data, chunk, fn, opts...) })
}

// randomReader returns reads of random sizes between 1 and max bytes.
type randomReader struct {
	r   io.Reader
	rng *rand.Rand
	max int
}

func (r *randomReader) Read(p []byte) (int, error) {
	n := 1 + r.rng.IntN(r.max)
	return r.r.Read(p[:min(n, len(p))])
}

// errString renders an error for comparison: its text, and whether it is a
// cut-off.
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%v (unexpected EOF: %v)", err, errors.Is(err, io.ErrUnexpectedEOF))
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func isCutOff(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }
