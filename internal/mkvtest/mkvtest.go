// Package mkvtest has helpers for tests of the mkv decoder: driving it in
// pull and push mode, and rendering events so that two decodings can be
// compared exactly.
package mkvtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// Trace renders an event in one line, with a checksum of any data.
func Trace(ev *mkv.Event) string {
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
	case mkv.End:
		if c := ev.Checksum; c.Checked {
			fmt.Fprintf(&b, " crc=%08x/%08x", c.Stored, c.Computed)
		}
	case mkv.Damage:
		fmt.Fprintf(&b, " err=%v", ev.Err)
	}
	return b.String()
}

// Pull decodes r with a Decoder, calling fn per event; it returns nil at a
// clean end, or the error.
func Pull(r io.Reader, fn func(*mkv.Event) error, opts ...mkv.Option) error {
	d := mkv.NewDecoder(r, opts...)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// Push decodes data with a PushDecoder, writing it in chunks whose sizes
// come from sizes in turn (all of it at once when sizes is empty).
func Push(data []byte, sizes []int, fn func(*mkv.Event) error, opts ...mkv.Option) error {
	p := mkv.NewPushDecoder(fn, opts...)
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = min(max(sizes[i%len(sizes)], 1), len(data))
		}
		if _, err := p.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return p.Close()
}

// Collect runs a decoding and returns the traces of its events and its
// final error (nil at a clean end).
func Collect(run func(func(*mkv.Event) error) error) ([]string, error) {
	var lines []string
	err := run(func(ev *mkv.Event) error {
		lines = append(lines, Trace(ev))
		return nil
	})
	return lines, err
}

// PullTrace is Collect of Pull.
func PullTrace(r io.Reader, opts ...mkv.Option) ([]string, error) {
	return Collect(func(fn func(*mkv.Event) error) error { return Pull(r, fn, opts...) })
}

// PushTrace is Collect of Push with one chunk size.
func PushTrace(data []byte, chunk int, opts ...mkv.Option) ([]string, error) {
	return Collect(func(fn func(*mkv.Event) error) error { return Push(data, []int{chunk}, fn, opts...) })
}

// El encodes an element of known size whose data is the concatenation of
// parts, with the shortest size field.
func El(id mkv.ID, parts ...[]byte) []byte {
	data := bytes.Join(parts, nil)
	return append(append(IDBytes(id), SizeBytes(int64(len(data)))...), data...)
}

// Unknown encodes the header of a master of unknown size followed by parts.
func Unknown(id mkv.ID, parts ...[]byte) []byte {
	return append(append(IDBytes(id), 0xFF), bytes.Join(parts, nil)...)
}

// IDBytes encodes an element ID.
func IDBytes(id mkv.ID) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	i := 0
	for i < 3 && b[i] == 0 {
		i++
	}
	return b[i:]
}

// SizeBytes encodes a data size in the shortest VINT.
func SizeBytes(n int64) []byte {
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

// Uint encodes an unsigned value in the fewest bytes.
func Uint(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return b[i:]
}

// Str is []byte(s).
func Str(s string) []byte { return []byte(s) }

// EBMLHeader is a minimal EBML header with DocType matroska.
func EBMLHeader() []byte {
	return El(mkv.IDEBML, El(mkv.IDEBMLVersion, Uint(1)), El(mkv.IDDocType, Str("matroska")))
}

// SimpleBlock encodes a SimpleBlock of one frame.
func SimpleBlock(track byte, tc int16, flags byte, frame []byte) []byte {
	return El(mkv.IDSimpleBlock, []byte{0x80 | track, byte(tc >> 8), byte(tc), flags}, frame)
}
