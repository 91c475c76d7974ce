package mkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The encoder: Append functions in the manner of strconv.AppendInt, each
// appending one element to b and returning the extended slice. mkv.Writer,
// the KVS emulator and the test fixtures all write through them.

// AppendID appends an element ID as its bytes on the wire.
func AppendID(b []byte, id ID) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// AppendSize appends a data size as a VINT of l bytes (RFC 8794 section
// 6.1), or of the fewest bytes that hold it when l is 0; UnknownSize
// appends the reserved all-ones value that marks a master of unknown size.
// A size that does not fit in l bytes is written in the fewest that hold it.
func AppendSize(b []byte, n int64, l int) []byte {
	if n == UnknownSize {
		l = max(l, 1)
		b = append(b, 0xFF>>(l-1))
		for range l - 1 {
			b = append(b, 0xFF)
		}
		return b
	}
	short := 1
	for short < 8 && uint64(n) >= 1<<(7*short)-1 {
		short++
	}
	l = max(l, short)
	v := uint64(n) | 1<<(7*l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// AppendHeader appends an element's ID and a data size of size bytes (or
// UnknownSize), written as AppendSize does with l.
func AppendHeader(b []byte, id ID, size int64, l int) []byte {
	return AppendSize(AppendID(b, id), size, l)
}

// AppendElement appends an element whose data is data: a binary value, or
// a master whose children are already encoded.
func AppendElement(b []byte, id ID, data []byte) []byte {
	return append(AppendHeader(b, id, int64(len(data)), 0), data...)
}

// AppendUint appends an unsigned integer element in the fewest bytes.
func AppendUint(b []byte, id ID, v uint64) []byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], v)
	i := 0
	for i < 7 && d[i] == 0 {
		i++
	}
	return AppendElement(b, id, d[i:])
}

// AppendInt appends a signed integer element in the fewest bytes.
func AppendInt(b []byte, id ID, v int64) []byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], uint64(v))
	i := 0
	for i < 7 && (d[i] == 0 && d[i+1] < 0x80 || d[i] == 0xFF && d[i+1] >= 0x80) {
		i++
	}
	return AppendElement(b, id, d[i:])
}

// AppendFloat appends a float element as 8 bytes.
func AppendFloat(b []byte, id ID, v float64) []byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], math.Float64bits(v))
	return AppendElement(b, id, d[:])
}

// AppendString appends a string or UTF-8 element.
func AppendString(b []byte, id ID, s string) []byte {
	return append(AppendHeader(b, id, int64(len(s)), 0), s...)
}

// ErrLacing means a block's frames cannot be laced as asked: more than 256
// frames, or frames of different sizes with FixedLacing.
var ErrLacing = errors.New("mkv: frames cannot be laced")

// AppendBlock appends a SimpleBlock or Block element (id IDSimpleBlock or
// IDBlock) holding blk's frames, laced with blk.Lacing when there are
// several (Matroska section 10.3). The keyframe and discardable flags are
// written only in a SimpleBlock, as the specification has them.
func AppendBlock(b []byte, id ID, blk *Block) ([]byte, error) {
	if len(blk.Frames) == 0 || len(blk.Frames) > 256 {
		return b, fmt.Errorf("%w: %d frames", ErrLacing, len(blk.Frames))
	}
	lacing := blk.Lacing
	if len(blk.Frames) == 1 {
		lacing = NoLacing
	} else if lacing == NoLacing {
		return b, fmt.Errorf("%w: %d frames without lacing", ErrLacing, len(blk.Frames))
	}
	head := AppendSize(nil, int64(blk.Track), 0)
	flags := byte(lacing) << 1
	if blk.Invisible {
		flags |= 0x08
	}
	if id == IDSimpleBlock && blk.Keyframe {
		flags |= 0x80
	}
	if id == IDSimpleBlock && blk.Discardable {
		flags |= 0x01
	}
	head = append(head, byte(uint16(blk.Timecode)>>8), byte(blk.Timecode), flags)
	if lacing != NoLacing {
		laces, err := appendLaces(head, lacing, blk.Frames)
		if err != nil {
			return b, err
		}
		head = laces
	}
	size := len(head)
	for _, f := range blk.Frames {
		size += len(f)
	}
	b = append(AppendHeader(b, id, int64(size), 0), head...)
	for _, f := range blk.Frames {
		b = append(b, f...)
	}
	return b, nil
}

// appendLaces appends the frame count and lace sizes of a laced block.
func appendLaces(b []byte, lacing Lacing, frames [][]byte) ([]byte, error) {
	b = append(b, byte(len(frames)-1))
	last := len(frames) - 1
	switch lacing {
	case FixedLacing:
		for _, f := range frames {
			if len(f) != len(frames[0]) {
				return nil, fmt.Errorf("%w: fixed lacing of frames of different sizes", ErrLacing)
			}
		}
	case XiphLacing:
		for _, f := range frames[:last] {
			n := len(f)
			for ; n >= 255; n -= 255 {
				b = append(b, 255)
			}
			b = append(b, byte(n))
		}
	case EBMLLacing:
		b = AppendSize(b, int64(len(frames[0])), 0)
		for i := 1; i < last; i++ {
			b = appendSignedVint(b, int64(len(frames[i])-len(frames[i-1])))
		}
	}
	return b, nil
}

// appendSignedVint appends a signed VINT of EBML lacing (Matroska section
// 10.3.3): the value plus a bias of 2^(7n-1)-1 in the fewest bytes n.
func appendSignedVint(b []byte, v int64) []byte {
	l := 1
	for l < 8 && (v < -(1<<(7*l-1)-1) || v > 1<<(7*l-1)-1) {
		l++
	}
	return AppendSize(b, v+(1<<(7*l-1)-1), l)
}
