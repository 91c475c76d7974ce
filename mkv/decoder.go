package mkv

import (
	"io"
	"iter"
	"unsafe"
)

// align is the alignment of the decoder's read targets. A read into a
// destination that is not 16-byte aligned runs several times slower in the
// kernel's copy on some CPUs; 64 bytes (a cache line) is safe everywhere.
const align = 64

// firstBuffer is the size of the pull decoder's buffer before any byte has
// arrived: it grows to the buffer size (WithBufferSize) as reads fill it,
// so that a short input costs little memory.
const firstBuffer = 64 << 10

// maxEmptyReads is how many reads in a row may return no data and no error
// before the decoder gives up with io.ErrNoProgress (as bufio does).
const maxEmptyReads = 100

// Decoder reads Matroska elements from an io.Reader, one event per call to
// Next. It reads ahead into a buffer that grows to the buffer size as reads
// fill it, and past it only to hold an element larger than it, up to the
// maximum element size (WithMaxElementSize).
type Decoder struct {
	m    machine
	r    io.Reader
	mem  []byte // the buffer, 64-byte aligned; m.buf is mem[:w]
	full bool   // the last read filled the room it was given, a quarter of the buffer or more
	eof  bool
	rerr error
}

// NewDecoder returns a Decoder that reads from r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	d := &Decoder{r: r}
	d.m.init(opts)
	d.mem = alignedBuffer(min(d.m.opts.bufferSize, firstBuffer))
	d.m.buf = d.mem[:0]
	return d
}

// Next returns the next event. The Event and the slices it holds are valid
// only until the next call to Next. At a clean end of input, between units
// or at the end of an unknown-size Segment, Next returns io.EOF. Input that
// ends inside an element gives a *SyntaxError for which
// errors.Is(err, io.ErrUnexpectedEOF) holds, after every element before it
// was delivered; malformed input gives a *SyntaxError too, and an error of
// the reader is returned as it is. Errors are final: later calls return the
// same error.
func (d *Decoder) Next() (*Event, error) {
	for {
		need, err := d.m.step(d.eof)
		if err != nil {
			return nil, err
		}
		if need == 0 {
			return &d.m.ev, nil
		}
		if d.rerr != nil {
			return nil, d.rerr
		}
		d.m.flushCRC()
		d.fill(need)
	}
}

// All returns an iterator over the events of Next. It ends after the last
// event at a clean end of input, or yields (nil, err) once for an error.
func (d *Decoder) All() iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			ev, err := d.Next()
			if err == io.EOF {
				return
			}
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// InputOffset returns the stream offset of the first byte not yet decoded:
// after an event, the end of what it reported.
func (d *Decoder) InputOffset() int64 { return d.m.offset() }

// fill reads at least one more byte into the buffer, making room for need
// bytes from the decoding position: it moves the undecoded bytes to the
// front (or into a larger buffer) so that reads always land at a 64-byte
// aligned address.
func (d *Decoder) fill(need int) {
	m := &d.m
	left := len(m.buf) - m.pos
	switch {
	case d.full && cap(d.mem) < d.m.opts.bufferSize:
		// The reader has more than the buffer took: the buffer grows
		// fourfold, up to the buffer size.
		mem := alignedBuffer(min(4*cap(d.mem), d.m.opts.bufferSize))
		d.slide(mem, left)
		d.mem = mem
	case left == 0:
		m.base += int64(m.pos)
		m.buf, m.pos = d.mem[:0], 0
	case need+align > cap(d.mem) && left+align > cap(d.mem):
		// The element is larger than the buffer (and not larger than the
		// maximum element size: the machine checked that before asking),
		// and what arrived of it fills the buffer. The buffer grows by
		// half, up to what the element needs: memory follows the bytes
		// that arrived (at most one and a half times them), never a
		// declared size alone.
		mem := alignedBuffer(min(cap(d.mem)+cap(d.mem)/2, need+align))
		d.slide(mem, left)
		d.mem = mem
	case cap(d.mem)-len(m.buf) < min(max(need-left, cap(d.mem)/4), cap(d.mem)/2):
		d.slide(d.mem, left)
	}
	w := len(m.buf)
	end := cap(d.mem)
	if r := w % align; r != 0 {
		// A short read left the end unaligned: a small read puts it back.
		end = w + align - r
	}
	for range maxEmptyReads {
		n, err := d.r.Read(d.mem[w:end])
		m.buf, d.full = d.mem[:w+n], n == end-w && n >= cap(d.mem)/4
		if err != nil {
			if err == io.EOF {
				d.eof = true
			} else {
				d.rerr = err
			}
			return
		}
		if n > 0 {
			return
		}
	}
	d.rerr = io.ErrNoProgress
}

// slide moves the left undecoded bytes to the front of mem, at the offset
// that makes their end, where the next read lands, 64-byte aligned.
func (d *Decoder) slide(mem []byte, left int) {
	m := &d.m
	at := (align - left%align) % align
	copy(mem[at:at+left], m.buf[m.pos:])
	m.base += int64(m.pos - at)
	m.buf, m.pos = mem[:at+left], at
}

// alignedBuffer returns a buffer of size bytes whose first byte is 64-byte
// aligned, with capacity size.
func alignedBuffer(size int) []byte {
	size = (size + align - 1) &^ (align - 1)
	b := make([]byte, size+align)
	at := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b)))) & (align - 1)
	return b[at : at : at+size]
}
