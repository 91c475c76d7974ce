package synth

import "fmt"

// AudioConfig describes the AAC-LC audio. The zero value of a field takes
// the default given in its comment.
type AudioConfig struct {
	// SampleRate in Hz, one of the rates of ISO/IEC 14496-3 Table 1.18,
	// 7350 to 96000 (default 48000).
	SampleRate int
	// Channels: 1 to 6, or 8, the layouts of channelConfiguration 1 to 7
	// (default 2).
	Channels int
}

// Defaults of AudioConfig.
const (
	DefaultSampleRate = 48000
	DefaultChannels   = 2
)

// AudioFrameSamples is the number of samples per channel in each frame.
const AudioFrameSamples = 1024

// sampleRates are the rates of samplingFrequencyIndex 0 to 12.
var sampleRates = [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// Syntactic elements of raw_data_block() (14496-3 Table 4.85).
const (
	idSCE = 0 // single_channel_element
	idCPE = 1 // channel_pair_element
	idLFE = 3 // lfe_channel_element
	idEND = 7
)

// channelElements lists the elements of each channelConfiguration, 1 to 7
// (14496-3 Table 1.19).
var channelElements = [...][]int{
	1: {idSCE},
	2: {idCPE},
	3: {idSCE, idCPE},
	4: {idSCE, idCPE, idSCE},
	5: {idSCE, idCPE, idCPE},
	6: {idSCE, idCPE, idCPE, idLFE},
	7: {idSCE, idCPE, idCPE, idCPE, idLFE},
}

// Audio encodes AAC-LC frames of silence: raw_data_blocks whose channels
// have no scale factor bands, so every spectral coefficient is zero.
type Audio struct {
	c     AudioConfig
	asc   []byte
	frame []byte
}

// NewAudio returns an encoder for c, or an error if AAC has no index for
// c's sample rate or no channel configuration for its channel count.
func NewAudio(c AudioConfig) (*Audio, error) {
	if c.SampleRate == 0 {
		c.SampleRate = DefaultSampleRate
	}
	if c.Channels == 0 {
		c.Channels = DefaultChannels
	}
	rateIndex := -1
	for k, r := range sampleRates {
		if r == c.SampleRate {
			rateIndex = k
		}
	}
	if rateIndex < 0 {
		return nil, fmt.Errorf("synth: AAC sample rate %d Hz has no samplingFrequencyIndex", c.SampleRate)
	}
	config := c.Channels
	if config == 8 {
		config = 7
	}
	if config < 1 || config > 7 || c.Channels == 7 {
		return nil, fmt.Errorf("synth: AAC has no channelConfiguration for %d channels", c.Channels)
	}

	// AudioSpecificConfig() (1.6.2.1) with GASpecificConfig() (4.4.1).
	var w bitWriter
	w.u(5, 2) // audioObjectType: AAC LC
	w.u(4, uint64(rateIndex))
	w.u(4, uint64(config))
	w.flag(false) // frameLengthFlag: 1024 samples
	w.flag(false) // dependsOnCoreCoder
	w.flag(false) // extensionFlag
	w.align()
	a := &Audio{c: c, asc: w.buf[:len(w.buf):len(w.buf)]}

	// raw_data_block() (4.4.2.1).
	w = bitWriter{}
	var tags [8]int // next element_instance_tag per element id
	for _, id := range channelElements[config] {
		w.u(3, uint64(id))
		w.u(4, uint64(tags[id]))
		tags[id]++
		if id == idCPE {
			w.flag(false) // common_window: each channel has its ics_info
			silentICS(&w)
		}
		silentICS(&w)
	}
	w.u(3, idEND)
	w.align()                               // byte_alignment()
	a.frame = w.buf[:len(w.buf):len(w.buf)] // appends by callers copy
	return a, nil
}

// silentICS writes an individual_channel_stream() (4.4.2.7), with its
// ics_info, that codes no scale factor band.
func silentICS(w *bitWriter) {
	w.u(8, 0) // global_gain: unused without bands
	// ics_info() (4.4.2.1)
	w.flag(false) // ics_reserved_bit
	w.u(2, 0)     // window_sequence: ONLY_LONG_SEQUENCE
	w.flag(false) // window_shape
	w.u(6, 0)     // max_sfb
	w.flag(false) // predictor_data_present
	// section_data(), scale_factor_data() and spectral_data() are empty
	// with max_sfb 0.
	w.flag(false) // pulse_data_present
	w.flag(false) // tns_data_present
	w.flag(false) // gain_control_data_present
}

// Config returns the configuration, with defaults filled in.
func (a *Audio) Config() AudioConfig { return a.c }

// CodecPrivate returns the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1):
// the CodecPrivate of a Matroska A_AAC track. The caller must not modify
// it.
func (a *Audio) CodecPrivate() []byte { return a.asc }

// Frame returns frame i as a raw AAC frame (one raw_data_block, no ADTS
// header) of AudioFrameSamples samples per channel. Every frame is the same
// silence; i is there so that audio and video frames are asked for alike.
// The caller must not modify the result.
func (a *Audio) Frame(i int) []byte { return a.frame }
