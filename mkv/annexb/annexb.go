// Package annexb turns the frames of Matroska's H.264 and H.265 tracks
// (V_MPEG4/ISO/AVC and V_MPEGH/ISO/HEVC: NAL units prefixed by their length,
// parameter sets in CodecPrivate as avcC or hvcC, ISO/IEC 14496-15) into an
// Annex-B elementary stream (ISO/IEC 14496-10 Annex B: NAL units after
// 00 00 00 01 start codes, parameter sets in band) that decoders such as
// ffmpeg read directly. It writes frame by frame, so it can sit behind a
// streaming reader without holding a fragment.
package annexb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Matroska codec IDs this package converts.
const (
	CodecAVC  = "V_MPEG4/ISO/AVC"
	CodecHEVC = "V_MPEGH/ISO/HEVC"
)

// Errors of malformed input.
var (
	ErrCodec        = errors.New("annexb: codec is not H.264 or H.265")
	ErrCodecPrivate = errors.New("annexb: malformed avcC/hvcC")
	ErrFrame        = errors.New("annexb: malformed length-prefixed frame")
)

var startCode = []byte{0, 0, 0, 1}

// Config is what CodecPrivate says of a track: the length of the NAL unit
// size fields and the parameter sets (VPS, SPS, PPS), in order.
type Config struct {
	LengthSize int
	ParamSets  [][]byte
	HEVC       bool
}

// ParseCodecPrivate reads an avcC (H.264) or hvcC (H.265) record.
func ParseCodecPrivate(codecID string, cp []byte) (*Config, error) {
	switch codecID {
	case CodecAVC:
		return parseAVCC(cp)
	case CodecHEVC:
		return parseHVCC(cp)
	}
	return nil, fmt.Errorf("%w: %q", ErrCodec, codecID)
}

// parseAVCC reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// section 5.3.3.1).
func parseAVCC(b []byte) (*Config, error) {
	if len(b) < 7 || b[0] != 1 {
		return nil, ErrCodecPrivate
	}
	c := &Config{LengthSize: int(b[4]&3) + 1}
	p, err := c.paramSets(b[6:], int(b[5]&0x1F)) // the SPS
	if err != nil || len(p) < 1 {
		return nil, ErrCodecPrivate
	}
	if _, err := c.paramSets(p[1:], int(p[0])); err != nil { // the PPS
		return nil, err
	}
	return c, nil
}

// paramSets reads n parameter sets, each after its 16-bit length, and
// returns what follows them.
func (c *Config) paramSets(p []byte, n int) ([]byte, error) {
	for range n {
		if len(p) < 2 {
			return nil, ErrCodecPrivate
		}
		l := int(binary.BigEndian.Uint16(p))
		if len(p) < 2+l {
			return nil, ErrCodecPrivate
		}
		c.ParamSets = append(c.ParamSets, p[2:2+l])
		p = p[2+l:]
	}
	return p, nil
}

// parseHVCC reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// section 8.3.3.1).
func parseHVCC(b []byte) (*Config, error) {
	if len(b) < 23 || b[0] != 1 {
		return nil, ErrCodecPrivate
	}
	c := &Config{LengthSize: int(b[21]&3) + 1, HEVC: true}
	arrays := int(b[22])
	p := b[23:]
	for range arrays {
		if len(p) < 3 {
			return nil, ErrCodecPrivate
		}
		var err error
		if p, err = c.paramSets(p[3:], int(binary.BigEndian.Uint16(p[1:]))); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Writer writes frames of one track as an Annex-B stream.
type Writer struct {
	w   io.Writer
	cfg *Config
	buf []byte
}

// NewWriter returns a Writer for a track with the given codec ID and
// CodecPrivate.
func NewWriter(w io.Writer, codecID string, codecPrivate []byte) (*Writer, error) {
	cfg, err := ParseCodecPrivate(codecID, codecPrivate)
	if err != nil {
		return nil, err
	}
	return &Writer{w: w, cfg: cfg}, nil
}

// WriteFrame writes one frame: its NAL units after start codes, preceded,
// when keyframe is set, by the track's parameter sets, so that a decoder can
// start at any keyframe. The frame is not kept.
func (a *Writer) WriteFrame(frame []byte, keyframe bool) error {
	buf := a.buf[:0]
	if keyframe {
		for _, ps := range a.cfg.ParamSets {
			buf = append(append(buf, startCode...), ps...)
		}
	}
	ls := a.cfg.LengthSize
	for p := frame; len(p) > 0; {
		if len(p) < ls {
			return ErrFrame
		}
		var n int
		for _, c := range p[:ls] {
			n = n<<8 | int(c)
		}
		p = p[ls:]
		if n > len(p) || n == 0 {
			return ErrFrame
		}
		buf = append(append(buf, startCode...), p[:n]...)
		p = p[n:]
	}
	a.buf = buf
	_, err := a.w.Write(buf)
	return err
}
