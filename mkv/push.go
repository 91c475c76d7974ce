package mkv

import (
	"errors"
	"io"
)

// errClosed is returned by a PushDecoder used after Close.
var errClosed = errors.New("mkv: write after close")

// PushDecoder decodes Matroska from chunks of bytes that the caller pushes
// with Write, of any size and cut anywhere, and calls a handler for each
// event as soon as its element is complete. It shares Decoder's state
// machine and gives the same events; it starts no goroutine.
//
// Bytes of an element cut across two Writes are copied into an internal
// buffer, up to the maximum element size; everything else is decoded in
// place, in the slice passed to Write.
type PushDecoder struct {
	m       machine
	handle  func(*Event) error
	pending []byte // the start of an element cut off at the end of a Write
	need    int    // bytes from pending's start that the machine needs
	done    bool
}

// NewPushDecoder returns a PushDecoder that calls handle for every event.
// The Event and the slices it holds are valid only until handle returns.
// An error from handle stops decoding and is returned by Write or Close.
func NewPushDecoder(handle func(*Event) error, opts ...Option) *PushDecoder {
	p := &PushDecoder{handle: handle}
	p.m.init(opts)
	return p
}

// Write decodes p, calling the handler for every event it completes. It
// returns len(p) and nil, or the first error: a *SyntaxError for malformed
// input or the handler's error. Errors are final.
func (p *PushDecoder) Write(b []byte) (int, error) {
	if p.done {
		return 0, errClosed
	}
	if p.m.err != nil {
		return 0, p.m.err
	}
	n := len(b)
	m := &p.m
	for len(b) > 0 {
		if len(p.pending) > 0 {
			// Complete the cut element with just the bytes it needs; once
			// it is decoded the rest of b is decoded in place.
			k := min(len(b), p.need-len(p.pending))
			if len(p.pending)+k > cap(p.pending) {
				// Grow with the bytes that arrive, by half, up to what
				// the element needs (the machine checked that against
				// the maximum element size): never from a declared size
				// alone.
				size := min(max(cap(p.pending)+cap(p.pending)/2, len(p.pending)+k, 4<<10), p.need)
				p.pending = append(make([]byte, 0, size), p.pending...)
			}
			p.pending = append(p.pending, b[:k]...)
			b = b[k:]
			m.buf, m.pos = p.pending, 0
			if err := p.run(false); err != nil {
				return n - len(b), err
			}
			p.keep()
			continue
		}
		m.buf, m.pos = b, 0
		b = nil
		if err := p.run(false); err != nil {
			return n, err
		}
		p.keep()
	}
	return n, nil
}

// Close tells the decoder that the input has ended. It delivers the ends of
// the open unknown-size masters and returns nil at a clean end, or a
// *SyntaxError with errors.Is(err, io.ErrUnexpectedEOF) if the input stopped
// inside an element.
func (p *PushDecoder) Close() error {
	if p.done {
		return nil
	}
	p.done = true
	if p.m.err != nil {
		return p.m.err
	}
	p.m.buf, p.m.pos = p.pending, 0
	err := p.run(true)
	p.pending = p.pending[:0]
	if err == io.EOF {
		return nil
	}
	return err
}

// InputOffset returns the stream offset of the first byte not yet decoded.
func (p *PushDecoder) InputOffset() int64 { return p.m.offset() }

// run steps the machine over m.buf, calling the handler for each event,
// until the machine needs more input or fails.
func (p *PushDecoder) run(eof bool) error {
	m := &p.m
	for {
		need, err := m.step(eof)
		if err != nil {
			return err
		}
		if need > 0 {
			m.flushCRC()
			p.need = need
			return nil
		}
		if err := p.handle(&m.ev); err != nil {
			m.err = err
			return err
		}
	}
}

// keep saves the undecoded end of m.buf in pending, where the next Write
// completes it. When m.buf is pending and nothing of it was decoded, it is
// already in place: copying it again would make pushing a large element in
// small chunks quadratic.
func (p *PushDecoder) keep() {
	m := &p.m
	rest := m.buf[m.pos:]
	m.base += int64(m.pos)
	switch {
	case len(rest) == 0:
		p.pending = p.pending[:0]
	case m.pos > 0 || len(p.pending) == 0 || &rest[0] != &p.pending[0]:
		p.pending = append(p.pending[:0], rest...)
	}
	m.buf, m.pos = nil, 0
}
