package audio

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// Matroska codec IDs this package converts.
const (
	CodecPCMLittle = "A_PCM/INT/LIT"
	CodecPCMBig    = "A_PCM/INT/BIG"
	CodecPCMFloat  = "A_PCM/FLOAT/IEEE"
	CodecACM       = "A_MS/ACM"
	CodecAAC       = "A_AAC"
)

// Errors of input this package cannot convert. Test for them with
// errors.Is.
var (
	ErrCodec        = errors.New("audio: codec not converted")
	ErrCodecPrivate = errors.New("audio: malformed CodecPrivate")
	ErrFormat       = errors.New("audio: unusable audio format")
	ErrFrame        = errors.New("audio: malformed frame")
	ErrClosed       = errors.New("audio: write after Close")
)

// CodecError is a track whose codec this package does not convert. It
// wraps ErrCodec.
type CodecError struct {
	// Track is the track's number.
	Track   uint64
	CodecID string
}

func (e *CodecError) Error() string {
	return fmt.Sprintf("audio: %scodec %q is not PCM (A_PCM/*), A_MS/ACM or A_AAC", trackPrefix(e.Track), e.CodecID)
}

// Unwrap returns ErrCodec.
func (e *CodecError) Unwrap() error { return ErrCodec }

// CodecPrivateError is a WAVEFORMATEX (A_MS/ACM) or AudioSpecificConfig
// (A_AAC) that cannot be used: cut short, inconsistent, or describing
// what the output format cannot carry.
type CodecPrivateError struct {
	// Track is the track's number.
	Track uint64
	// Offset is the position in CodecPrivate of the field at fault.
	Offset int
	// Err wraps ErrCodecPrivate with what is wrong.
	Err error
}

func (e *CodecPrivateError) Error() string {
	return fmt.Sprintf("audio: %scodec private offset %d: %s", trackPrefix(e.Track), e.Offset, strings.TrimPrefix(e.Err.Error(), "audio: "))
}

// Unwrap returns the cause, so that errors.Is(err, ErrCodecPrivate) works.
func (e *CodecPrivateError) Unwrap() error { return e.Err }

// FormatError is a track whose audio settings no WAV file can have: PCM
// without a BitDepth or of a BitDepth that is not whole bytes, a sampling
// rate that is not a whole number of Hz, too many channels.
type FormatError struct {
	// Track is the track's number.
	Track uint64
	// Err wraps ErrFormat with what is wrong.
	Err error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("audio: %s%s", trackPrefix(e.Track), strings.TrimPrefix(e.Err.Error(), "audio: "))
}

// Unwrap returns the cause, so that errors.Is(err, ErrFormat) works.
func (e *FormatError) Unwrap() error { return e.Err }

// FrameError is a frame that cannot be written: PCM that ends inside a
// sample, an AAC frame that is empty or too long for an ADTS header.
type FrameError struct {
	// Track is the track's number.
	Track uint64
	// Frame is the frame's index among those given to the Writer, from 0.
	Frame int
	// Offset is the position in the frame of the fault.
	Offset int64
	// Err wraps ErrFrame with what is wrong.
	Err error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("audio: %sframe %d, offset %d: %s", trackPrefix(e.Track), e.Frame, e.Offset, strings.TrimPrefix(e.Err.Error(), "audio: "))
}

// Unwrap returns the cause, so that errors.Is(err, ErrFrame) works.
func (e *FrameError) Unwrap() error { return e.Err }

func trackPrefix(track uint64) string {
	if track == 0 {
		return ""
	}
	return fmt.Sprintf("track %d, ", track)
}

// Ext returns the file name extension of what a codec becomes: ".wav" for
// PCM and A_MS/ACM, ".aac" (ADTS) for A_AAC. Another codec is a
// *CodecError.
func Ext(codecID string) (string, error) {
	switch codecID {
	case CodecPCMLittle, CodecPCMBig, CodecPCMFloat, CodecACM:
		return ".wav", nil
	case CodecAAC:
		return ".aac", nil
	}
	return "", &CodecError{CodecID: codecID}
}

// Writer writes the frames of one audio track as a WAV or ADTS file.
type Writer struct {
	w      io.Writer
	seeker io.WriteSeeker // nil when w cannot seek
	start  int64          // the header's position in seeker
	track  uint64
	frames int
	buf    []byte
	err    error
	closed bool

	// WAV
	header []byte // as written, sizes unknown
	align  int    // bytes per sample frame (all channels); 0: not checked
	swap   int    // bytes per sample to reverse (A_PCM/INT/BIG), 0 for none
	factAt int    // position of the fact chunk in header, 0 when none
	data   int64  // bytes of the data chunk written

	// ADTS
	adts []byte // the header of every frame, frame_length 0
}

// NewWriter returns a Writer of track t's frames to w and, for WAV,
// writes the file's header. A Track's SamplingRate or Channels of 0 mean
// Matroska's defaults, 8000 Hz and 1 channel.
//
// When w is an io.WriteSeeker whose Seek works (a file), Close writes the
// WAV sizes there; otherwise (a pipe) they stay unknown. A codec the
// package does not convert is a *CodecError; unusable settings a
// *CodecPrivateError or a *FormatError.
func NewWriter(w io.Writer, t *mkv.Track) (*Writer, error) {
	a := &Writer{w: w, track: t.Number}
	var (
		f   *wavFormat
		err error
	)
	switch t.CodecID {
	case CodecPCMLittle, CodecPCMBig, CodecPCMFloat:
		f, err = pcmFormat(t)
		if err == nil && t.CodecID == CodecPCMBig && f.bits > 8 {
			a.swap = int(f.bits / 8)
		}
	case CodecACM:
		f, err = parseWaveFormatEx(t.CodecPrivate)
	case CodecAAC:
		a.adts, err = parseASC(t.CodecPrivate)
	default:
		err = &CodecError{CodecID: t.CodecID}
	}
	if err != nil {
		return nil, a.withTrack(err)
	}
	if a.adts != nil {
		return a, nil
	}
	if s, ok := w.(io.WriteSeeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			a.seeker, a.start = s, pos
		}
	}
	if f.derived {
		a.align = int(f.align)
	}
	a.header, a.factAt = f.header(a.seeker != nil)
	if _, err := w.Write(a.header); err != nil {
		return nil, err
	}
	return a, nil
}

// withTrack sets the track number of the package's errors.
func (a *Writer) withTrack(err error) error {
	var (
		ce  *CodecError
		cpe *CodecPrivateError
		fe  *FormatError
	)
	switch {
	case errors.As(err, &ce):
		ce.Track = a.track
	case errors.As(err, &cpe):
		cpe.Track = a.track
	case errors.As(err, &fe):
		fe.Track = a.track
	}
	return err
}

// WriteFrame writes one frame of the track: its samples (byte-swapped for
// A_PCM/INT/BIG), or one ADTS header and the AAC frame. The frame is not
// kept. A frame that cannot be written is a *FrameError, and nothing of it
// is written.
func (a *Writer) WriteFrame(frame []byte) error {
	index := a.frames
	a.frames++
	switch {
	case a.closed:
		return ErrClosed
	case a.err != nil:
		return a.err
	}
	out := frame
	switch {
	case a.adts != nil:
		n := adtsHeaderSize + len(frame)
		if len(frame) == 0 {
			return a.badFrame(index, 0, "empty AAC frame")
		}
		if n > maxADTSFrame {
			return a.badFrame(index, maxADTSFrame-adtsHeaderSize, "AAC frame of %d bytes, longer than ADTS's %d", len(frame), maxADTSFrame-adtsHeaderSize)
		}
		out = append(append(a.buf[:0], a.adts...), frame...)
		out[3] |= byte(n >> 11)
		out[4] = byte(n >> 3)
		out[5] |= byte(n << 5)
		a.buf = out
	case a.align > 0 && len(frame)%a.align != 0:
		whole := len(frame) - len(frame)%a.align
		return a.badFrame(index, whole, "%d-byte frame ends inside a %d-byte sample frame", len(frame), a.align)
	case a.swap > 0:
		out = append(a.buf[:0], frame...)
		for i := 0; i < len(out); i += a.swap {
			s := out[i : i+a.swap]
			for j, k := 0, len(s)-1; j < k; j, k = j+1, k-1 {
				s[j], s[k] = s[k], s[j]
			}
		}
		a.buf = out
	}
	n, err := a.w.Write(out)
	if a.adts == nil {
		a.data += int64(n)
	}
	a.err = err
	return err
}

func (a *Writer) badFrame(index, off int, format string, args ...any) error {
	return &FrameError{Track: a.track, Frame: index, Offset: int64(off),
		Err: fmt.Errorf("%w: "+format, append([]any{ErrFrame}, args...)...)}
}

// Close ends the file. When the Writer's io.Writer can seek, it writes
// the WAV sizes into the header (they stay unknown past 4 GiB), then
// returns to the file's end; otherwise, and for ADTS, it writes nothing.
// It does not close the io.Writer.
func (a *Writer) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	if a.err != nil || a.seeker == nil || a.adts != nil {
		return a.err
	}
	// RIFF chunks are padded to an even size (the pad is not counted in
	// the data chunk's size).
	pad := a.data & 1
	if pad == 1 {
		if _, err := a.w.Write([]byte{0}); err != nil {
			return err
		}
	}
	riff := int64(len(a.header)) - 8 + a.data + pad
	if riff <= math.MaxUint32 {
		patches := [][2]int64{{4, riff}, {int64(len(a.header)) - 4, a.data}} // position in the header, value
		if a.factAt > 0 {
			patches = append(patches, [2]int64{int64(a.factAt) + 8, a.data / int64(a.align)})
		}
		for _, p := range patches {
			if _, err := a.seeker.Seek(a.start+p[0], io.SeekStart); err != nil {
				return err
			}
			if _, err := a.w.Write(binary.LittleEndian.AppendUint32(nil, uint32(p[1]))); err != nil {
				return err
			}
		}
	}
	_, err := a.seeker.Seek(a.start+int64(len(a.header))+a.data+pad, io.SeekStart)
	return err
}

// rate returns a sampling rate in Hz as a WAV header holds it: a whole
// number, 8000 when 0 (Matroska's default).
func rate(hz float64) (uint32, error) {
	hz = cmp.Or(hz, mkv.DefaultSamplingRate)
	if hz != math.Trunc(hz) || hz < 1 || hz > math.MaxUint32 {
		return 0, fmt.Errorf("%w: sampling rate %g Hz is not a whole number of Hz that WAV can hold", ErrFormat, hz)
	}
	return uint32(hz), nil
}
