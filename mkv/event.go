package mkv

import (
	"fmt"
	"time"
)

// Kind says what an Event reports.
type Kind uint8

// The kinds of Event.
const (
	// Start reports the start of a master element; its children follow,
	// then an End with the same ID.
	Start Kind = iota + 1
	// End reports the end of a master element. For a master of unknown size
	// the End carries the size it turned out to have.
	End
	// Value reports a value element (uint, int, float, string, UTF-8, date or
	// binary), decoded.
	Value
	// BlockKind reports a SimpleBlock or a Block, split into frames.
	BlockKind
	// Skip reports an element whose data the decoder passed over without
	// holding it: Void, and elements of known size that it does not know.
	Skip
	// Damage reports, with WithResync, an element that could not be
	// decoded: Offset and ID say where, Err is the *SyntaxError that
	// decoding would have failed with. The masters open around it are
	// abandoned without End events, and the decoder scans for the next
	// unit; a Resync event follows.
	Damage
	// Resync reports, with WithResync, where decoding resumes after a
	// Damage: Offset is the first byte the scan passed over and Size the
	// number of bytes it skipped; the next event is the Start of the EBML
	// header at Offset+Size, or the end of input.
	Resync
)

var kindNames = [...]string{"", "start", "end", "value", "block", "skip", "damage", "resync"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// UnknownSize is the Size of a master element whose size is not declared
// (RFC 8794 section 6.2), in its Start event.
const UnknownSize = -1

// Event is one step of decoding: an element's start or end, a value, a block
// or a skipped element. The decoder reuses one Event: it and every slice it
// holds (Bytes, Block.Frames) are valid only until the next call to Next, or,
// in push mode, until the handler returns. Callers that keep data copy it.
type Event struct {
	Kind Kind
	ID   ID
	// Type is the element's schema type (TypeUnknown for a skipped unknown
	// element).
	Type Type
	// Offset is the position in the stream of the element's first byte.
	Offset int64
	// HeaderSize is the number of bytes of the element's ID and size.
	HeaderSize int
	// Size is the size of the element's data: UnknownSize in the Start of a
	// master of unknown size, the actual size in its End.
	Size int64
	// Depth is the number of masters the element is in: 0 for the EBML
	// header and the Segment, 1 for a Cluster, 2 for a SimpleBlock.
	Depth int

	// Uint holds the value of a uint element.
	Uint uint64
	// Int holds the value of an int element, and of a date element as
	// nanoseconds since 2001-01-01T00:00:00 UTC.
	Int int64
	// Float holds the value of a float element.
	Float float64
	// Bytes holds the value of a string, UTF-8 or binary element. Trailing
	// NUL bytes of strings are removed (RFC 8794 section 7.4).
	Bytes []byte

	// Block holds a SimpleBlock or Block.
	Block Block

	// Checksum is, in the End event of a master that starts with a
	// CRC-32 element, the result of verifying it (with WithCRC).
	Checksum Checksum
	// Err is the fault of a Damage event.
	Err error
}

// StringValue returns the value of a string or UTF-8 element as a Go
// string (a copy, safe to keep).
func (e *Event) StringValue() string { return string(e.Bytes) }

// String describes the event for people: its kind, the element's name, its
// offset and what it holds, such as
//
//	start Cluster at 4242, size 1234
//	value CodecID at 301: "V_MPEG4/ISO/AVC"
//	block SimpleBlock at 4263: track 1, keyframe, 1 frame
func (e *Event) String() string {
	s := fmt.Sprintf("%v %s at %d", e.Kind, e.ID.Name(), e.Offset)
	switch e.Kind {
	case Start, End, Skip:
		if e.Size == UnknownSize {
			return s + ", unknown size"
		}
		return fmt.Sprintf("%s, size %d", s, e.Size)
	case Value:
		switch e.Type {
		case TypeUint:
			return fmt.Sprintf("%s: %d", s, e.Uint)
		case TypeInt:
			return fmt.Sprintf("%s: %d", s, e.Int)
		case TypeFloat:
			return fmt.Sprintf("%s: %g", s, e.Float)
		case TypeString, TypeUTF8:
			return fmt.Sprintf("%s: %q", s, e.Bytes)
		case TypeDate:
			return fmt.Sprintf("%s: %s", s, e.Time().Format(time.RFC3339Nano))
		}
		return fmt.Sprintf("%s: %d bytes", s, len(e.Bytes))
	case BlockKind:
		s = fmt.Sprintf("%s: track %d", s, e.Block.Track)
		if e.Block.Keyframe {
			s += ", keyframe"
		}
		if len(e.Block.Frames) == 1 {
			return s + ", 1 frame"
		}
		return fmt.Sprintf("%s, %d frames", s, len(e.Block.Frames))
	}
	return s
}

// Checksum is the verification of a master's CRC-32 element (RFC 8794
// section 11.3.1), which covers the master's data after it.
type Checksum struct {
	// Checked is set when the master started with a CRC-32 element and
	// the decoder verified it.
	Checked bool
	// Stored is the CRC-32 element's value, Computed the CRC-32 of the
	// master's data that followed it.
	Stored, Computed uint32
}

// Mismatch reports whether the CRC-32 was checked and does not match.
func (c Checksum) Mismatch() bool { return c.Checked && c.Stored != c.Computed }

// Time returns the value of a date element.
func (e *Event) Time() time.Time { return dateEpoch.Add(time.Duration(e.Int)) }

// dateEpoch is the origin of EBML dates (RFC 8794 section 7.6).
var dateEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// DataOffset returns the position in the stream of the element's data.
func (e *Event) DataOffset() int64 { return e.Offset + int64(e.HeaderSize) }

// Lacing is how a block packs several frames (Matroska section 10.3).
type Lacing uint8

// The lacing modes, in the values of the block flags' bits 5-6.
const (
	NoLacing    Lacing = 0
	XiphLacing  Lacing = 1
	FixedLacing Lacing = 2
	EBMLLacing  Lacing = 3
)

// Block is a SimpleBlock or a Block, with its lacing undone.
type Block struct {
	// Track is the block's track number.
	Track uint64
	// Timecode is the block's time relative to its Cluster's Timecode, in
	// TimecodeScale units.
	Timecode int16
	// Keyframe is the SimpleBlock keyframe flag. A Block has no such flag:
	// its frames are keyframes when its BlockGroup has no ReferenceBlock.
	Keyframe bool
	// Invisible means the frames are decoded but not shown.
	Invisible bool
	// Discardable is the SimpleBlock flag saying the frames may be dropped.
	Discardable bool
	// Lacing is the lacing mode the block used.
	Lacing Lacing
	// Frames are the block's frames, slices of the decoder's buffer valid
	// until the next call (see Event).
	Frames [][]byte
}
