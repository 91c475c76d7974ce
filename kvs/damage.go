package kvs

import (
	"fmt"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// State says how a fragment came out of the response.
type State uint8

// The states of a Fragment.
const (
	// Intact: the unit was read whole, and every CRC-32 in it matched.
	Intact State = iota
	// Partial: the input ended (or a budget was hit) inside the unit;
	// the fragment holds what was complete before.
	Partial
	// Damaged: the fragment has Damage records: a CRC-32 that does not
	// match, or, with WithResync, an element that could not be decoded.
	Damaged
)

var stateNames = [...]string{"intact", "partial", "damaged"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Damage is a fault in a fragment's unit that reading went on past. It is
// an error, so that errors.Is(d, mkv.ErrChecksum) and
// errors.Is(d, mkv.ErrInvalidSize) work, but it is data: the reader
// delivers it on the fragment it hit (Fragment.Damage) and carries on.
type Damage struct {
	// Offset is the position in the response of the damaged element's
	// first byte.
	Offset int64
	// ID is the damaged element: the master whose CRC-32 does not match,
	// or the element that could not be decoded (0 when the fault is in
	// its ID).
	ID mkv.ID
	// Err is the cause: mkv.ErrChecksum for a CRC-32 mismatch, or the
	// decoder's (mkv.ErrInvalidID, mkv.ErrInvalidSize, mkv.ErrOverflow,
	// mkv.ErrUnexpected, mkv.ErrTooLarge, ...).
	Err error
	// Stored and Computed are, for a CRC-32 mismatch, the value of the
	// CRC-32 element and the CRC-32 of the master's data.
	Stored, Computed uint32
	// Skipped is, after a decoding fault with WithResync, the number of
	// bytes skipped from the fault's position (the scan starts at the
	// element that could not be decoded) to the next unit, or to the end
	// of input.
	Skipped int64
}

func (d *Damage) Error() string {
	where := fmt.Sprintf("kvs: damage at offset %d", d.Offset)
	if d.ID != 0 {
		where += ": " + d.ID.String()
	}
	if d.Err == mkv.ErrChecksum {
		return fmt.Sprintf("%s: %v (stored %08x, computed %08x)", where, d.Err, d.Stored, d.Computed)
	}
	return fmt.Sprintf("%s: %v (%d bytes skipped)", where, d.Err, d.Skipped)
}

// Unwrap returns the cause.
func (d *Damage) Unwrap() error { return d.Err }

// Equal reports whether d and o record the same damage: every field equal,
// causes compared with ==. (go-cmp uses it to compare fragments.)
func (d *Damage) Equal(o *Damage) bool {
	if d == nil || o == nil {
		return d == o
	}
	return *d == *o
}

// State returns whether f is Intact, Partial or Damaged. A fragment with
// Damage records is Damaged, even if it is also Partial.
func (f *Fragment) State() State {
	switch {
	case len(f.Damage) > 0:
		return Damaged
	case f.Partial:
		return Partial
	}
	return Intact
}

// checksum records a CRC-32 mismatch of the master ending in ev on the
// fragment being read.
func (a *assembler) checksum(ev *mkv.Event) {
	f := a.f(ev.Offset)
	c := ev.Checksum
	f.Damage = append(f.Damage, &Damage{Offset: ev.Offset, ID: ev.ID, Err: mkv.ErrChecksum, Stored: c.Stored, Computed: c.Computed})
}

// resync applies a Damage or Resync event of the decoder (WithResync): the
// fault is remembered, and once the scan has found the next unit the
// fragment it hit is delivered with it, Partial and Damaged. A fault where
// no fragment is being read is a fragment of its own, so that every fault
// is reported on one: after a GetMedia fragment's closing tags (junk
// between GetMedia units, a broken EBML header of the next unit), a
// Continued fragment of the same Index; before any unit, a fragment with
// the next Index.
func (a *assembler) resync(ev *mkv.Event) {
	if ev.Kind == mkv.Damage {
		d := &Damage{Offset: ev.Offset, ID: ev.ID, Err: ev.Err}
		if se, ok := ev.Err.(*mkv.SyntaxError); ok {
			d.Err = se.Err
		}
		a.fault = d
		a.group.Reset()
		return
	}
	a.skipped += ev.Size
	d := a.fault
	a.fault = nil
	if d == nil {
		return
	}
	d.Skipped = ev.Size
	f := a.f(min(d.Offset, ev.Offset))
	f.Damage = append(f.Damage, d)
	a.complete(ev.Offset+ev.Size, true)
	a.unit = false
}
