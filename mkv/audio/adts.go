package audio

import "fmt"

// ADTS (ISO/IEC 14496-3 section 1.A.2.2): a 7-byte header without CRC,
// whose 13-bit frame_length counts the header.
const (
	adtsHeaderSize = 7
	maxADTSFrame   = 1<<13 - 1
)

// Audio object types (ISO/IEC 14496-3 table 1.1) that parseASC reads
// through: SBR and PS signalled explicitly carry the core's type after
// them.
const (
	aotSBR = 5
	aotPS  = 29
)

// adtsRates are the rates of sampling_frequency_index 0 to 12 (ISO/IEC
// 14496-3 table 1.18).
var adtsRates = [...]uint32{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// bitReader reads the big-endian bit fields of an AudioSpecificConfig.
type bitReader struct {
	b   []byte
	pos int // in bits
	ok  bool
}

func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		if r.pos >= 8*len(r.b) {
			r.ok = false
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func badASC(offset int, format string, args ...any) *CodecPrivateError {
	return &CodecPrivateError{Offset: offset, Err: fmt.Errorf("%w: AudioSpecificConfig "+format, append([]any{ErrCodecPrivate}, args...)...)}
}

// objectType reads an audioObjectType, with its escape (ISO/IEC 14496-3
// section 1.6.2.1).
func (r *bitReader) objectType() uint32 {
	if aot := r.u(5); aot != 31 {
		return aot
	}
	return 32 + r.u(6)
}

// rateIndex reads a samplingFrequencyIndex; an explicit 24-bit frequency
// (index 15) becomes the index of the same rate, or is an error, ADTS
// having no field for it.
func (r *bitReader) rateIndex() (uint32, error) {
	at := r.pos / 8
	i := r.u(4)
	if i != 15 {
		return i, nil
	}
	hz := r.u(24)
	for k, v := range adtsRates {
		if v == hz {
			return uint32(k), nil
		}
	}
	if !r.ok {
		return 0, nil
	}
	return 0, badASC(at, "explicit sampling frequency %d Hz, which ADTS has no index for", hz)
}

// parseASC reads the AudioSpecificConfig of an A_AAC track and returns
// the ADTS header of its frames, frame_length 0. SBR and PS signalled
// explicitly are read through to the core object type and rate, as ADTS
// carries them (a decoder finds the SBR data in the frames).
func parseASC(b []byte) ([]byte, error) {
	r := &bitReader{b: b, ok: true}
	aot := r.objectType()
	rateAt := r.pos / 8
	sfi, err := r.rateIndex()
	if err != nil {
		return nil, err
	}
	chanAt := r.pos / 8
	channels := r.u(4)
	if aot == aotSBR || aot == aotPS {
		if _, err := r.rateIndex(); err != nil { // extensionSamplingFrequencyIndex
			return nil, err
		}
		aot = r.objectType()
	}
	if !r.ok {
		return nil, badASC(len(b), "of %d bytes, cut off", len(b))
	}
	switch {
	case aot < 1 || aot > 4:
		return nil, badASC(0, "of audio object type %d; ADTS has profiles for types 1 to 4 (Main, LC, SSR, LTP)", aot)
	case sfi > 12:
		return nil, badASC(rateAt, "sampling frequency index %d is reserved", sfi)
	case channels == 0 || channels > 7:
		return nil, badASC(chanAt, "channel configuration %d; ADTS carries 1 to 7 (a program config element is not supported)", channels)
	}
	// GASpecificConfig (section 4.4.1), when present: ADTS frames have
	// 1024 samples and no core coder.
	flagsAt := r.pos / 8
	if frameLength := r.u(1); r.ok && frameLength == 1 {
		return nil, badASC(flagsAt, "of 960-sample frames (frameLengthFlag), which ADTS cannot signal")
	}
	if core := r.u(1); r.ok && core == 1 {
		return nil, badASC(flagsAt, "depends on a core coder (dependsOnCoreCoder), which ADTS cannot signal")
	}
	// syncword, MPEG-4, layer 0, no CRC; profile (object type - 1),
	// sampling_frequency_index, channel_configuration; buffer fullness
	// 0x7FF (variable rate); one raw_data_block.
	return []byte{0xFF, 0xF1, byte(aot-1)<<6 | byte(sfi)<<2 | byte(channels>>2), byte(channels&3) << 6, 0, 0x1F, 0xFC}, nil
}
