package mkv

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
)

// The EBML header's defaults for EBMLMaxIDLength and EBMLMaxSizeLength
// (RFC 8794 sections 11.2.4 and 11.2.5). IDs are held in 32 bits, so a
// header declaring longer IDs still gets 4.
const (
	defaultMaxIDLen   = 4
	defaultMaxSizeLen = 8
)

// open is a master element being decoded.
type open struct {
	id     ID
	offset int64
	hdr    int
	// end is the stream offset where the master's data ends, or -1 when
	// its size is unknown. limit is the nearest known end among the master
	// and its ancestors, or -1: an unknown-size master also ends there.
	end, limit int64
	// crc state, when the master starts with a CRC-32 and WithCRC is set.
	hasCRC  bool
	crcWant uint32
	crc     uint32
}

// machine is the decoder's state machine, shared by Decoder (pull) and
// PushDecoder (push). It decodes buf[pos:], whose first byte is at stream
// offset base+pos, one event at a time. When buf holds too little to
// complete the next step it says how many bytes from pos it needs; the door
// in front of it brings them and calls again. Only whole elements are
// consumed, so nothing is decoded twice: an incomplete element stays in buf,
// and the machine only looks at its first bytes to learn its length.
type machine struct {
	opts       options
	maxIDLen   int
	maxSizeLen int

	buf  []byte
	pos  int
	base int64

	stack []open
	// skip counts the bytes of a skipped element still to pass; the Skip
	// event in ev is delivered once they have.
	skip int64
	// crcs counts the open masters whose CRC-32 is being computed, which
	// are up to date with the bytes before stream offset crcMark.
	crcs    int
	crcMark int64

	ev     Event
	frames [][]byte
	err    error

	// Resynchronisation (WithResync): after a fault the machine scans
	// from scanFrom for the next unit; resumed is where it last resumed,
	// so that a fault there scans from the byte after it.
	scanning bool
	scanFrom int64
	resumed  int64
	// The bytes of the element at stream offset cleanAt, from its first
	// to cleanTo, start no unit: an element waiting for the bytes a
	// candidate needs is not searched again from its start.
	cleanAt int64
	cleanTo int
}

func (m *machine) init(opts []Option) {
	m.opts = defaultOptions()
	for _, o := range opts {
		o(&m.opts)
	}
	m.maxIDLen, m.maxSizeLen = defaultMaxIDLen, defaultMaxSizeLen
	m.stack = make([]open, 0, 16)
	m.resumed, m.cleanAt = -1, -1
}

// offset returns the stream offset of the next byte to decode.
func (m *machine) offset() int64 { return m.base + int64(m.pos) }

// fail records a sticky error and returns it. With WithResync, a fault
// that is not the end of input is delivered as a Damage event instead, and
// the machine scans for the next unit from the element that could not be
// decoded (the byte at pos).
func (m *machine) fail(off int64, id ID, err error) (int, error) {
	se := &SyntaxError{Offset: off, ID: id, Err: err}
	if !m.opts.resync || err == io.ErrUnexpectedEOF {
		m.err = se
		return 0, m.err
	}
	m.reset(id, TypeUnknown, off, 0, 0, len(m.stack))
	m.ev.Kind, m.ev.Err = Damage, se
	m.stack, m.crcs, m.skip = m.stack[:0], 0, 0
	m.scanning, m.scanFrom = true, m.offset()
	if m.scanFrom == m.resumed {
		// The unit resync resumed at failed at its first byte: look
		// past it, or the machine would find it again.
		m.consume(1)
	}
	return 0, nil
}

// consume passes n bytes. The CRC-32s of the masters that verify one are
// brought up to date later, by flushCRC, over all the bytes passed since:
// one call over a buffer's worth of bytes instead of one per element, many
// of which are a few bytes, where crc32 is several times slower.
func (m *machine) consume(n int) { m.pos += n }

// flushCRC feeds the bytes passed since the last flush to the CRC-32 of
// every master that verifies one. It must run before those bytes leave
// the buffer (the doors call it whenever the machine needs more input) and
// before a CRC-32 is started or compared.
func (m *machine) flushCRC() {
	if m.crcs > 0 {
		p := m.buf[m.crcMark-m.base : m.pos]
		for i := range m.stack {
			if o := &m.stack[i]; o.hasCRC {
				o.crc = updateCRC(o.crc, p)
			}
		}
	}
	m.crcMark = m.offset()
}

// step decodes the next event into m.ev. It returns (0, nil) when m.ev is
// ready, (n, nil) when it needs n bytes from pos (more than buf holds), or
// an error: io.EOF at a clean end of input, a *SyntaxError otherwise. eof
// says that buf holds all the input there is.
func (m *machine) step(eof bool) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.skip > 0 {
		return m.skipData(eof)
	}
	if m.scanning {
		return m.scan(eof)
	}
	off := m.offset()
	var top *open
	if n := len(m.stack); n > 0 {
		top = &m.stack[n-1]
		if top.limit >= 0 && off >= top.limit {
			return m.end(off)
		}
	}
	b := m.buf[m.pos:]
	if len(b) == 0 {
		if !eof {
			return 1, nil
		}
		if top == nil {
			m.err = io.EOF
			return 0, io.EOF
		}
		if top.end < 0 {
			return m.end(off)
		}
		return m.fail(top.offset, top.id, io.ErrUnexpectedEOF)
	}

	// The element header: ID, then data size (RFC 8794 sections 5 and 6).
	idLen := vintLen(b[0])
	if idLen == 0 || idLen > m.maxIDLen {
		return m.fail(off, 0, ErrInvalidID)
	}
	if len(b) <= idLen {
		return m.short(off, 0, idLen+1, eof)
	}
	id, ok := readID(b[:idLen])
	if !ok {
		return m.fail(off, 0, ErrInvalidID)
	}
	sizeLen := vintLen(b[idLen])
	if sizeLen == 0 || sizeLen > m.maxSizeLen {
		return m.fail(off, id, ErrInvalidSize)
	}
	hdr := idLen + sizeLen
	if len(b) < hdr {
		return m.short(off, id, hdr, eof)
	}
	size, unknown := readSize(b[idLen:hdr])
	d, known := lookup(id)

	// An element that cannot be a descendant of an unknown-size master
	// ends it, and so does a new EBML header (RFC 8794 section 6.2).
	if top != nil && top.end < 0 && (id == IDEBML || known && !descendant(d, id, top.id)) {
		return m.end(off)
	}
	if m.opts.resync && len(m.stack) > 0 && id == IDEBML {
		// A unit's EBML header inside a master of known size: that
		// master (the outermost of known size) runs past the unit's
		// end. Resynchronising resumes at the header.
		o := m.stack[0]
		for _, s := range m.stack {
			if s.end >= 0 {
				o = s
				break
			}
		}
		return m.fail(o.offset, o.id, ErrOverflow)
	}
	if m.opts.resync && m.misplaced(d, known, id, top) {
		return m.fail(off, id, ErrUnexpected)
	}
	if unknown {
		if !known || d.flags&unknownSize == 0 {
			return m.fail(off, id, ErrUnknownSize)
		}
	} else if top != nil && top.limit >= 0 && size > top.limit-off-int64(hdr) {
		return m.fail(off, id, ErrOverflow)
	}
	depth := len(m.stack)
	m.reset(id, d.typ, off, hdr, size, depth)
	if unknown {
		m.ev.Size = UnknownSize
	}

	switch {
	case !known || id == IDVoid:
		if m.opts.resync {
			// The header here, the data as skipData passes it.
			if need, found := m.overrun(b, off, hdr, eof); found {
				return m.fail(off, id, ErrOverflow)
			} else if need > 0 {
				return need, nil
			}
		}
		m.ev.Kind = Skip
		m.consume(hdr)
		m.skip = size
		return m.skipData(eof)
	case d.typ == TypeMaster:
		if depth >= m.opts.maxDepth {
			return m.fail(off, id, ErrTooDeep)
		}
		if id == IDBlockGroup {
			// A BlockGroup is held whole, so that its Block's frames stay
			// valid until its End, when the group's ReferenceBlock and
			// BlockDuration are known.
			if size > m.opts.maxSize {
				return m.fail(off, id, ErrTooLarge)
			}
			if int64(len(b)) < int64(hdr)+size {
				return m.short(off, id, hdr+int(size), eof)
			}
		}
		if m.opts.resync {
			if need, found := m.overrun(b, off, hdr, eof); found {
				return m.fail(off, id, ErrOverflow)
			} else if need > 0 {
				return need, nil
			}
		}
		o := open{id: id, offset: off, hdr: hdr, end: -1, limit: -1}
		if top != nil {
			o.limit = top.limit
		}
		if !unknown {
			o.end = off + int64(hdr) + size
			o.limit = o.end
		}
		if id == IDEBML && depth == 0 {
			m.maxIDLen, m.maxSizeLen = defaultMaxIDLen, defaultMaxSizeLen
		}
		m.consume(hdr)
		m.stack = append(m.stack, o)
		m.ev.Kind = Start
		return 0, nil
	}

	if size > m.opts.maxSize {
		return m.fail(off, id, ErrTooLarge)
	}
	total := hdr + int(size)
	if len(b) < total {
		return m.short(off, id, total, eof)
	}
	if m.opts.resync {
		if need, found := m.overrun(b, off, total, eof); found {
			return m.fail(off, id, ErrOverflow)
		} else if need > 0 {
			return need, nil
		}
	}
	data := b[hdr:total:total]
	if err := m.value(d.typ, data, top); err != nil {
		return m.fail(off, id, err)
	}
	m.consume(total)
	if id == IDCRC32 && m.opts.verifyCRC && top != nil && off == top.offset+int64(top.hdr) && len(data) == 4 {
		// A CRC-32 first in its master covers the rest of the master's
		// data (RFC 8794 section 11.3.1); it is stored little-endian.
		m.flushCRC()
		top.hasCRC, top.crcWant, top.crc = true, binary.LittleEndian.Uint32(data), 0
		m.crcs++
	}
	return 0, nil
}

// misplaced reports, for resynchronisation, an element that cannot stand
// where it is: a known element outside the master the schema puts it in,
// or an unknown element at the top two levels, which no KVS unit has.
// Damaged input reads as such elements, whose sizes cannot be trusted: a
// size read from junk could pass over the units after it.
func (m *machine) misplaced(d def, known bool, id ID, top *open) bool {
	switch {
	case !known:
		return len(m.stack) < 2
	case top == nil:
		return d.parent != 0 && d.flags&global == 0
	}
	return !descendant(d, id, top.id)
}

// reset makes m.ev the event of an element with everything else zero. It
// stores field by field, and clears the fields that hold slices only when
// the last event set them: the Event is the hottest write of decoding.
func (m *machine) reset(id ID, t Type, off int64, hdr int, size int64, depth int) {
	ev := &m.ev
	ev.ID, ev.Type, ev.Offset, ev.HeaderSize, ev.Size, ev.Depth = id, t, off, hdr, size, depth
	ev.Uint, ev.Int, ev.Float = 0, 0, 0
	if ev.Bytes != nil {
		ev.Bytes = nil
	}
	if ev.Checksum.Checked {
		ev.Checksum = Checksum{}
	}
	if ev.Err != nil {
		ev.Err = nil
	}
	if ev.Block.Frames != nil && t != TypeBlock {
		// Set by a block, whose decoding always sets Frames (and every
		// other field of Block, so a block does not clear it first).
		ev.Block = Block{}
	}
}

// skipData passes the data of the skipped element in m.ev, then delivers
// the event.
func (m *machine) skipData(eof bool) (int, error) {
	n := min(m.skip, int64(len(m.buf)-m.pos))
	if m.opts.resync {
		// A unit starting in the data means the element runs past its
		// unit's end. Bytes a candidate needs to be told are kept.
		at, keep, need := unitIn(m.buf[m.pos:], 0, int(n), eof)
		m.consume(keep)
		m.skip -= int64(keep)
		if at >= 0 {
			m.skip = 0
			return m.fail(m.ev.Offset, m.ev.ID, ErrOverflow)
		}
		if keep < int(n) {
			return need - keep, nil
		}
		n = 0
	}
	m.consume(int(n))
	m.skip -= n
	if m.skip > 0 {
		if eof {
			return m.fail(m.ev.Offset, m.ev.ID, io.ErrUnexpectedEOF)
		}
		return 1, nil
	}
	return 0, nil
}

// short handles an element that buf does not hold whole: at the end of
// input it is cut off, otherwise the machine needs n bytes.
func (m *machine) short(off int64, id ID, n int, eof bool) (int, error) {
	if eof {
		return m.fail(off, id, io.ErrUnexpectedEOF)
	}
	return n, nil
}

// end closes the innermost master at stream offset off.
func (m *machine) end(off int64) (int, error) {
	if m.stack[len(m.stack)-1].hasCRC {
		m.flushCRC()
	}
	o := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	m.reset(o.id, TypeMaster, o.offset, o.hdr, off-o.offset-int64(o.hdr), len(m.stack))
	m.ev.Kind = End
	if o.hasCRC {
		m.crcs--
		m.ev.Checksum = Checksum{Checked: true, Stored: o.crcWant, Computed: o.crc}
	}
	return 0, nil
}

// value decodes the data of a value or block element into m.ev.
func (m *machine) value(t Type, data []byte, top *open) error {
	m.ev.Kind = Value
	switch t {
	case TypeUint:
		if len(data) > 8 {
			return ErrInvalidValue
		}
		var v uint64
		for _, c := range data {
			v = v<<8 | uint64(c)
		}
		m.ev.Uint = v
		if top != nil && top.id == IDEBML {
			m.headerLimit(v)
		}
	case TypeInt, TypeDate:
		if len(data) > 8 || t == TypeDate && len(data) != 0 && len(data) != 8 {
			return ErrInvalidValue
		}
		var v int64
		if len(data) > 0 && data[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range data {
			v = v<<8 | int64(c)
		}
		m.ev.Int = v
	case TypeFloat:
		switch len(data) {
		case 0:
		case 4:
			m.ev.Float = float64(math.Float32frombits(binary.BigEndian.Uint32(data)))
		case 8:
			m.ev.Float = math.Float64frombits(binary.BigEndian.Uint64(data))
		default:
			return ErrInvalidValue
		}
	case TypeString, TypeUTF8:
		for len(data) > 0 && data[len(data)-1] == 0 {
			data = data[:len(data)-1]
		}
		m.ev.Bytes = data
	case TypeBlock:
		m.ev.Kind = BlockKind
		frames, err := parseBlock(data, &m.ev.Block, m.frames)
		m.frames = frames
		if err != nil {
			return err
		}
	default:
		m.ev.Bytes = data
	}
	return nil
}

// headerLimit applies EBMLMaxIDLength and EBMLMaxSizeLength from the EBML
// header to the rest of the document.
func (m *machine) headerLimit(v uint64) {
	switch m.ev.ID {
	case IDEBMLMaxIDLength:
		m.maxIDLen = int(min(max(v, 1), defaultMaxIDLen))
	case IDEBMLMaxSizeLength:
		m.maxSizeLen = int(min(max(v, 1), defaultMaxSizeLen))
	}
}

// ebmlMagic is the ID of the EBML header, which starts every unit.
var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

// maxUnitHeader bounds the size of an EBML header that resynchronisation
// accepts (KVS writes 35 bytes), so that checking a candidate costs a
// bounded number of bytes.
const maxUnitHeader = 256

// scan looks for the next unit after a fault: an EBML header that
// validates, followed by a Segment (see unitAt). Bytes before a candidate
// are consumed as they are passed, so that a long run of junk holds no
// memory; each byte is looked at a bounded number of times.
func (m *machine) scan(eof bool) (int, error) {
	for {
		b := m.buf[m.pos:]
		i := bytes.Index(b, ebmlMagic)
		if i < 0 {
			// Keep what may be the start of an ID cut at the end.
			keep := min(len(b), len(ebmlMagic)-1)
			if eof {
				keep = 0
			}
			m.consume(len(b) - keep)
			if eof {
				return m.resume()
			}
			return keep + 1, nil
		}
		m.consume(i)
		need, ok := unitAt(m.buf[m.pos:])
		switch {
		case ok:
			return m.resume()
		case need > len(m.buf)-m.pos && !eof:
			return need, nil
		}
		m.consume(1)
	}
}

// resume ends a scan at pos with a Resync event.
func (m *machine) resume() (int, error) {
	off := m.offset()
	m.reset(0, TypeUnknown, m.scanFrom, 0, off-m.scanFrom, 0)
	m.ev.Kind = Resync
	m.scanning, m.resumed = false, off
	// The damaged unit's EBML header may have set them.
	m.maxIDLen, m.maxSizeLen = defaultMaxIDLen, defaultMaxSizeLen
	return 0, nil
}

// unitAt reports whether b, which starts with an EBML header's ID, starts a
// unit: an EBML header of known size up to maxUnitHeader whose children
// parse and whose DocType is matroska or webm, then a Segment's ID. When b
// is too short to tell, it returns the number of bytes it needs.
func unitAt(b []byte) (need int, ok bool) {
	const idLen = 4
	if len(b) <= idLen {
		return idLen + 1, false
	}
	sizeLen := vintLen(b[idLen])
	if sizeLen == 0 {
		return 0, false
	}
	hdr := idLen + sizeLen
	if len(b) < hdr {
		return hdr, false
	}
	size, unknown := readSize(b[idLen:hdr])
	if unknown || size > maxUnitHeader {
		return 0, false
	}
	end := hdr + int(size)
	if len(b) < end+idLen {
		return end + idLen, false
	}
	if !bytes.Equal(b[end:end+idLen], []byte{0x18, 0x53, 0x80, 0x67}) {
		return 0, false
	}
	doc := false
	for p := b[hdr:end]; len(p) > 0; {
		n := vintLen(p[0])
		if n == 0 || n > 4 || len(p) <= n {
			return 0, false
		}
		id, ok := readID(p[:n])
		s := vintLen(p[n])
		if !ok || s == 0 || len(p) < n+s {
			return 0, false
		}
		v, unknown := readSize(p[n : n+s])
		if unknown || v > int64(len(p)-n-s) {
			return 0, false
		}
		if id == IDDocType {
			t := bytes.TrimRight(p[n+s:n+s+int(v)], "\x00")
			doc = string(t) == "matroska" || string(t) == "webm"
		}
		p = p[n+s+int(v):]
	}
	return 0, doc
}

// overrun looks, for resynchronisation, for a unit that starts inside the
// element b[:total] at stream offset off (a master's or skipped element's
// header, or a whole value), after its first byte: in damaged input a size
// can be larger than what the element had, and take in the start of the
// units after it. It reports whether one starts there, or the number of
// bytes from b's start it needs to tell (see unitIn).
func (m *machine) overrun(b []byte, off int64, total int, eof bool) (need int, found bool) {
	from := 1
	if m.cleanAt == off {
		from = max(from, m.cleanTo)
	}
	at, keep, need := unitIn(b, from, total, eof)
	if at >= 0 {
		return 0, true
	}
	if keep < total {
		m.cleanAt, m.cleanTo = off, keep
		return need, false
	}
	return 0, false
}

// unitIn looks for a unit (see unitAt) that starts in b[from:limit]. It
// returns its index at, or -1. Otherwise keep is where the bytes not yet
// told start (limit when none is left), and need the number of bytes from
// b's start it needs to tell them, unless eof: a candidate needs the rest
// of its header, or b ends with the first bytes of an EBML header's ID.
// The answer does not depend on how the input was cut into reads.
func unitIn(b []byte, from, limit int, eof bool) (at, keep, need int) {
	more := len(ebmlMagic) - 1
	w := b[:min(limit+more, len(b))]
	for i := from; i < limit; i++ {
		j := bytes.Index(w[i:], ebmlMagic)
		if j < 0 || i+j >= limit {
			break
		}
		i += j
		n, ok := unitAt(b[i:])
		if ok {
			return i, i, 0
		}
		if i+n > len(b) && !eof {
			return -1, i, i + n
		}
	}
	if !eof && len(b) < limit+more {
		for k := more; k > 0; k-- {
			if s := len(b) - k; s >= from && s < limit && bytes.Equal(b[s:], ebmlMagic[:k]) {
				return -1, s, s + len(ebmlMagic)
			}
		}
	}
	return -1, limit, 0
}
