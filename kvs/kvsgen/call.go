package kvsgen

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// CallKind says which phone-call stream a Generator writes instead of
// video (Generator.Call).
type CallKind uint8

// The calls a Generator writes. Their frames are 20 ms of audio at 8 kHz,
// a tone of its own for each track and call, so that a listener hears
// which track and which call a sample is from; the call's tags come
// before each Cluster, as KVS serves a producer's fragment metadata.
const (
	// NoCall: a video stream (and Audio's AAC track).
	NoCall CallKind = iota
	// ConnectCall is an Amazon Connect contact: two mono 8 kHz
	// A_PCM/INT/LIT tracks of 16-bit samples, AUDIO_FROM_CUSTOMER
	// (CustomerTrackNumber) and AUDIO_TO_CUSTOMER (AgentTrackNumber), and
	// a ContactId tag on every fragment.
	ConnectCall
	// ChimeALaw and ChimeMuLaw are an Amazon Chime SDK Voice Connector
	// call leg: one mono 8 kHz A_MS/ACM track (CallTrackNumber) of G.711
	// A-law or µ-law, with the WAVEFORMATEX AWS's C producer SDK writes
	// (a byte rate of 1000 and 0 bits per sample, which a reader must not
	// trust), and TransactionId and VoiceConnectorId tags on every
	// fragment.
	ChimeALaw
	ChimeMuLaw
)

// Names of the tracks and tags of call streams.
const (
	TrackFromCustomer = "AUDIO_FROM_CUSTOMER"
	TrackToCustomer   = "AUDIO_TO_CUSTOMER"
	TagContactID      = "ContactId"
	TagTransactionID  = "TransactionId"
	TagVoiceConnector = "VoiceConnectorId"
)

// The track numbers of call streams.
const (
	CustomerTrackNumber = 1 // ConnectCall's AUDIO_FROM_CUSTOMER
	AgentTrackNumber    = 2 // ConnectCall's AUDIO_TO_CUSTOMER
	CallTrackNumber     = 1 // the one track of ChimeALaw and ChimeMuLaw
)

// CallSampleRate is the sampling rate of call streams, and callFrame the
// length of their frames.
const (
	CallSampleRate = 8000
	callFrame      = 20 * time.Millisecond
)

// MediaType returns the stream's media type, as a producer would give it
// to CreateStream.
func (k CallKind) MediaType() string {
	switch k {
	case ConnectCall:
		return "audio/L16"
	case ChimeALaw:
		return "audio/PCMA"
	case ChimeMuLaw:
		return "audio/PCMU"
	}
	return "video/h264"
}

// call returns the index of the call unit i belongs to: 0, or 1 from
// CallChange on.
func (g *Generator) call(i int) int {
	if g.CallChange > 0 && i >= g.CallChange {
		return 1
	}
	return 0
}

// CallID returns the ContactId (ConnectCall) or TransactionId (Chime) of
// unit i: a UUID of its call.
func (g Generator) CallID(i int) string {
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", 0x5ca1ab1e+g.call(i), g.Seed&0xffff, 0xc0ffee+g.call(i))
}

// VoiceConnectorID is the VoiceConnectorId of Chime streams.
const VoiceConnectorID = "abcdef0123456789ghijk"

// callTags returns the tags of unit i of a call stream.
func (g *Generator) callTags(i int) []mkv.SimpleTag {
	if g.Call == ConnectCall {
		return []mkv.SimpleTag{{Name: TagContactID, Value: g.pad(g.CallID(i))}}
	}
	return []mkv.SimpleTag{
		{Name: TagTransactionID, Value: g.pad(g.CallID(i))},
		{Name: TagVoiceConnector, Value: g.pad(VoiceConnectorID)},
	}
}

// callTracks returns the tracks of a call stream.
func (g *Generator) callTracks() []mkv.Track {
	if g.Call == ConnectCall {
		pcm := func(n uint64, name string) mkv.Track {
			return mkv.Track{Number: n, UID: n, Type: mkv.AudioTrack, Name: name, Language: "und",
				CodecID: "A_PCM/INT/LIT", SamplingRate: CallSampleRate, Channels: 1, BitDepth: 16}
		}
		return []mkv.Track{pcm(CustomerTrackNumber, TrackFromCustomer), pcm(AgentTrackNumber, TrackToCustomer)}
	}
	tag := uint16(6) // WAVE_FORMAT_ALAW
	if g.Call == ChimeMuLaw {
		tag = 7 // WAVE_FORMAT_MULAW
	}
	// WAVEFORMATEX: wFormatTag, nChannels, nSamplesPerSec,
	// nAvgBytesPerSec, nBlockAlign, wBitsPerSample, cbSize, as the C
	// producer SDK fills it.
	wfx := binary.LittleEndian.AppendUint16(nil, tag)
	wfx = binary.LittleEndian.AppendUint16(wfx, 1)
	wfx = binary.LittleEndian.AppendUint32(wfx, CallSampleRate)
	wfx = binary.LittleEndian.AppendUint32(wfx, 1000)
	wfx = binary.LittleEndian.AppendUint16(wfx, 1)
	wfx = binary.LittleEndian.AppendUint16(wfx, 0)
	wfx = binary.LittleEndian.AppendUint16(wfx, 0)
	return []mkv.Track{{Number: CallTrackNumber, UID: 1, Type: mkv.AudioTrack, Name: "AUDIO", Language: "und",
		CodecID: "A_MS/ACM", CodecPrivate: wfx, SamplingRate: CallSampleRate, Channels: 1}}
}

// CallTone returns the frequency in Hz of the tone of a track of a call
// stream in unit i.
func (g Generator) CallTone(track uint64, i int) float64 {
	base := 440.0
	if track == AgentTrackNumber && g.Call == ConnectCall {
		base = 660
	}
	if g.call(i) == 1 {
		base *= 1.25
	}
	return base
}

// callBlocks returns the blocks of unit i of a call stream: a 20 ms frame
// of each track at each time, the customer's first.
func (g *Generator) callBlocks(i int) []mkv.Block {
	samples := int(callFrame * CallSampleRate / time.Second)
	perFragment := int(g.FragmentDuration / callFrame)
	tracks := []uint64{CallTrackNumber}
	if g.Call == ConnectCall {
		tracks = []uint64{CustomerTrackNumber, AgentTrackNumber}
	}
	var out []mkv.Block
	for k := range perFragment {
		for _, tr := range tracks {
			hz := g.CallTone(tr, i)
			first := (i*perFragment + k) * samples // the stream's sample index
			var frame []byte
			for n := range samples {
				v := int16(8000 * math.Sin(2*math.Pi*hz*float64(first+n)/CallSampleRate))
				switch g.Call {
				case ConnectCall:
					frame = binary.LittleEndian.AppendUint16(frame, uint16(v))
				case ChimeALaw:
					frame = append(frame, alaw(v))
				default:
					frame = append(frame, mulaw(v))
				}
			}
			out = append(out, mkv.Block{Track: tr, Timecode: int16(k * int(callFrame/time.Millisecond)), Keyframe: true, Frames: [][]byte{frame}})
		}
	}
	return out
}

// alaw encodes a sample as G.711 A-law (ITU-T G.711 table 1a).
func alaw(s int16) byte {
	mask := byte(0xD5)
	v := int(s) >> 3 // 13 bits
	if v < 0 {
		mask, v = 0x55, -v-1
	}
	seg := 0
	for seg < 8 && v >= 0x20<<seg {
		seg++
	}
	if seg == 8 {
		return 0x7F ^ mask
	}
	b := byte(seg << 4)
	if seg < 2 {
		b |= byte(v>>1) & 0x0F
	} else {
		b |= byte(v>>seg) & 0x0F
	}
	return b ^ mask
}

// mulaw encodes a sample as G.711 µ-law (ITU-T G.711 table 2a).
func mulaw(s int16) byte {
	mask := byte(0xFF)
	v := int(s) >> 2 // 14 bits
	if v < 0 {
		mask, v = 0x7F, -v
	}
	v = min(v, 8159) + 33
	seg := 0
	for seg < 8 && v >= 0x40<<seg {
		seg++
	}
	if seg == 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|(v>>(seg+1))&0x0F) ^ mask
}
