package gen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/at-wat/ebml-go"
)

// The element structs below are written with ebml-go's Marshal, field by
// field in declaration order.

type ebmlHeader struct {
	EBMLVersion        uint64 `ebml:"EBMLVersion"`
	EBMLReadVersion    uint64 `ebml:"EBMLReadVersion"`
	EBMLMaxIDLength    uint64 `ebml:"EBMLMaxIDLength"`
	EBMLMaxSizeLength  uint64 `ebml:"EBMLMaxSizeLength"`
	DocType            string `ebml:"EBMLDocType"`
	DocTypeVersion     uint64 `ebml:"EBMLDocTypeVersion"`
	DocTypeReadVersion uint64 `ebml:"EBMLDocTypeReadVersion"`
}

type info struct {
	TimecodeScale uint64 `ebml:"TimecodeScale"`
	MuxingApp     string `ebml:"MuxingApp"`
	WritingApp    string `ebml:"WritingApp"`
}

type video struct {
	PixelWidth  uint64 `ebml:"PixelWidth"`
	PixelHeight uint64 `ebml:"PixelHeight"`
}

type audio struct {
	SamplingFrequency float64 `ebml:"SamplingFrequency"`
	Channels          uint64  `ebml:"Channels"`
	BitDepth          uint64  `ebml:"BitDepth"`
}

type trackEntry struct {
	TrackNumber     uint64 `ebml:"TrackNumber"`
	TrackUID        uint64 `ebml:"TrackUID"`
	TrackType       uint64 `ebml:"TrackType"`
	Name            string `ebml:"Name,omitempty"`
	Language        string `ebml:"Language,omitempty"`
	CodecID         string `ebml:"CodecID"`
	CodecPrivate    []byte `ebml:"CodecPrivate,omitempty"`
	DefaultDuration uint64 `ebml:"DefaultDuration,omitempty"`
	Video           *video `ebml:"Video,omitempty"`
	Audio           *audio `ebml:"Audio,omitempty"`
}

type tracks struct {
	TrackEntry []trackEntry `ebml:"TrackEntry"`
}

type simpleTag struct {
	TagName     string      `ebml:"TagName"`
	TagLanguage string      `ebml:"TagLanguage,omitempty"`
	TagString   string      `ebml:"TagString,omitempty"`
	TagBinary   []byte      `ebml:"TagBinary,omitempty"`
	SimpleTag   []simpleTag `ebml:"SimpleTag,omitempty"`
}

type targets struct {
	TargetTypeValue uint64 `ebml:"TargetTypeValue,omitempty"`
}

type tag struct {
	Targets   *targets    `ebml:"Targets,omitempty"`
	SimpleTag []simpleTag `ebml:"SimpleTag"`
}

type tags struct {
	Tag []tag `ebml:"Tag"`
}

type blockGroup struct {
	Block          ebml.Block `ebml:"Block"`
	BlockDuration  uint64     `ebml:"BlockDuration"`
	ReferenceBlock []int64    `ebml:"ReferenceBlock,omitempty"`
}

// KVS tag names, as the service writes them.
const (
	tagFragmentNumber  = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
	tagMillisBehindNow = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"
	tagContinuation    = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
)

// VideoTrack and AudioTrack are the track numbers the streams use.
const (
	VideoTrack = 1
	AudioTrack = 2
)

type writer struct {
	b    *bytes.Buffer
	opts []ebml.MarshalOption
	err  error
}

// put marshals one element, v being a struct with one field named after it.
func put[T any](w *writer, v T) {
	if w.err == nil {
		w.err = ebml.Marshal(&v, w.b, w.opts...)
	}
}

// header writes an element ID and an 8-byte data size, or the unknown size.
func header(b *bytes.Buffer, id ebml.ElementType, size int64) {
	b.Write(id.Bytes())
	var s [8]byte
	if size < 0 {
		binary.BigEndian.PutUint64(s[:], 1<<56-1)
	} else {
		binary.BigEndian.PutUint64(s[:], uint64(size))
	}
	s[0] = 1 // the length marker of an 8-byte size
	b.Write(s[:])
}

// Timestamp formats t as KVS does: decimal seconds with milliseconds.
func Timestamp(t time.Duration) string {
	ms := t.Milliseconds()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

func (c *Config) pad(s string) string {
	if c.NULPadding {
		return s + "\x00\x00"
	}
	return s
}

// Times returns the producer and server timestamps of unit i.
func (c *Config) Times(i int) (producer, server time.Duration) {
	c.defaults()
	start := time.Duration(c.Start.UnixMilli()) * time.Millisecond
	p := start + time.Duration(i)*c.FragmentDuration
	s := p + 613*time.Millisecond
	if c.RelativeProducerTime {
		p -= start
	}
	return p, s
}

func unit(b *bytes.Buffer, c *Config, i int) error {
	w := &writer{b: b}
	if c.DataSizeLen > 0 {
		w.opts = append(w.opts, ebml.WithDataSizeLen(c.DataSizeLen))
	}
	put(w, struct {
		EBML ebmlHeader `ebml:"EBML"`
	}{ebmlHeader{1, 1, 4, 8, "matroska", 4, 2}})
	header(b, ebml.ElementSegment, -1)
	put(w, struct {
		Info info `ebml:"Info"`
	}{info{1_000_000, "kvsmkv-gen", "kvsmkv-gen"}})
	if c.Void {
		put(w, struct {
			Void []byte `ebml:"Void"`
		}{make([]byte, 37)})
	}
	put(w, struct {
		Tracks tracks `ebml:"Tracks"`
	}{c.tracks()})

	producer, server := c.Times(i)
	number := FragmentNumber(i)
	if c.Number != nil {
		number = c.Number(i)
	}
	kvs := []simpleTag{{TagName: tagFragmentNumber, TagString: c.pad(number)}}
	if e, ok := c.Errors[i]; ok {
		if e.Exception {
			kvs = append(kvs,
				simpleTag{TagName: "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE", TagString: c.pad(e.Code)},
				simpleTag{TagName: "AWS_KINESISVIDEO_EXCEPTION_MESSAGE", TagString: c.pad(e.Message)})
		} else {
			kvs = append(kvs, simpleTag{TagName: "AWS_KINESISVIDEO_ERROR_CODE", TagString: c.pad(e.Code)})
			if e.ID != 0 { // an ID of 0 writes a partial error, without ERROR_ID
				kvs = append(kvs, simpleTag{TagName: "AWS_KINESISVIDEO_ERROR_ID", TagString: c.pad(fmt.Sprint(e.ID))})
			}
		}
		put(w, struct {
			Tags tags `ebml:"Tags"`
		}{tags{[]tag{{SimpleTag: kvs}}}})
		return w.err
	}

	if c.ProducerTags {
		put(w, struct {
			Tags tags `ebml:"Tags"`
		}{tags{[]tag{{
			Targets: &targets{TargetTypeValue: 50},
			SimpleTag: []simpleTag{
				{TagName: "CAMERA", TagString: c.pad("front-door"), TagLanguage: "und", SimpleTag: []simpleTag{
					{TagName: "MODEL", TagString: c.pad("x1")},
				}},
				{TagName: "CALIBRATION", TagBinary: []byte{0, 1, 2, 0xFF}},
			},
		}}}})
	}
	server1, producer1 := "SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"
	if c.SideSpelling {
		server1, producer1 = "SERVER_SIDE_TIMESTAMP", "PRODUCER_SIDE_TIMESTAMP"
	}
	kvs = append(kvs,
		simpleTag{TagName: "AWS_KINESISVIDEO_" + server1, TagString: c.pad(Timestamp(server))},
		simpleTag{TagName: "AWS_KINESISVIDEO_" + producer1, TagString: c.pad(Timestamp(producer))})
	put(w, struct {
		Tags tags `ebml:"Tags"`
	}{tags{[]tag{{SimpleTag: kvs}}}})
	if w.err != nil {
		return w.err
	}
	if err := c.cluster(b, w.opts, i, producer); err != nil {
		return err
	}
	if c.ProducerTags {
		put(w, struct {
			Tags tags `ebml:"Tags"`
		}{tags{[]tag{{SimpleTag: []simpleTag{{TagName: "DETECTIONS", TagString: c.pad(fmt.Sprint(i % 4))}}}}}})
	}
	if c.GetMedia {
		behind := int64(1000 + 37*i)
		if c.MillisBehindNow != nil {
			behind = c.MillisBehindNow(i)
		}
		put(w, struct {
			Tags tags `ebml:"Tags"`
		}{tags{[]tag{{SimpleTag: []simpleTag{
			{TagName: tagMillisBehindNow, TagString: c.pad(fmt.Sprint(behind))},
			{TagName: tagContinuation, TagString: c.pad(number)},
		}}}}})
	}
	return w.err
}

func (c *Config) tracks() tracks {
	t := tracks{[]trackEntry{{
		TrackNumber: VideoTrack, TrackUID: 1, TrackType: 1, Name: "video", Language: "und",
		CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: []byte{1, 0x64, 0, 0x1f, 0xff, 0xe0, 0},
		DefaultDuration: uint64(time.Second / time.Duration(c.FPS)),
		Video:           &video{640, 360},
	}}}
	if c.Audio {
		t.TrackEntry = append(t.TrackEntry, trackEntry{
			TrackNumber: AudioTrack, TrackUID: 2, TrackType: 2, Name: "audio",
			CodecID: "A_AAC", CodecPrivate: []byte{0x11, 0x90},
			Audio: &audio{48000, 2, 16},
		})
	}
	return t
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
func (c *Config) Frames(i int) []Frame {
	c.defaults()
	var out []Frame
	for _, b := range c.blocks(i) {
		for _, d := range b.Data {
			out = append(out, Frame{b.TrackNumber, b.Timecode, b.Keyframe, d})
		}
	}
	return out
}

// blocks returns the blocks of unit i in time order, video first at equal
// times.
func (c *Config) blocks(i int) []ebml.Block {
	n := int(c.FragmentDuration * time.Duration(c.FPS) / time.Second)
	per := c.VideoBitrate / 8 / c.FPS
	key := 4 * per
	other := per
	if n > 1 {
		other = max((per*n-key)/(n-1), 16)
	}
	var out []ebml.Block
	audioMs := 20
	perBlock := c.AudioPerBlock
	na := int(c.FragmentDuration.Milliseconds()) / (audioMs * perBlock)
	v, a := 0, 0
	for v < n || (c.Audio && a < na) {
		vt := v * 1000 / c.FPS
		at := a * audioMs * perBlock
		if v < n && (!c.Audio || a >= na || vt <= at) {
			size := other
			if v == 0 {
				size = key
			}
			out = append(out, ebml.Block{
				TrackNumber: VideoTrack, Timecode: int16(vt), Keyframe: v == 0,
				Data: [][]byte{payload(i, VideoTrack, v, size)},
			})
			v++
			continue
		}
		blk := ebml.Block{TrackNumber: AudioTrack, Timecode: int16(at), Keyframe: true, Lacing: c.AudioLacing}
		for k := range perBlock {
			size := c.AudioFrameSize
			if c.AudioLacing != FixedLacing {
				size += (a*perBlock + k) % 7 * 3 // varied sizes exercise the lace tables
			}
			blk.Data = append(blk.Data, payload(i, AudioTrack, a*perBlock+k, size))
		}
		if perBlock == 1 {
			blk.Lacing = NoLacing
		}
		out = append(out, blk)
		a++
	}
	return out
}

// payload returns deterministic frame bytes, different for every frame.
func payload(unit, track, index, size int) []byte {
	p := make([]byte, size)
	seed := byte(unit*131 + track*17 + index*7)
	for j := range p {
		p[j] = seed + byte(j)
	}
	return p
}

func (c *Config) cluster(b *bytes.Buffer, opts []ebml.MarshalOption, i int, producer time.Duration) error {
	var body bytes.Buffer
	w := &writer{b: &body, opts: opts}
	put(w, struct {
		Timecode uint64 `ebml:"Timecode"`
	}{uint64(producer.Milliseconds())})
	for _, blk := range c.blocks(i) {
		if c.BlockGroups && blk.TrackNumber == VideoTrack {
			g := blockGroup{Block: blk, BlockDuration: uint64(1000 / c.FPS)}
			g.Block.Keyframe = false // a Block has no keyframe flag
			if !blk.Keyframe {
				g.ReferenceBlock = []int64{-int64(1000 / c.FPS)}
			}
			put(w, struct {
				BlockGroup blockGroup `ebml:"BlockGroup"`
			}{g})
			continue
		}
		put(w, struct {
			SimpleBlock ebml.Block `ebml:"SimpleBlock"`
		}{blk})
	}
	if w.err != nil {
		return w.err
	}
	if !c.KnownSizeCluster {
		header(b, ebml.ElementCluster, -1)
		b.Write(body.Bytes())
		return nil
	}
	size := int64(body.Len())
	if c.CRC {
		size += 6
	}
	header(b, ebml.ElementCluster, size)
	if c.CRC {
		var sum [4]byte
		binary.LittleEndian.PutUint32(sum[:], crc32.ChecksumIEEE(body.Bytes()))
		b.Write([]byte{0xBF, 0x84})
		b.Write(sum[:])
	}
	b.Write(body.Bytes())
	return nil
}
