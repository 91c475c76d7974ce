package mkv

import (
	"cmp"
	"time"
)

// Defaults of the Audio element's SamplingFrequency and Channels (RFC 9559
// section 5.1.4.1: TrackEntry\Audio\SamplingFrequency and Channels).
const (
	DefaultSamplingRate = 8000.0
	DefaultChannels     = 1
)

// TrackType is the Matroska TrackType (RFC 9559 section 5.1.4.1.3).
type TrackType uint8

// Track types.
const (
	VideoTrack    TrackType = 1
	AudioTrack    TrackType = 2
	ComplexTrack  TrackType = 3
	LogoTrack     TrackType = 0x10
	SubtitleTrack TrackType = 0x11
	ButtonsTrack  TrackType = 0x12
	ControlTrack  TrackType = 0x20
	MetadataTrack TrackType = 0x21
)

// String returns the type's name in lower case ("video"), or "unknown".
func (t TrackType) String() string {
	switch t {
	case VideoTrack:
		return "video"
	case AudioTrack:
		return "audio"
	case ComplexTrack:
		return "complex"
	case LogoTrack:
		return "logo"
	case SubtitleTrack:
		return "subtitle"
	case ButtonsTrack:
		return "buttons"
	case ControlTrack:
		return "control"
	case MetadataTrack:
		return "metadata"
	}
	return "unknown"
}

// Track is a TrackEntry (RFC 9559 section 5.1.4.1): what a decoder reads of
// a track and what a Writer writes.
type Track struct {
	Number uint64
	// UID is the TrackUID; a Writer uses Number when it is 0.
	UID  uint64
	Type TrackType
	// CodecID names the codec ("V_MPEG4/ISO/AVC", "A_AAC", ...) and
	// CodecPrivate holds its configuration (avcC, hvcC,
	// AudioSpecificConfig, ...).
	CodecID      string
	CodecPrivate []byte
	Name         string
	// Language is the track's language ("eng" when absent, the
	// specification's default).
	Language string
	// DefaultDuration is the duration of a frame, when the track has one.
	DefaultDuration time.Duration
	// Width and Height are the video PixelWidth and PixelHeight.
	Width, Height uint64
	// SamplingRate, Channels and BitDepth describe an audio track. Set
	// gives an audio track the specification's defaults, 8000 Hz and 1
	// channel, which writers such as mkvmerge leave out; a Writer writes
	// them out.
	SamplingRate float64
	Channels     uint64
	BitDepth     uint64
}

// NewTrack returns a Track with the specification's defaults, ready for Set.
func NewTrack() Track { return Track{Language: "eng"} }

// Set applies a value event of a TrackEntry's children (Video and Audio
// settings included) to t. It reports whether the element is one Track
// holds; others are left to the caller. CodecPrivate is copied.
//
// A TrackType of audio fills in the SamplingFrequency and Channels the
// TrackEntry leaves out with their defaults (DefaultSamplingRate and
// DefaultChannels); the elements themselves, before or after it, override
// them.
func (t *Track) Set(ev *Event) bool {
	switch ev.ID {
	case IDTrackNumber:
		t.Number = ev.Uint
	case IDTrackUID:
		t.UID = ev.Uint
	case IDTrackType:
		t.Type = TrackType(ev.Uint)
		if t.Type == AudioTrack {
			t.SamplingRate = cmp.Or(t.SamplingRate, DefaultSamplingRate)
			t.Channels = cmp.Or(t.Channels, DefaultChannels)
		}
	case IDCodecID:
		t.CodecID = ev.StringValue()
	case IDName:
		t.Name = ev.StringValue()
	case IDLanguage:
		t.Language = ev.StringValue()
	case IDCodecPrivate:
		t.CodecPrivate = append([]byte(nil), ev.Bytes...)
	case IDDefaultDuration:
		t.DefaultDuration = time.Duration(min(ev.Uint, 1<<62))
	case IDPixelWidth:
		t.Width = ev.Uint
	case IDPixelHeight:
		t.Height = ev.Uint
	case IDSamplingFrequency:
		t.SamplingRate = ev.Float
	case IDChannels:
		t.Channels = ev.Uint
	case IDBitDepth:
		t.BitDepth = ev.Uint
	default:
		return false
	}
	return true
}

// Equal reports whether two tracks describe the same track: number, type,
// codec and its configuration, picture size and audio format.
func (t *Track) Equal(u *Track) bool {
	return t.Number == u.Number && t.Type == u.Type && t.CodecID == u.CodecID && string(t.CodecPrivate) == string(u.CodecPrivate) &&
		t.Width == u.Width && t.Height == u.Height && t.SamplingRate == u.SamplingRate && t.Channels == u.Channels
}

// FrameTiming is the time of the frames of one block (RFC 9559 sections
// 10.1 and 10.3): Start is the first frame's time, (Cluster Timecode + the
// block's Timecode) x TimecodeScale; the i-th frame of a laced block comes
// Step after the one before it; each lasts Duration.
type FrameTiming struct {
	Start, Step, Duration time.Duration
}

// Time returns the time of the block's i-th frame.
func (ft FrameTiming) Time(i int) time.Duration { return ft.Start + time.Duration(i)*ft.Step }

// Timing returns the times of the frames of blk in a Cluster whose
// Timecode is cluster, with scale nanoseconds per tick, in a track whose
// DefaultDuration is def (0 when it has none). blockDuration is the
// BlockGroup's BlockDuration in ticks, or -1 when there is none: it is
// then the duration of the whole block, shared by its laced frames when
// the track has no DefaultDuration.
func Timing(blk *Block, cluster int64, scale uint64, def time.Duration, blockDuration int64) FrameTiming {
	s := int64(scale)
	ft := FrameTiming{Start: time.Duration((cluster + int64(blk.Timecode)) * s), Step: def, Duration: def}
	if blockDuration >= 0 {
		ft.Duration = time.Duration(blockDuration * s)
		if n := len(blk.Frames); n > 1 && def == 0 {
			ft.Duration /= time.Duration(n)
			ft.Step = ft.Duration
		}
	}
	return ft
}

// BlockGroup gathers what a BlockGroup says of its Block (RFC 9559 section
// 5.1.3.5): the Block is a keyframe when the group has no ReferenceBlock,
// and lasts BlockDuration when the group has one. Feed it every event with
// Add; it reports when a group is complete, and holds the Block's frames
// until then: they stay valid, since a decoder holds a BlockGroup whole.
type BlockGroup struct {
	// Block is the group's Block; Offset its position in the stream.
	Block  Block
	Offset int64
	// HasBlock is false for a group without a Block.
	HasBlock bool
	// Referenced is set when the group has a ReferenceBlock: its Block is
	// not a keyframe.
	Referenced bool
	// Duration is the BlockDuration in ticks, or -1 when absent.
	Duration int64

	open   bool
	frames [][]byte
}

// Add applies an event to the group being read. It reports true at the
// group's end, when the fields above describe it.
func (g *BlockGroup) Add(ev *Event) (complete bool) {
	switch {
	case ev.ID == IDBlockGroup && ev.Kind == Start:
		g.open, g.HasBlock, g.Referenced, g.Duration = true, false, false, -1
	case !g.open:
	case ev.ID == IDBlockGroup && ev.Kind == End:
		g.open = false
		return true
	case ev.ID == IDBlock && ev.Kind == BlockKind:
		g.HasBlock, g.Offset = true, ev.Offset
		g.Block = ev.Block
		g.frames = append(g.frames[:0], ev.Block.Frames...)
		g.Block.Frames = g.frames
	case ev.ID == IDBlockDuration:
		g.Duration = int64(min(ev.Uint, 1<<62))
	case ev.ID == IDReferenceBlock:
		g.Referenced = true
	}
	return false
}

// Open reports whether a BlockGroup has started and not yet ended.
func (g *BlockGroup) Open() bool { return g.open }

// Reset forgets a group left open, at the start of a new unit.
func (g *BlockGroup) Reset() { g.open = false }
