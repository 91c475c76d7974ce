// Package annexb turns the frames of Matroska's H.264 and H.265 tracks
// (V_MPEG4/ISO/AVC and V_MPEGH/ISO/HEVC: NAL units prefixed by their length,
// parameter sets in CodecPrivate as avcC or hvcC, ISO/IEC 14496-15) into an
// Annex-B elementary stream (ISO/IEC 14496-10 Annex B: NAL units after
// 00 00 00 01 start codes, parameter sets in band) that decoders such as
// ffmpeg read directly. It writes frame by frame, so it can sit behind a
// streaming reader without holding a fragment.
//
// Malformed input is a *CodecPrivateError or a *FrameError, which say where
// (track, frame, byte offset) and wrap ErrCodecPrivate or ErrFrame.
package annexb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Matroska codec IDs this package converts.
const (
	CodecAVC  = "V_MPEG4/ISO/AVC"
	CodecHEVC = "V_MPEGH/ISO/HEVC"
)

// Errors of malformed input. Test for them with errors.Is.
var (
	ErrCodec        = errors.New("annexb: codec is not H.264 or H.265")
	ErrCodecPrivate = errors.New("annexb: malformed avcC/hvcC")
	ErrFrame        = errors.New("annexb: malformed length-prefixed frame")
)

// CodecPrivateError is an avcC or hvcC record that cannot be used: cut
// short, or without the parameter sets a decoder needs.
type CodecPrivateError struct {
	// Track is the track number given with WithTrack, or 0.
	Track uint64
	// Offset is the position in the record where the fault is.
	Offset int
	// Err wraps ErrCodecPrivate with what is wrong.
	Err error
}

func (e *CodecPrivateError) Error() string {
	return fmt.Sprintf("annexb: %scodec private offset %d: %s", trackPrefix(e.Track), e.Offset, strings.TrimPrefix(e.Err.Error(), "annexb: "))
}

// Unwrap returns the cause, so that errors.Is(err, ErrCodecPrivate) works.
func (e *CodecPrivateError) Unwrap() error { return e.Err }

// FrameError is a frame that is not a sequence of length-prefixed NAL units.
type FrameError struct {
	// Track is the track number given with WithTrack, or 0.
	Track uint64
	// Frame is the frame's index among those given to the Writer, from 0.
	Frame int
	// Offset is the position in the frame of the length field at fault.
	Offset int64
	// Err wraps ErrFrame with what is wrong.
	Err error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("annexb: %sframe %d, offset %d: %s", trackPrefix(e.Track), e.Frame, e.Offset, strings.TrimPrefix(e.Err.Error(), "annexb: "))
}

// Unwrap returns the cause, so that errors.Is(err, ErrFrame) works.
func (e *FrameError) Unwrap() error { return e.Err }

func trackPrefix(track uint64) string {
	if track == 0 {
		return ""
	}
	return fmt.Sprintf("track %d, ", track)
}

var startCode = []byte{0, 0, 0, 1}

// HEVC NAL unit types of the parameter sets (ISO/IEC 23008-2 table 7-1).
const (
	hevcVPS = 32
	hevcSPS = 33
	hevcPPS = 34
)

// Config is what CodecPrivate says of a track: the length of the NAL unit
// size fields and the parameter sets (VPS, SPS, PPS), in order.
type Config struct {
	LengthSize int
	ParamSets  [][]byte
	HEVC       bool
}

// ParseCodecPrivate reads an avcC (H.264) or hvcC (H.265) record. It
// requires the parameter sets a decoder cannot start without: at least one
// SPS and one PPS, and for H.265 a VPS too. Its errors are *CodecPrivateError
// (or ErrCodec for another codec).
func ParseCodecPrivate(codecID string, cp []byte) (*Config, error) {
	switch codecID {
	case CodecAVC:
		return parseAVCC(cp)
	case CodecHEVC:
		return parseHVCC(cp)
	}
	return nil, fmt.Errorf("%w: %q", ErrCodec, codecID)
}

func badRecord(offset int, format string, args ...any) *CodecPrivateError {
	return &CodecPrivateError{Offset: offset, Err: fmt.Errorf("%w: "+format, append([]any{ErrCodecPrivate}, args...)...)}
}

// parseAVCC reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// section 5.3.3.1).
func parseAVCC(b []byte) (*Config, error) {
	switch {
	case len(b) < 7:
		return nil, badRecord(len(b), "avcC of %d bytes, shorter than its 7-byte header", len(b))
	case b[0] != 1:
		return nil, badRecord(0, "avcC version %d, want 1", b[0])
	case b[5]&0x1F == 0:
		return nil, badRecord(5, "avcC without an SPS")
	}
	c := &Config{LengthSize: int(b[4]&3) + 1}
	off, err := c.paramSets(b, 6, int(b[5]&0x1F)) // the SPS
	if err != nil {
		return nil, err
	}
	if off >= len(b) || b[off] == 0 {
		return nil, badRecord(off, "avcC without a PPS")
	}
	if _, err := c.paramSets(b, off+1, int(b[off])); err != nil { // the PPS
		return nil, err
	}
	return c, nil
}

// paramSets reads n parameter sets of record b from offset off, each after
// its 16-bit length, and returns the offset that follows them.
func (c *Config) paramSets(b []byte, off, n int) (int, error) {
	for range n {
		if len(b)-off < 2 {
			return 0, badRecord(off, "parameter set length cut off at the end of the record (%d bytes)", len(b))
		}
		l := int(binary.BigEndian.Uint16(b[off:]))
		if l == 0 {
			return 0, badRecord(off, "empty parameter set")
		}
		if len(b)-off-2 < l {
			return 0, badRecord(off, "parameter set of %d bytes past the end of the record (%d bytes)", l, len(b))
		}
		c.ParamSets = append(c.ParamSets, b[off+2:off+2+l])
		off += 2 + l
	}
	return off, nil
}

// parseHVCC reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// section 8.3.3.1).
func parseHVCC(b []byte) (*Config, error) {
	switch {
	case len(b) < 23:
		return nil, badRecord(len(b), "hvcC of %d bytes, shorter than its 23-byte header", len(b))
	case b[0] != 1:
		return nil, badRecord(0, "hvcC version %d, want 1", b[0])
	}
	c := &Config{LengthSize: int(b[21]&3) + 1, HEVC: true}
	seen := map[byte]bool{}
	off := 23
	for range int(b[22]) {
		if len(b)-off < 3 {
			return nil, badRecord(off, "NAL unit array cut off at the end of the record (%d bytes)", len(b))
		}
		typ, n := b[off]&0x3F, int(binary.BigEndian.Uint16(b[off+1:]))
		var err error
		if off, err = c.paramSets(b, off+3, n); err != nil {
			return nil, err
		}
		seen[typ] = seen[typ] || n > 0
	}
	for _, p := range []struct {
		typ  byte
		name string
	}{{hevcVPS, "VPS"}, {hevcSPS, "SPS"}, {hevcPPS, "PPS"}} {
		if !seen[p.typ] {
			return nil, badRecord(22, "hvcC without a %s", p.name)
		}
	}
	return c, nil
}

// Option configures a Writer.
type Option func(*Writer)

// WithTrack names the track the Writer writes, so that its errors say
// which.
func WithTrack(number uint64) Option { return func(a *Writer) { a.track = number } }

// Writer writes frames of one track as an Annex-B stream.
type Writer struct {
	w      io.Writer
	cfg    *Config
	buf    []byte
	track  uint64
	frames int
}

// NewWriter returns a Writer for a track with the given codec ID and
// CodecPrivate, which must hold the parameter sets (see ParseCodecPrivate).
func NewWriter(w io.Writer, codecID string, codecPrivate []byte, opts ...Option) (*Writer, error) {
	a := &Writer{w: w}
	for _, o := range opts {
		o(a)
	}
	cfg, err := ParseCodecPrivate(codecID, codecPrivate)
	if cpe := (*CodecPrivateError)(nil); errors.As(err, &cpe) {
		cpe.Track = a.track
	}
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	return a, nil
}

// WriteFrame writes one frame: its NAL units after start codes, preceded,
// when keyframe is set, by the track's parameter sets, so that a decoder can
// start at any keyframe. The frame is not kept. A frame that is not a
// sequence of length-prefixed NAL units is a *FrameError, and nothing of it
// is written.
func (a *Writer) WriteFrame(frame []byte, keyframe bool) error {
	index := a.frames
	a.frames++
	buf := a.buf[:0]
	if keyframe {
		for _, ps := range a.cfg.ParamSets {
			buf = append(append(buf, startCode...), ps...)
		}
	}
	ls := a.cfg.LengthSize
	for off := 0; off < len(frame); {
		p := frame[off:]
		if len(p) < ls {
			return a.badFrame(index, off, "%d-byte NAL unit length cut off at the end of the %d-byte frame", ls, len(frame))
		}
		var n int
		for _, c := range p[:ls] {
			n = n<<8 | int(c)
		}
		switch {
		case n == 0:
			return a.badFrame(index, off, "NAL unit of length 0")
		case n > len(p)-ls:
			return a.badFrame(index, off, "NAL unit of %d bytes past the end of the %d-byte frame", n, len(frame))
		}
		buf = append(append(buf, startCode...), p[ls:ls+n]...)
		off += ls + n
	}
	a.buf = buf
	_, err := a.w.Write(buf)
	return err
}

func (a *Writer) badFrame(index, off int, format string, args ...any) error {
	return &FrameError{Track: a.track, Frame: index, Offset: int64(off),
		Err: fmt.Errorf("%w: "+format, append([]any{ErrFrame}, args...)...)}
}
