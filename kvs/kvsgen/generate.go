package kvsgen

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"strconv"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/synth"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// Generator describes a KVS-shaped stream, for tests, fuzz seeds and
// benchmarks: one unit per fragment, each an EBML header and a Segment of
// unknown size with Info, Tracks, the KVS tags before the Cluster, a
// Cluster of unknown size (as KVS writes them), and optionally producer
// tags after it and GetMedia's trailing MILLIS_BEHIND_NOW and
// CONTINUATION_TOKEN tags. It is written with mkv's encoder. The zero
// value of a field takes the default given in its comment; a Generator is
// a value, and the same Generator always writes the same bytes.
type Generator struct {
	// Fragments is the number of units (default 3).
	Fragments int
	// FragmentDuration is the length of a fragment (default 2s).
	FragmentDuration time.Duration
	// FPS is the video frame rate (default 30).
	FPS int
	// VideoBitrate in bits per second (default 3,000,000). Keyframes, one
	// per fragment, are four times the size of the other frames.
	VideoBitrate int
	// Audio adds an audio track, 48 kHz stereo, 50 frames a second of
	// AudioFrameSize bytes (default 200), AudioPerBlock frames per block
	// (default 1) laced with AudioLacing.
	Audio          bool
	AudioFrameSize int
	AudioPerBlock  int
	AudioLacing    mkv.Lacing
	// BlockGroups puts video frames in BlockGroups (Block, BlockDuration,
	// ReferenceBlock on all but the keyframe) instead of SimpleBlocks.
	BlockGroups bool
	// KnownSizeCluster writes Clusters with their size; by default their
	// size is unknown, as KVS writes them.
	KnownSizeCluster bool
	// CRC starts the Cluster with a correct CRC-32 element (known-size
	// Clusters only), as GetMedia does.
	CRC bool
	// GetMedia ends each unit with Tags holding MILLIS_BEHIND_NOW and
	// CONTINUATION_TOKEN.
	GetMedia bool
	// ProducerTags adds custom producer tags: a Tags element before the
	// Cluster (with a nested SimpleTag and a TagBinary) and one after it.
	ProducerTags bool
	// SideSpelling writes SERVER_SIDE_TIMESTAMP and PRODUCER_SIDE_TIMESTAMP
	// instead of SERVER_TIMESTAMP and PRODUCER_TIMESTAMP.
	SideSpelling bool
	// NULPadding pads tag strings with NUL bytes, as the C producer does.
	NULPadding bool
	// Void inserts a Void element after Info.
	Void bool
	// Start is the producer timestamp of the first fragment (default
	// 2017-11-28T06:55:08.513Z); server timestamps are 0.613 s later.
	Start time.Time
	// RelativeProducerTime writes producer timestamps relative to the
	// first fragment ("0.000", "2.000", ...), as some producers do.
	RelativeProducerTime bool
	// Errors replaces the fragments at these indexes by error units: a
	// unit with no Cluster whose tags report the error.
	Errors map[int]ErrorUnit
	// Seed varies the frame bytes, so that two streams of one shape differ.
	Seed int
	// Media writes decodable media instead of counting bytes: H.264 video
	// of 160x96 pixels (I_PCM macroblocks, a moving block and a frame
	// counter, an IDR frame at the start of each fragment, SPS and PPS in
	// the avcC) and, with Audio, AAC-LC silence in frames of 1024 samples
	// at 48 kHz, laced AudioPerBlock to a block. VideoBitrate,
	// AudioFrameSize and Seed are then unused.
	Media bool
	// Number, when set, gives the fragment number of unit i instead of
	// the 47-digit numbers KVS-like streams have (see FragmentNumber).
	Number func(i int) string
	// MillisBehindNow, when set, gives GetMedia's MILLIS_BEHIND_NOW of
	// unit i instead of 1000 + 37 i.
	MillisBehindNow func(i int) int64
	// Call makes the stream a phone call's audio, as Amazon Connect or
	// the Amazon Chime SDK Voice Connector write it (see CallKind),
	// instead of video: FPS, VideoBitrate, Audio, Media, BlockGroups and
	// ProducerTags are then unused.
	Call CallKind
	// CallChange is the index of the first unit of a second call: from
	// it on, fragments carry another ContactId or TransactionId, and
	// other tones. 0: one call throughout.
	CallChange int
}

// ErrorUnit is an in-band error unit.
type ErrorUnit struct {
	// Exception writes EXCEPTION_ERROR_CODE and EXCEPTION_MESSAGE; otherwise
	// ERROR_CODE and ERROR_ID.
	Exception bool
	Code      string
	// ID is the ERROR_ID; 0 writes a partial error, without it.
	ID      int
	Message string
}

// The track numbers of generated streams (their mkv.TrackType is
// mkv.VideoTrack and mkv.AudioTrack).
const (
	VideoTrackNumber = 1
	AudioTrackNumber = 2
)

func (g *Generator) defaults() {
	if g.Fragments == 0 {
		g.Fragments = 3
	}
	if g.FragmentDuration == 0 {
		g.FragmentDuration = 2 * time.Second
	}
	if g.FPS == 0 {
		g.FPS = 30
	}
	if g.VideoBitrate == 0 {
		g.VideoBitrate = 3_000_000
	}
	if g.AudioFrameSize == 0 {
		g.AudioFrameSize = 200
	}
	if g.AudioPerBlock == 0 {
		g.AudioPerBlock = 1
	}
	if g.Start.IsZero() {
		g.Start = time.Date(2017, 11, 28, 6, 55, 8, 513e6, time.UTC)
	}
}

// firstNumber and numberStep make KVS-like fragment numbers: 47 digits,
// consecutive numbers differing by multiples of 2^92.
var firstNumber, numberStep = func() (*big.Int, *big.Int) {
	n, _ := new(big.Int).SetString("91343852333181432392682062607743920146159169392", 10)
	return n, new(big.Int).Lsh(big.NewInt(1), 92)
}()

// FragmentNumber returns the fragment number of unit i: g.Number(i) when
// Number is set, else a 47-digit decimal like KVS's, the same for every
// Generator.
func (g Generator) FragmentNumber(i int) string {
	if g.Number != nil {
		return g.Number(i)
	}
	n := new(big.Int).Mul(numberStep, big.NewInt(int64(i)))
	return n.Add(n, firstNumber).String()
}

// WriteTo writes the whole stream to w.
func (g Generator) WriteTo(w io.Writer) (int64, error) {
	g.defaults()
	var b []byte
	var total int64
	for i := range g.Fragments {
		b = g.appendUnit(b[:0], i)
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Bytes returns the whole stream.
func (g Generator) Bytes() []byte {
	g.defaults()
	var b []byte
	for i := range g.Fragments {
		b = g.appendUnit(b, i)
	}
	return b
}

// Unit returns unit i of the stream alone.
func (g Generator) Unit(i int) []byte {
	g.defaults()
	return g.appendUnit(nil, i)
}

// Error returns an in-band error unit about fragment number, written with
// g's tag spellings.
func (g Generator) Error(number string, e ErrorUnit) []byte {
	g.Errors = map[int]ErrorUnit{0: e}
	g.Number = func(int) string { return number }
	return g.Unit(0)
}

// Reader returns a reader of the stream that renders one unit at a time, so
// that a stream of any length is never held whole.
func (g Generator) Reader() io.Reader {
	g.defaults()
	return &genReader{g: g}
}

type genReader struct {
	g    Generator
	i    int
	buf  []byte
	rest []byte
}

func (r *genReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.i == r.g.Fragments {
			return 0, io.EOF
		}
		r.buf = r.g.appendUnit(r.buf[:0], r.i)
		r.i++
		r.rest = r.buf
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// Times returns the producer and server timestamps of unit i, as durations
// since the epoch (the producer's since the first fragment with
// RelativeProducerTime).
func (g Generator) Times(i int) (producer, server time.Duration) {
	g.defaults()
	start := time.Duration(g.Start.UnixMilli()) * time.Millisecond
	p := start + time.Duration(i)*g.FragmentDuration
	s := p + 613*time.Millisecond
	if g.RelativeProducerTime {
		p -= start
	}
	return p, s
}

// FormatTimestamp formats t, a duration since the epoch, as KVS writes its
// timestamp tags: decimal seconds with milliseconds.
func FormatTimestamp(t time.Duration) string {
	ms := t.Milliseconds()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

// Frame is what the generator put in a block, for tests to compare with.
type Frame struct {
	Track    uint64
	Timecode int16 // relative to the Cluster
	Keyframe bool
	Data     []byte
}

// Frames returns the frames of unit i, in the order the blocks hold them
// (a laced audio block's frames one after the other).
func (g Generator) Frames(i int) []Frame {
	g.defaults()
	var out []Frame
	for _, b := range g.blocks(i) {
		for _, d := range b.Frames {
			out = append(out, Frame{b.Track, b.Timecode, b.Keyframe, d})
		}
	}
	return out
}

// Tracks returns the tracks of the stream.
func (g Generator) Tracks() []mkv.Track {
	g.defaults()
	if g.Call != NoCall {
		return g.callTracks()
	}
	t := []mkv.Track{{
		Number: VideoTrackNumber, UID: 1, Type: mkv.VideoTrack, Name: "video", Language: "und",
		CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: []byte{1, 0x64, 0, 0x1f, 0xff, 0xe0, 0},
		DefaultDuration: time.Second / time.Duration(g.FPS), Width: 640, Height: 360,
	}}
	if g.Media {
		v := g.video()
		t[0].CodecPrivate, t[0].Width, t[0].Height = v.CodecPrivate(), uint64(v.Config().Width), uint64(v.Config().Height)
	}
	if g.Audio {
		t = append(t, mkv.Track{
			Number: AudioTrackNumber, UID: 2, Type: mkv.AudioTrack, Name: "audio", Language: "eng",
			CodecID: "A_AAC", CodecPrivate: []byte{0x11, 0x90},
			SamplingRate: 48000, Channels: 2, BitDepth: 16,
		})
		if g.Media {
			t[1].CodecPrivate = g.audio().CodecPrivate()
		}
	}
	return t
}

// framesPerFragment is the number of video frames in a fragment.
func (g *Generator) framesPerFragment() int {
	return int(g.FragmentDuration * time.Duration(g.FPS) / time.Second)
}

// video is the H.264 encoder of a Media stream, with a keyframe at the
// start of each fragment.
func (g *Generator) video() *synth.Video {
	v, err := synth.NewVideo(synth.VideoConfig{KeyframeInterval: max(g.framesPerFragment(), 1)})
	if err != nil {
		panic(err) // the default size is whole macroblocks
	}
	return v
}

// audio is the AAC encoder of a Media stream.
func (g *Generator) audio() *synth.Audio {
	a, err := synth.NewAudio(synth.AudioConfig{SampleRate: 48000, Channels: 2})
	if err != nil {
		panic(err) // 48 kHz stereo is an AAC layout
	}
	return a
}

func (g *Generator) pad(s string) string {
	if g.NULPadding {
		return s + "\x00\x00"
	}
	return s
}

// appendUnit appends unit i.
func (g *Generator) appendUnit(b []byte, i int) []byte {
	b = mkv.AppendElement(b, mkv.IDEBML, ebmlHeader)
	b = mkv.AppendHeader(b, mkv.IDSegment, mkv.UnknownSize, 8)
	info := mkv.AppendUint(nil, mkv.IDTimecodeScale, mkv.DefaultTimecodeScale)
	info = mkv.AppendString(info, mkv.IDMuxingApp, "kvsmkv-gen")
	info = mkv.AppendString(info, mkv.IDWritingApp, "kvsmkv-gen")
	b = mkv.AppendElement(b, mkv.IDInfo, info)
	if g.Void {
		b = mkv.AppendElement(b, mkv.IDVoid, make([]byte, 37))
	}
	var tracks []byte
	for _, t := range g.Tracks() {
		tracks = mkv.AppendElement(tracks, mkv.IDTrackEntry, mkv.AppendTrack(nil, &t))
	}
	b = mkv.AppendElement(b, mkv.IDTracks, tracks)

	producer, server := g.Times(i)
	number := g.FragmentNumber(i)
	kvs := []mkv.SimpleTag{{Name: "AWS_KINESISVIDEO_FRAGMENT_NUMBER", Value: g.pad(number)}}
	if e, ok := g.Errors[i]; ok {
		if e.Exception {
			kvs = append(kvs,
				mkv.SimpleTag{Name: "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE", Value: g.pad(e.Code)},
				mkv.SimpleTag{Name: "AWS_KINESISVIDEO_EXCEPTION_MESSAGE", Value: g.pad(e.Message)})
		} else {
			kvs = append(kvs, mkv.SimpleTag{Name: "AWS_KINESISVIDEO_ERROR_CODE", Value: g.pad(e.Code)})
			if e.ID != 0 {
				kvs = append(kvs, mkv.SimpleTag{Name: "AWS_KINESISVIDEO_ERROR_ID", Value: g.pad(strconv.Itoa(e.ID))})
			}
		}
		return mkv.AppendTags(b, 0, kvs)
	}
	if g.Call != NoCall {
		b = mkv.AppendTags(b, 0, g.callTags(i))
	} else if g.ProducerTags {
		b = mkv.AppendTags(b, 50, []mkv.SimpleTag{
			{Name: "CAMERA", Value: g.pad("front-door"), Language: "und", Tags: []mkv.SimpleTag{{Name: "MODEL", Value: g.pad("x1")}}},
			{Name: "CALIBRATION", Binary: []byte{0, 1, 2, 0xFF}},
		})
	}
	serverName, producerName := "SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"
	if g.SideSpelling {
		serverName, producerName = "SERVER_SIDE_TIMESTAMP", "PRODUCER_SIDE_TIMESTAMP"
	}
	kvs = append(kvs,
		mkv.SimpleTag{Name: "AWS_KINESISVIDEO_" + serverName, Value: g.pad(FormatTimestamp(server))},
		mkv.SimpleTag{Name: "AWS_KINESISVIDEO_" + producerName, Value: g.pad(FormatTimestamp(producer))})
	b = mkv.AppendTags(b, 0, kvs)
	b = g.appendCluster(b, i, producer)
	if g.ProducerTags && g.Call == NoCall {
		b = mkv.AppendTags(b, 0, []mkv.SimpleTag{{Name: "DETECTIONS", Value: g.pad(strconv.Itoa(i % 4))}})
	}
	if g.GetMedia {
		behind := int64(1000 + 37*i)
		if g.MillisBehindNow != nil {
			behind = g.MillisBehindNow(i)
		}
		b = mkv.AppendTags(b, 0, []mkv.SimpleTag{
			{Name: "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", Value: g.pad(strconv.FormatInt(behind, 10))},
			{Name: "AWS_KINESISVIDEO_CONTINUATION_TOKEN", Value: g.pad(number)},
		})
	}
	return b
}

// ebmlHeader is the data of the EBML header of every unit.
var ebmlHeader = func() []byte {
	b := mkv.AppendUint(nil, mkv.IDEBMLVersion, 1)
	b = mkv.AppendUint(b, mkv.IDEBMLReadVersion, 1)
	b = mkv.AppendUint(b, mkv.IDEBMLMaxIDLength, 4)
	b = mkv.AppendUint(b, mkv.IDEBMLMaxSizeLength, 8)
	b = mkv.AppendString(b, mkv.IDDocType, "matroska")
	b = mkv.AppendUint(b, mkv.IDDocTypeVersion, 4)
	return mkv.AppendUint(b, mkv.IDDocTypeReadVersion, 2)
}()

// blocks returns the blocks of unit i in time order, video first at equal
// times.
func (g *Generator) blocks(i int) []mkv.Block {
	if g.Call != NoCall {
		return g.callBlocks(i)
	}
	n := g.framesPerFragment()
	per := g.VideoBitrate / 8 / g.FPS
	key := 4 * per
	other := per
	if n > 1 {
		other = max((per*n-key)/(n-1), 16)
	}
	var out []mkv.Block
	// Audio frames are 20 ms, or AAC's 1024 samples at 48 kHz with Media.
	frameMs := func(k int) int { return k * 20 }
	var video *synth.Video
	var audio *synth.Audio
	if g.Media {
		frameMs = func(k int) int { return k * 1000 * synth.AudioFrameSamples / 48000 }
		video, audio = g.video(), g.audio()
	}
	perBlock := g.AudioPerBlock
	na := 0
	for frameMs((na+1)*perBlock) <= int(g.FragmentDuration.Milliseconds()) {
		na++
	}
	v, a := 0, 0
	for v < n || (g.Audio && a < na) {
		vt := v * 1000 / g.FPS
		at := frameMs(a * perBlock)
		if v < n && (!g.Audio || a >= na || vt <= at) {
			size := other
			if v == 0 {
				size = key
			}
			blk := mkv.Block{Track: VideoTrackNumber, Timecode: int16(vt), Keyframe: v == 0}
			if video != nil {
				var frame []byte
				frame, blk.Keyframe = video.Frame(i*n + v)
				blk.Frames = [][]byte{frame}
			} else {
				blk.Frames = [][]byte{g.payload(i, VideoTrackNumber, v, size)}
			}
			out = append(out, blk)
			v++
			continue
		}
		blk := mkv.Block{Track: AudioTrackNumber, Timecode: int16(at), Keyframe: true, Lacing: g.AudioLacing}
		for k := range perBlock {
			size := g.AudioFrameSize
			if g.AudioLacing != mkv.FixedLacing {
				size += (a*perBlock + k) % 7 * 3 // varied sizes exercise the lace tables
			}
			if audio != nil {
				blk.Frames = append(blk.Frames, audio.Frame(a*perBlock+k))
			} else {
				blk.Frames = append(blk.Frames, g.payload(i, AudioTrackNumber, a*perBlock+k, size))
			}
		}
		if perBlock == 1 {
			blk.Lacing = mkv.NoLacing
		}
		out = append(out, blk)
		a++
	}
	return out
}

// payload returns deterministic frame bytes, different for every frame.
func (g *Generator) payload(unit, track, index, size int) []byte {
	p := make([]byte, size)
	seed := byte(unit*131 + track*17 + index*7 + g.Seed*29)
	for j := range p {
		p[j] = seed + byte(j)
	}
	return p
}

func (g *Generator) appendCluster(b []byte, i int, producer time.Duration) []byte {
	body := mkv.AppendUint(nil, mkv.IDTimecode, uint64(producer.Milliseconds()))
	frameMs := int64(1000 / g.FPS)
	for _, blk := range g.blocks(i) {
		if g.BlockGroups && blk.Track == VideoTrackNumber && g.Call == NoCall {
			key := blk.Keyframe
			blk.Keyframe = false // a Block has no keyframe flag
			group, err := mkv.AppendBlock(nil, mkv.IDBlock, &blk)
			if err != nil {
				panic(err) // the generator's own blocks are always valid
			}
			group = mkv.AppendUint(group, mkv.IDBlockDuration, uint64(frameMs))
			if !key {
				group = mkv.AppendInt(group, mkv.IDReferenceBlock, -frameMs)
			}
			body = mkv.AppendElement(body, mkv.IDBlockGroup, group)
			continue
		}
		var err error
		if body, err = mkv.AppendBlock(body, mkv.IDSimpleBlock, &blk); err != nil {
			panic(err)
		}
	}
	if !g.KnownSizeCluster {
		b = mkv.AppendHeader(b, mkv.IDCluster, mkv.UnknownSize, 8)
		return append(b, body...)
	}
	size := int64(len(body))
	if g.CRC {
		size += 6
	}
	b = mkv.AppendHeader(b, mkv.IDCluster, size, 8)
	if g.CRC {
		b = mkv.AppendElement(b, mkv.IDCRC32, binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(body)))
	}
	return append(b, body...)
}
