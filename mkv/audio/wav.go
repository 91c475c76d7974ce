package audio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// WAVE format tags (RFC 2361 appendix A, and Microsoft's mmreg.h).
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// unknownSize is the RIFF and data size of a file whose length is not
// known when its header is written, as ffmpeg writes to a pipe.
const unknownSize = 0xFFFFFFFF

// wavFormat is the fmt chunk of a WAV file.
type wavFormat struct {
	tag      uint16
	channels uint16
	rate     uint32
	avg      uint32 // nAvgBytesPerSec
	align    uint16 // nBlockAlign
	bits     uint16
	// derived: align is the size of a sample frame, which every frame
	// must be made of (false for a format copied as it is).
	derived bool
	// ext is what follows cbSize (its length is cbSize). A format
	// without one and of tag PCM has the 16-byte PCMWAVEFORMAT.
	ext []byte
	// fact: the file has a fact chunk (every format but PCM, when the
	// sample count can be written at Close).
	fact bool
}

// derive returns the fmt chunk of tag, with the block alignment and byte
// rate the sample format implies.
func derive(tag uint16, channels uint64, rate uint32, bits uint16) (*wavFormat, error) {
	align := channels * uint64(bits) / 8
	switch {
	case channels == 0 || channels > math.MaxUint16:
		return nil, fmt.Errorf("%w: %d channels", ErrFormat, channels)
	case align > math.MaxUint16 || align*uint64(rate) > math.MaxUint32:
		return nil, fmt.Errorf("%w: %d channels of %d bits at %d Hz, more than a WAV header can describe", ErrFormat, channels, bits, rate)
	}
	return &wavFormat{tag: tag, channels: uint16(channels), rate: rate, avg: rate * uint32(align), align: uint16(align), bits: bits, derived: true, fact: tag != tagPCM}, nil
}

// pcmFormat returns the fmt chunk of an A_PCM track: PCM or IEEE float of
// its BitDepth, WAVE_FORMAT_EXTENSIBLE when Microsoft's rules want it
// ("Multiple channel audio data and WAVE files": more than 2 channels, or
// integer samples of more than 16 bits).
func pcmFormat(t *mkv.Track) (*wavFormat, error) {
	hz, err := rate(t.SamplingRate)
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	channels := max(t.Channels, mkv.DefaultChannels)
	tag := uint16(tagPCM)
	bits := t.BitDepth
	if t.CodecID == CodecPCMFloat {
		tag = tagFloat
		if bits == 0 {
			bits = 32 // as ffmpeg reads a float track without BitDepth
		}
		if bits != 32 && bits != 64 {
			return nil, &FormatError{Err: fmt.Errorf("%w: %s of BitDepth %d, not 32 or 64", ErrFormat, t.CodecID, bits)}
		}
	} else if bits == 0 || bits%8 != 0 || bits > 32 {
		return nil, &FormatError{Err: fmt.Errorf("%w: %s of BitDepth %d, not 8, 16, 24 or 32", ErrFormat, t.CodecID, bits)}
	}
	f, err := derive(tag, channels, hz, uint16(bits))
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	if channels > 2 || tag == tagPCM && bits > 16 {
		// WAVEFORMATEXTENSIBLE: wValidBitsPerSample, dwChannelMask (0:
		// Matroska says nothing of the speakers), SubFormat (the format
		// tag in the KSDATAFORMAT_SUBTYPE GUID).
		f.ext = binary.LittleEndian.AppendUint16(nil, f.bits)
		f.ext = binary.LittleEndian.AppendUint32(f.ext, 0)
		f.ext = binary.LittleEndian.AppendUint32(f.ext, uint32(tag))
		f.ext = append(f.ext, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
		f.tag, f.fact = tagExtensible, true
	}
	return f, nil
}

func badWaveFormat(offset int, format string, args ...any) *CodecPrivateError {
	return &CodecPrivateError{Offset: offset, Err: fmt.Errorf("%w: WAVEFORMATEX "+format, append([]any{ErrCodecPrivate}, args...)...)}
}

// parseWaveFormatEx reads the WAVEFORMATEX of an A_MS/ACM track (or the
// 16-byte PCMWAVEFORMAT, without cbSize). For the formats it knows it
// derives the block alignment and byte rate from the format tag, rate and
// channels, and ignores the producer's: AWS's C producer SDK writes 8 kHz
// mono G.711 with an nAvgBytesPerSec of 1000 and a wBitsPerSample of 0.
// Other formats are copied as they are.
func parseWaveFormatEx(b []byte) (*wavFormat, error) {
	if len(b) < 16 {
		return nil, badWaveFormat(len(b), "of %d bytes, shorter than 16", len(b))
	}
	le := binary.LittleEndian
	tag, channels, hz, bits := le.Uint16(b), le.Uint16(b[2:]), le.Uint32(b[4:]), le.Uint16(b[14:])
	var ext []byte
	if len(b) >= 18 {
		cb := int(le.Uint16(b[16:]))
		if cb > len(b)-18 {
			return nil, badWaveFormat(16, "cbSize %d overruns the %d bytes after the structure", cb, len(b)-18)
		}
		ext = b[18 : 18+cb]
	}
	switch {
	case channels == 0:
		return nil, badWaveFormat(2, "of 0 channels")
	case hz == 0:
		return nil, badWaveFormat(4, "of sampling rate 0")
	}
	var f *wavFormat
	var err error
	switch tag {
	case tagPCM:
		if bits == 0 || bits%8 != 0 {
			return nil, badWaveFormat(14, "of PCM of %d bits per sample", bits)
		}
		f, err = derive(tag, uint64(channels), hz, bits)
	case tagFloat:
		if bits != 32 && bits != 64 {
			return nil, badWaveFormat(14, "of IEEE float of %d bits per sample", bits)
		}
		f, err = derive(tag, uint64(channels), hz, bits)
	case tagALaw, tagMuLaw:
		f, err = derive(tag, uint64(channels), hz, 8)
	default:
		return &wavFormat{tag: tag, channels: channels, rate: hz, avg: le.Uint32(b[8:]), align: le.Uint16(b[12:]), bits: bits, ext: ext}, nil
	}
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	return f, nil
}

// header returns the file's header, RIFF and data sizes unknown, and the
// position of its fact chunk (0 when it has none: a format that does not
// need one, or a file that cannot seek, as ffmpeg writes to a pipe).
func (f *wavFormat) header(seekable bool) ([]byte, int) {
	le := binary.LittleEndian
	b := append([]byte("RIFF"), 0xFF, 0xFF, 0xFF, 0xFF)
	b = append(b, "WAVEfmt "...)
	size := 18 + len(f.ext)
	if f.tag == tagPCM && f.ext == nil {
		size = 16
	}
	b = le.AppendUint32(b, uint32(size))
	b = le.AppendUint16(b, f.tag)
	b = le.AppendUint16(b, f.channels)
	b = le.AppendUint32(b, f.rate)
	b = le.AppendUint32(b, f.avg)
	b = le.AppendUint16(b, f.align)
	b = le.AppendUint16(b, f.bits)
	if size > 16 {
		b = le.AppendUint16(b, uint16(len(f.ext)))
		b = append(b, f.ext...)
		if size%2 == 1 {
			b = append(b, 0) // chunks are padded to an even size
		}
	}
	factAt := 0
	if f.fact && seekable {
		factAt = len(b)
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, unknownSize)
	}
	b = append(b, "data"...)
	return le.AppendUint32(b, unknownSize), factAt
}
