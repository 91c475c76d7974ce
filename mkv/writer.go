package mkv

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// SimpleTag is a Matroska SimpleTag (RFC 9559 section 5.1.8.1.2), as
// read and as written; nested SimpleTags are in Tags.
type SimpleTag struct {
	Name string
	// Value is the TagString (NUL padding removed); Binary the TagBinary.
	// A Writer writes Binary when it is not nil, Value otherwise.
	Value  string
	Binary []byte
	// Language is the TagLanguage ("und" when absent); Default the
	// TagDefault flag (true when absent). A Writer writes Language when
	// it is set and never writes TagDefault.
	Language string
	Default  bool
	Tags     []SimpleTag
}

// WriterOptions describe the file a Writer writes.
type WriterOptions struct {
	// TimecodeScale in nanoseconds per tick (default 1,000,000).
	TimecodeScale uint64
	// WritingApp names the program (MuxingApp is "kvsmkv").
	WritingApp string
	Tracks     []Track
}

// ErrWriter reports a misuse of a Writer: a frame for an unknown track, or
// a frame going back in time.
var ErrWriter = errors.New("mkv: invalid write")

// maxCluster is how long a Cluster may last at most. Block timecodes are
// int16 offsets from the Cluster's, in TimecodeScale ticks, so a Cluster
// also ends before an offset leaves that range: 32 s at the default scale,
// 32 ms at a scale of 1 µs.
const maxCluster = 5 * time.Second

// Writer writes one Matroska file that players accept: an EBML header and a
// Segment of known size holding a SeekHead, Info (with Duration), Tracks,
// Clusters of known size whose SimpleBlocks carry the frames, Cues to every
// Cluster's first video keyframe, and Tags. Frames are written as they come
// (one Cluster is held at a time); Close writes the Cues and Tags and goes
// back to fill in the sizes, which is why the Writer needs an
// io.WriteSeeker.
//
// A Writer made with NewStreamWriter writes for a pipe instead: a Segment
// and Clusters of unknown size (RFC 8794 section 6.2), each block written
// as soon as WriteFrame is called, no SeekHead, Cues or Duration: the
// layout live Matroska has, which ffplay, ffmpeg and GStreamer's
// matroskademux read from a pipe.
type Writer struct {
	w          io.Writer
	seeker     io.WriteSeeker // nil when streaming
	opts       WriterOptions
	scale      time.Duration
	segment    int64 // file offset of the Segment's data
	durationAt int64 // file offset of Info/Duration's 8 bytes
	seekInfo   int64 // Segment positions of Info and Tracks
	seekTracks int64
	pos        int64 // Segment position of the next write

	cluster    []byte
	clusterAt  time.Duration
	clusterKey bool // the Cluster holds a video keyframe
	open       bool
	end        time.Duration
	cues       []cue
	tags       [][]SimpleTag
	video      uint64
	err        error
}

type cue struct {
	time     time.Duration
	track    uint64
	position int64
}

// seekHeadSpace is the room kept for the SeekHead, filled at Close: four
// Seek entries (Info, Tracks, Cues, Tags) of at most 20 bytes, padded with
// a Void.
const seekHeadSpace = 100

// NewWriter writes the file's header, Info and Tracks to w.
func NewWriter(w io.WriteSeeker, opts WriterOptions) (*Writer, error) {
	wr := newWriter(w, opts)
	wr.seeker = w
	b := wr.appendEBMLHeader(nil)
	b = AppendHeader(b, IDSegment, 0, 8) // filled at Close
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	seg := len(b) // where the Segment's data starts in b
	wr.segment = start + int64(seg)
	b = AppendElement(b, IDVoid, make([]byte, seekHeadSpace-2))
	// Info and Tracks come before the Clusters, where players look for
	// them; Info's Duration is filled in at Close.
	wr.seekInfo = int64(len(b) - seg)
	b = wr.appendInfo(b, true)
	wr.durationAt = start + int64(len(b)) - 8
	wr.seekTracks = int64(len(b) - seg)
	b = wr.appendTracks(b)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	wr.pos = int64(len(b) - seg)
	return wr, nil
}

// NewStreamWriter writes the header, Info and Tracks of a live Matroska
// stream to w, which need not seek (a pipe, a socket); see Writer.
func NewStreamWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	wr := newWriter(w, opts)
	b := wr.appendEBMLHeader(nil)
	b = AppendHeader(b, IDSegment, UnknownSize, 8)
	b = wr.appendInfo(b, false)
	b = wr.appendTracks(b)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	return wr, nil
}

func newWriter(w io.Writer, opts WriterOptions) *Writer {
	if opts.TimecodeScale == 0 {
		opts.TimecodeScale = DefaultTimecodeScale
	}
	if opts.WritingApp == "" {
		opts.WritingApp = "kvsmkv"
	}
	wr := &Writer{w: w, opts: opts, scale: time.Duration(opts.TimecodeScale)}
	for _, t := range opts.Tracks {
		if t.Type == VideoTrack && wr.video == 0 {
			wr.video = t.Number
		}
	}
	return wr
}

func (wr *Writer) appendEBMLHeader(b []byte) []byte {
	return AppendElement(b, IDEBML, concat(
		AppendUint(nil, IDEBMLVersion, 1), AppendUint(nil, IDEBMLReadVersion, 1),
		AppendUint(nil, IDEBMLMaxIDLength, 4), AppendUint(nil, IDEBMLMaxSizeLength, 8),
		AppendString(nil, IDDocType, "matroska"), AppendUint(nil, IDDocTypeVersion, 4), AppendUint(nil, IDDocTypeReadVersion, 2)))
}

// appendInfo appends Info, with a Duration to fill in at Close when the
// file is seekable (it is then the last 8 bytes).
func (wr *Writer) appendInfo(b []byte, duration bool) []byte {
	info := AppendUint(nil, IDTimecodeScale, wr.opts.TimecodeScale)
	info = AppendString(info, IDMuxingApp, "kvsmkv")
	info = AppendString(info, IDWritingApp, wr.opts.WritingApp)
	if duration {
		info = AppendFloat(info, IDDuration, 0)
	}
	return AppendElement(b, IDInfo, info)
}

func (wr *Writer) appendTracks(b []byte) []byte {
	var tracks []byte
	for _, t := range wr.opts.Tracks {
		tracks = AppendElement(tracks, IDTrackEntry, AppendTrack(nil, &t))
	}
	return AppendElement(b, IDTracks, tracks)
}

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func (wr *Writer) write(b []byte) {
	if wr.err != nil {
		return
	}
	_, wr.err = wr.w.Write(b)
	wr.pos += int64(len(b))
}

// WriteFrame adds a frame of a track at its presentation time t (from the
// file's start), in decoding order. A new Cluster starts at every video
// keyframe and at least every 5 seconds; Cluster timecodes never decrease
// unless the frames' times do by more than 5 seconds. The frame is not kept.
func (wr *Writer) WriteFrame(track uint64, t time.Duration, keyframe bool, data []byte) error {
	if wr.err != nil {
		return wr.err
	}
	entry := wr.track(track)
	if entry == nil {
		return fmt.Errorf("%w: frame for track %d, which is not in Tracks", ErrWriter, track)
	}
	if t < 0 {
		return fmt.Errorf("%w: frame at %v, before the file's start", ErrWriter, t)
	}
	isVideoKey := keyframe && track == wr.video
	// A frame may come before the Cluster's time (B-frames carry
	// presentation times): the block's offset is then negative.
	if !wr.open || isVideoKey && wr.clusterKey || !wr.fits(t) {
		wr.flush()
		wr.open, wr.clusterAt, wr.clusterKey = true, t/wr.scale*wr.scale, false
		wr.cluster = wr.cluster[:0]
		if wr.seeker == nil {
			wr.cluster = AppendHeader(wr.cluster, IDCluster, UnknownSize, 8)
		}
		wr.cluster = AppendUint(wr.cluster, IDTimecode, uint64(t/wr.scale))
	}
	if isVideoKey && !wr.clusterKey {
		wr.clusterKey = true
		if wr.seeker != nil {
			wr.cues = append(wr.cues, cue{t, track, wr.pos})
		}
	}
	rel := int16((t - wr.clusterAt) / wr.scale)
	flags := byte(0)
	if keyframe {
		flags = 0x80
	}
	tn := AppendSize(nil, int64(track), 0)
	wr.cluster = AppendHeader(wr.cluster, IDSimpleBlock, int64(len(tn)+3+len(data)), 0)
	wr.cluster = append(append(wr.cluster, tn...), byte(uint16(rel)>>8), byte(rel), flags)
	wr.cluster = append(wr.cluster, data...)
	wr.end = max(wr.end, t+entry.DefaultDuration)
	if wr.seeker == nil {
		// Streaming: the block goes out now, not when its Cluster ends.
		wr.write(wr.cluster)
		wr.cluster = wr.cluster[:0]
	}
	return wr.err
}

// fits reports whether a frame at t can go into the open Cluster: its
// offset from the Cluster's time fits a block's int16 timecode, and the
// Cluster would not last longer than maxCluster.
func (wr *Writer) fits(t time.Duration) bool {
	d := t - wr.clusterAt
	ticks := d / wr.scale
	return d < maxCluster && d > -maxCluster && ticks <= math.MaxInt16 && ticks >= math.MinInt16
}

// track returns the entry of a track number, or nil.
func (wr *Writer) track(n uint64) *Track {
	for i := range wr.opts.Tracks {
		if wr.opts.Tracks[i].Number == n {
			return &wr.opts.Tracks[i]
		}
	}
	return nil
}

// flush writes the open Cluster with its size (streaming: its blocks are
// out already).
func (wr *Writer) flush() {
	if !wr.open || wr.seeker == nil {
		wr.open = false
		return
	}
	b := AppendElement(nil, IDCluster, wr.cluster)
	// The Cue points at the Cluster, which starts where the write does.
	wr.write(b)
	wr.open = false
}

// AddTags adds a Tag of SimpleTags, written at Close.
func (wr *Writer) AddTags(tags []SimpleTag) {
	if len(tags) > 0 {
		wr.tags = append(wr.tags, tags)
	}
}

// Close writes the last Cluster, the Cues and the Tags, then the SeekHead
// and the Segment's size. A streaming Writer writes the Tags only; it does
// not close w.
func (wr *Writer) Close() error {
	wr.flush()
	if wr.err != nil {
		return wr.err
	}
	if wr.seeker == nil {
		if len(wr.tags) > 0 {
			var tags []byte
			for _, tg := range wr.tags {
				tags = AppendTag(tags, 50, tg)
			}
			wr.write(AppendElement(nil, IDTags, tags))
		}
		return wr.err
	}
	seek := map[ID]int64{IDInfo: wr.seekInfo, IDTracks: wr.seekTracks}
	if len(wr.cues) > 0 {
		seek[IDCues] = wr.pos
		var cues []byte
		for _, c := range wr.cues {
			pos := AppendUint(AppendUint(nil, IDCueTrack, c.track), IDCueClusterPosition, uint64(c.position))
			cues = AppendElement(cues, IDCuePoint, AppendElement(AppendUint(nil, IDCueTime, uint64(c.time/wr.scale)), IDCueTrackPositions, pos))
		}
		wr.write(AppendElement(nil, IDCues, cues))
	}
	if len(wr.tags) > 0 {
		seek[IDTags] = wr.pos
		var tags []byte
		for _, tg := range wr.tags {
			tags = AppendTag(tags, 50, tg)
		}
		wr.write(AppendElement(nil, IDTags, tags))
	}
	if wr.err != nil {
		return wr.err
	}
	size := wr.pos
	// The SeekHead, in the space kept after the Segment's header.
	var entries []byte
	for _, id := range []ID{IDInfo, IDTracks, IDCues, IDTags} {
		if p, ok := seek[id]; ok {
			entries = AppendElement(entries, IDSeek, AppendUint(AppendElement(nil, IDSeekID, AppendID(nil, id)), IDSeekPos, uint64(p)))
		}
	}
	head := AppendElement(nil, IDSeekHead, entries)
	head = AppendElement(head, IDVoid, make([]byte, seekHeadSpace-len(head)-2))
	if _, err := wr.seeker.Seek(wr.segment-8, io.SeekStart); err != nil {
		return err
	}
	if _, err := wr.w.Write(AppendSize(nil, size, 8)); err != nil {
		return err
	}
	if _, err := wr.w.Write(head); err != nil {
		return err
	}
	if _, err := wr.seeker.Seek(wr.durationAt, io.SeekStart); err != nil {
		return err
	}
	d := AppendFloat(nil, IDDuration, float64(wr.end/wr.scale))
	if _, err := wr.w.Write(d[len(d)-8:]); err != nil {
		return err
	}
	_, err := wr.seeker.Seek(wr.segment+size, io.SeekStart)
	return err
}

// AppendTrack appends the children of a TrackEntry describing t; wrap
// them with AppendElement(b, IDTrackEntry, ...).
func AppendTrack(b []byte, t *Track) []byte {
	b = AppendUint(b, IDTrackNumber, t.Number)
	uid := t.UID
	if uid == 0 {
		uid = t.Number
	}
	b = AppendUint(b, IDTrackUID, uid)
	b = AppendUint(b, IDTrackType, uint64(t.Type))
	if t.Name != "" {
		b = AppendString(b, IDName, t.Name)
	}
	if t.Language != "" {
		b = AppendString(b, IDLanguage, t.Language)
	}
	b = AppendString(b, IDCodecID, t.CodecID)
	if len(t.CodecPrivate) > 0 {
		b = AppendElement(b, IDCodecPrivate, t.CodecPrivate)
	}
	if t.DefaultDuration > 0 {
		b = AppendUint(b, IDDefaultDuration, uint64(t.DefaultDuration))
	}
	switch {
	case t.Width > 0 || t.Height > 0:
		b = AppendElement(b, IDVideo, AppendUint(AppendUint(nil, IDPixelWidth, t.Width), IDPixelHeight, t.Height))
	case t.Type == AudioTrack || t.SamplingRate > 0 || t.Channels > 0:
		// Written even when they are the defaults: demuxers such as
		// ffmpeg's refuse an audio track without them.
		a := AppendFloat(nil, IDSamplingFrequency, cmp.Or(t.SamplingRate, DefaultSamplingRate))
		a = AppendUint(a, IDChannels, cmp.Or(t.Channels, DefaultChannels))
		if t.BitDepth > 0 {
			a = AppendUint(a, IDBitDepth, t.BitDepth)
		}
		b = AppendElement(b, IDAudio, a)
	}
	return b
}

// AppendSimpleTag appends a SimpleTag element and its nested SimpleTags.
func AppendSimpleTag(b []byte, t *SimpleTag) []byte {
	d := AppendString(nil, IDTagName, t.Name)
	if t.Language != "" {
		d = AppendString(d, IDTagLanguage, t.Language)
	}
	if t.Binary != nil {
		d = AppendElement(d, IDTagBinary, t.Binary)
	} else {
		d = AppendString(d, IDTagString, t.Value)
	}
	for i := range t.Tags {
		d = AppendSimpleTag(d, &t.Tags[i])
	}
	return AppendElement(b, IDSimpleTag, d)
}

// AppendTag appends a Tag element holding tags, with a Targets element of
// TargetTypeValue targetType when targetType is not 0 (50 is the whole
// file or fragment).
func AppendTag(b []byte, targetType uint64, tags []SimpleTag) []byte {
	var d []byte
	if targetType != 0 {
		d = AppendElement(d, IDTargets, AppendUint(nil, IDTargetTypeValue, targetType))
	}
	for i := range tags {
		d = AppendSimpleTag(d, &tags[i])
	}
	return AppendElement(b, IDTag, d)
}

// AppendTags appends a Tags element holding one Tag, as AppendTag writes it.
func AppendTags(b []byte, targetType uint64, tags []SimpleTag) []byte {
	return AppendElement(b, IDTags, AppendTag(nil, targetType, tags))
}
