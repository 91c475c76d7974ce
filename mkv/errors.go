package mkv

import (
	"errors"
	"fmt"
)

// Causes of a SyntaxError. Test for them with errors.Is.
var (
	// ErrTooLarge means an element that must be held in memory (a value or a
	// block) is larger than the decoder's maximum element size.
	ErrTooLarge = errors.New("element larger than the maximum element size")
	// ErrTooDeep means masters nest deeper than the maximum depth.
	ErrTooDeep = errors.New("elements nested deeper than the maximum depth")
	// ErrInvalidID means an element ID is malformed or longer than
	// EBMLMaxIDLength.
	ErrInvalidID = errors.New("invalid element ID")
	// ErrInvalidSize means an element data size is malformed or longer than
	// EBMLMaxSizeLength.
	ErrInvalidSize = errors.New("invalid element size")
	// ErrUnknownSize means an element that may not have an unknown size has
	// one: a value, a block, an unknown element or a master other than
	// Segment and Cluster (RFC 8794 section 6.2).
	ErrUnknownSize = errors.New("unknown size not allowed here")
	// ErrOverflow means an element extends past the end of its parent.
	ErrOverflow = errors.New("element extends past the end of its parent")
	// ErrInvalidValue means a value has a length its type does not allow,
	// such as a 5-byte float.
	ErrInvalidValue = errors.New("invalid value")
	// ErrInvalidBlock means a SimpleBlock or Block is malformed: a bad track
	// number, a short header or an inconsistent lace table.
	ErrInvalidBlock = errors.New("invalid block")
	// ErrChecksum means a master's CRC-32 does not match its data. The
	// decoder reports a mismatch on the master's End event (Event.Checksum)
	// and goes on; ErrChecksum is the cause readers above it give the
	// damage (see kvs.Damage).
	ErrChecksum = errors.New("CRC-32 mismatch")
	// ErrUnexpected means, with WithResync, an element that cannot stand
	// where it is: a known element outside the master the schema puts it
	// in, or an unknown element at the top two levels (in place of an
	// EBML header, a Segment or a Segment's child). Either is taken for
	// junk, whose size cannot be trusted.
	ErrUnexpected = errors.New("unexpected element")
)

// SyntaxError describes where and why the input could not be decoded.
// Offset is the position in the stream of the element's first byte (or of the
// byte that could not be read); ID is the element being decoded, or 0 when the
// fault is in its ID.
type SyntaxError struct {
	Offset int64
	ID     ID
	Err    error
}

func (e *SyntaxError) Error() string {
	if e.ID == 0 {
		return fmt.Sprintf("mkv: offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("mkv: offset %d: %v: %v", e.Offset, e.ID, e.Err)
}

// Unwrap returns the cause, so that errors.Is(err, ErrTooLarge) and
// errors.Is(err, io.ErrUnexpectedEOF) work.
func (e *SyntaxError) Unwrap() error { return e.Err }
