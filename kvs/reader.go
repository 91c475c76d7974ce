package kvs

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Option configures a Reader.
type Option func(*options)

type options struct {
	noData bool
	mkv    []mkv.Option
}

// WithoutFrameData makes Next keep each frame's metadata but not its bytes
// (Frame.Data is nil), so that reading whole fragments costs no copy.
func WithoutFrameData() Option { return func(o *options) { o.noData = true } }

// WithDecoderOptions passes options to the mkv decoder underneath, such as
// mkv.WithMaxElementSize or mkv.WithCRC.
func WithDecoderOptions(opts ...mkv.Option) Option {
	return func(o *options) { o.mkv = append(o.mkv, opts...) }
}

// errMixed is returned when Next and NextEvent are used on one Reader.
var errMixed = errors.New("kvs: Next and NextEvent cannot be used on the same Reader")

// Reader reads the fragments of a GetMedia or GetMediaForFragmentList
// response as its bytes arrive, in one of two ways: whole fragments with
// Next (or All), or streaming events with NextEvent (or Events), where
// frames are handed out as they arrive and never held. A Reader uses one
// way only.
type Reader struct {
	d    *mkv.Decoder
	opts options
	mode int // 0 until the first call, then modeWhole or modeStream
	err  error

	// The unit being read.
	unit       bool
	unitStart  int64
	index      int
	frag       *Fragment
	last       *Fragment // the fragment completed last in this unit
	hasSegment bool
	scale      uint64
	clusterTC  int64
	sawCluster bool
	clusters   int // Clusters started in the unit
	trackIdx   int
	tagStack   []Tag
	tokenSeen  bool // a CONTINUATION_TOKEN in the Tags element being read
	getMedia   bool // a fragment ended with CONTINUATION_TOKEN tags
	group      struct {
		open, hasBlock, ref bool
		block               mkv.Block
		frames              [][]byte
		offset              int64
		duration            int64
		hasDuration         bool
	}

	// Output.
	pending []Frame // frames of the last block, for NextEvent
	next    int
	done    *Fragment
	ev      Event

	// Frame bytes of the fragment being read whole, and where each ends.
	arena      []byte
	ends       []int
	hintBytes  int // frame bytes of the last fragment, to size the next one's
	hintFrames int
}

const (
	modeWhole = iota + 1
	modeStream
)

// NewReader returns a Reader of the response body r.
func NewReader(r io.Reader, opts ...Option) *Reader {
	rd := &Reader{index: -1, trackIdx: -1}
	for _, o := range opts {
		o(&rd.opts)
	}
	rd.d = mkv.NewDecoder(r, rd.opts.mkv...)
	return rd
}

// Next returns the next whole fragment, which belongs to the caller. A
// GetMedia fragment is returned as soon as its trailing CONTINUATION_TOKEN
// tags have been read; other fragments when their unit ends. At the end of
// the input Next returns io.EOF. When the input is cut off or malformed
// inside a unit, Next first returns what was complete of that fragment,
// marked Partial, then the error (a *mkv.SyntaxError; errors.Is(err,
// io.ErrUnexpectedEOF) when cut off). A fragment carrying an in-band error
// (Fragment.Err) is not an error of Next.
func (r *Reader) Next() (*Fragment, error) {
	if err := r.setMode(modeWhole); err != nil {
		return nil, err
	}
	for {
		f, err := r.pull()
		if err != nil || f != nil {
			return f, err
		}
	}
}

// All returns an iterator over the fragments of Next. It stops at the end of
// the input, or yields (nil, err) once for an error.
func (r *Reader) All() iter.Seq2[*Fragment, error] {
	return func(yield func(*Fragment, error) bool) {
		for {
			f, err := r.Next()
			if err == io.EOF || !yield(f, err) || err != nil {
				return
			}
		}
	}
}

// EventKind says what a streaming Event reports.
type EventKind uint8

// The kinds of Event.
const (
	// FrameEvent delivers one frame, with the fragment read so far: the
	// tags before the Cluster, the tracks, the counts.
	FrameEvent EventKind = iota + 1
	// FragmentEvent reports a fragment complete, with all its tags,
	// those after the Cluster included, and no frames.
	FragmentEvent
)

// Event is one step of streaming: a frame, or the end of a fragment.
type Event struct {
	Kind EventKind
	// Fragment is the fragment the event belongs to. In a FrameEvent it is
	// still being read; the FragmentEvent that completes it carries the
	// same pointer.
	Fragment *Fragment
	// Frame is the frame of a FrameEvent. It, and its Data, are valid
	// only until the next call.
	Frame *Frame
}

// NextEvent returns the next streaming event: each frame as soon as its
// block has arrived, and each fragment's end. Frames are never held, so a
// pipeline reading this way holds no fragment in memory. Fragments complete
// as with Next (including partial ones before an error), and the end of
// input is io.EOF.
func (r *Reader) NextEvent() (*Event, error) {
	if err := r.setMode(modeStream); err != nil {
		return nil, err
	}
	for {
		if r.next < len(r.pending) {
			r.ev = Event{Kind: FrameEvent, Fragment: r.frag, Frame: &r.pending[r.next]}
			r.next++
			return &r.ev, nil
		}
		f, err := r.pull()
		if err != nil {
			return nil, err
		}
		if f != nil {
			r.ev = Event{Kind: FragmentEvent, Fragment: f}
			return &r.ev, nil
		}
	}
}

// Events returns an iterator over the events of NextEvent.
func (r *Reader) Events() iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			ev, err := r.NextEvent()
			if err == io.EOF || !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// InputOffset returns the number of bytes of the response decoded so far.
func (r *Reader) InputOffset() int64 { return r.d.InputOffset() }

func (r *Reader) setMode(m int) error {
	if r.mode == 0 {
		r.mode = m
	}
	if r.mode != m {
		return errMixed
	}
	return nil
}

// pull decodes until a fragment is complete (returned), frames are pending
// (nil, nil), or the input ends or fails.
func (r *Reader) pull() (*Fragment, error) {
	r.pending, r.next = r.pending[:0], 0
	for {
		if f := r.done; f != nil {
			r.done = nil
			return f, nil
		}
		if r.err != nil {
			return nil, r.err
		}
		if len(r.pending) > 0 {
			return nil, nil
		}
		ev, err := r.d.Next()
		if err != nil {
			if err == io.EOF && r.unit && !r.hasSegment {
				// An EBML header whose Segment never came: the input
				// was cut between the two.
				err = fmt.Errorf("kvs: unit at offset %d ends before its Segment: %w", r.unitStart, io.ErrUnexpectedEOF)
			} else if err == io.EOF && r.getMedia && r.frag != nil && !r.frag.Continued && r.frag.Err == nil {
				// Unknown sizes let a cut between two elements pass for
				// an end; in a GetMedia response, whose fragments all
				// end with CONTINUATION_TOKEN tags, it is not one.
				err = fmt.Errorf("kvs: GetMedia fragment at offset %d ends before its CONTINUATION_TOKEN: %w", r.frag.Offset, io.ErrUnexpectedEOF)
			}
			if err == io.EOF {
				r.endUnit(r.d.InputOffset())
			} else if r.frag != nil {
				r.complete(r.d.InputOffset(), true)
			}
			r.err = err
			continue
		}
		r.handle(ev)
	}
}

// handle applies one mkv event to the unit being read.
func (r *Reader) handle(ev *mkv.Event) {
	switch ev.Kind {
	case mkv.Start:
		r.start(ev)
	case mkv.End:
		r.end(ev)
	case mkv.Value:
		r.value(ev)
	case mkv.BlockKind:
		if ev.ID == mkv.IDBlock && r.group.open {
			r.group.hasBlock = true
			r.group.block = ev.Block
			r.group.frames = append(r.group.frames[:0], ev.Block.Frames...)
			r.group.block.Frames = r.group.frames
			r.group.offset = ev.Offset
			return
		}
		r.frames(&ev.Block, ev.Offset, ev.Block.Keyframe, -1)
	}
}

func (r *Reader) start(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDEBML:
		if ev.Depth == 0 {
			r.endUnit(ev.Offset)
			r.beginUnit(ev.Offset)
		}
	case mkv.IDSegment:
		if ev.Depth == 0 {
			if !r.unit || r.hasSegment {
				r.endUnit(ev.Offset)
				r.beginUnit(ev.Offset)
			}
			r.hasSegment = true
		}
	case mkv.IDTrackEntry:
		f := r.f(ev.Offset)
		f.Tracks = append(f.Tracks, Track{Language: "eng"})
		r.trackIdx = len(f.Tracks) - 1
	case mkv.IDCluster:
		r.f(ev.Offset).HasCluster = true
		r.clusterTC = 0
		r.clusters++
		r.sawCluster = true
	case mkv.IDTags:
		r.tokenSeen = false
	case mkv.IDSimpleTag:
		r.f(ev.Offset)
		r.tagStack = append(r.tagStack, Tag{Language: "und", Default: true, AfterCluster: r.sawCluster})
	case mkv.IDBlockGroup:
		r.group.open, r.group.hasBlock, r.group.ref, r.group.hasDuration = true, false, false, false
	}
}

func (r *Reader) end(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDSegment:
		if ev.Depth != 0 {
			return
		}
		if f := r.frag; r.getMedia && f != nil && !f.Continued && f.Err == nil {
			// An unknown-size Segment also ends at the end of input:
			// a GetMedia fragment without its CONTINUATION_TOKEN is
			// complete only if another unit follows (see pull).
			return
		}
		r.endUnit(ev.DataOffset() + ev.Size)
	case mkv.IDTrackEntry:
		r.trackIdx = -1
	case mkv.IDSimpleTag:
		n := len(r.tagStack) - 1
		if n < 0 {
			return
		}
		t := r.tagStack[n]
		r.tagStack = r.tagStack[:n]
		if n > 0 {
			p := &r.tagStack[n-1]
			p.Tags = append(p.Tags, t)
			return
		}
		f := r.f(ev.Offset)
		f.Tags = append(f.Tags, t)
		r.applyKVS(f, &t)
	case mkv.IDTags:
		if r.tokenSeen && r.frag != nil {
			// GetMedia writes CONTINUATION_TOKEN last in a unit: the
			// fragment is complete now, not when the next one starts.
			r.getMedia = true
			r.complete(ev.DataOffset()+ev.Size, false)
		}
	case mkv.IDBlockGroup:
		g := &r.group
		g.open = false
		if g.hasBlock {
			dur := int64(-1)
			if g.hasDuration {
				dur = g.duration
			}
			r.frames(&g.block, g.offset, !g.ref, dur)
		}
	}
}

func (r *Reader) value(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDTimecodeScale:
		if ev.Uint > 0 {
			r.scale = ev.Uint
			r.f(ev.Offset).TimecodeScale = ev.Uint
		}
		return
	case mkv.IDTimecode:
		f := r.f(ev.Offset)
		r.clusterTC = int64(min(ev.Uint, 1<<62))
		if r.clusters == 1 {
			f.ClusterTimestamp = time.Duration(r.clusterTC * int64(r.scale))
		}
		return
	case mkv.IDBlockDuration:
		if r.group.open {
			r.group.duration, r.group.hasDuration = int64(min(ev.Uint, 1<<62)), true
		}
		return
	case mkv.IDReferenceBlock:
		if r.group.open {
			r.group.ref = true
		}
		return
	}
	if n := len(r.tagStack); n > 0 {
		t := &r.tagStack[n-1]
		switch ev.ID {
		case mkv.IDTagName:
			t.Name = ev.String()
		case mkv.IDTagString:
			t.Value = ev.String()
		case mkv.IDTagBinary:
			t.Binary = append([]byte(nil), ev.Bytes...)
		case mkv.IDTagLanguage:
			t.Language = ev.String()
		case mkv.IDTagDefault:
			t.Default = ev.Uint != 0
		}
		return
	}
	if r.trackIdx >= 0 && r.frag != nil && r.trackIdx < len(r.frag.Tracks) {
		setTrack(&r.frag.Tracks[r.trackIdx], ev)
	}
}

func setTrack(t *Track, ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDTrackNumber:
		t.Number = ev.Uint
	case mkv.IDTrackUID:
		t.UID = ev.Uint
	case mkv.IDTrackType:
		t.Type = TrackType(ev.Uint)
	case mkv.IDCodecID:
		t.CodecID = ev.String()
	case mkv.IDName:
		t.Name = ev.String()
	case mkv.IDLanguage:
		t.Language = ev.String()
	case mkv.IDCodecPrivate:
		t.CodecPrivate = append([]byte(nil), ev.Bytes...)
	case mkv.IDDefaultDuration:
		t.DefaultDuration = time.Duration(min(ev.Uint, 1<<62))
	case mkv.IDPixelWidth:
		t.Width = ev.Uint
	case mkv.IDPixelHeight:
		t.Height = ev.Uint
	case mkv.IDSamplingFrequency:
		t.SamplingRate = ev.Float
	case mkv.IDChannels:
		t.Channels = ev.Uint
	case mkv.IDBitDepth:
		t.BitDepth = ev.Uint
	}
}

// applyKVS records the typed value of a top-level KVS tag. A value that
// does not parse leaves the typed field unset; the tag is in Tags anyway.
func (r *Reader) applyKVS(f *Fragment, t *Tag) {
	k := tags.Lookup(t.Name)
	switch k {
	case tags.KeyOther:
	case tags.KeyFragmentNumber:
		if n, err := tags.ParseFragmentNumber(t.Value); err == nil {
			f.Number = n
		}
	case tags.KeyServerTimestamp:
		if ts, err := tags.ParseTimestamp(t.Value); err == nil {
			f.ServerTimestamp = ts
		}
	case tags.KeyProducerTimestamp:
		if ts, err := tags.ParseTimestamp(t.Value); err == nil {
			f.ProducerTimestamp = ts
		}
	case tags.KeyMillisBehindNow:
		if v, err := tags.ParseMillis(t.Value); err == nil {
			f.MillisBehindNow, f.HasMillisBehindNow = v, true
		}
	case tags.KeyContinuationToken:
		f.ContinuationToken = t.Value
		r.tokenSeen = true
	default:
		if f.Err == nil {
			f.Err = &tags.FragmentError{}
		}
		f.Err.Set(k, t.Value)
	}
}

// frames records the frames of a block: counted in its track, and kept in
// the fragment (Next) or queued for NextEvent. dur is the BlockDuration in
// ticks, or -1.
func (r *Reader) frames(b *mkv.Block, offset int64, key bool, dur int64) {
	f := r.f(offset)
	t := f.Track(b.Track)
	if t == nil {
		f.Tracks = append(f.Tracks, Track{Number: b.Track})
		t = &f.Tracks[len(f.Tracks)-1]
	}
	t.Blocks++
	scale := int64(r.scale)
	ts := time.Duration((r.clusterTC + int64(b.Timecode)) * scale)
	d := t.DefaultDuration
	if dur >= 0 {
		d = time.Duration(dur * scale)
		if len(b.Frames) > 1 && t.DefaultDuration == 0 {
			d /= time.Duration(len(b.Frames))
		}
	}
	for i, data := range b.Frames {
		t.Frames++
		if key {
			t.Keyframes++
		}
		fr := Frame{
			Track: b.Track, Keyframe: key, Invisible: b.Invisible, Discardable: b.Discardable,
			Timestamp: ts + time.Duration(i)*t.DefaultDuration, Duration: d, Offset: offset, Size: len(data),
		}
		if r.mode == modeStream {
			fr.Data = data
			r.pending = append(r.pending, fr)
			continue
		}
		if !r.opts.noData {
			r.arena = append(r.arena, data...)
			r.ends = append(r.ends, len(r.arena))
		}
		f.Frames = append(f.Frames, fr)
	}
}

// f returns the fragment being read, starting a unit if the input has
// elements before any EBML header, or a continued fragment if the unit's
// fragment was completed early.
func (r *Reader) f(offset int64) *Fragment {
	if !r.unit {
		r.beginUnit(offset)
	}
	if r.frag == nil {
		f := &Fragment{Index: r.index, Offset: offset, Continued: true, TimecodeScale: r.scale}
		if l := r.last; l != nil {
			f.Number = l.Number
			f.HasCluster, f.ClusterTimestamp = l.HasCluster, l.ClusterTimestamp
			for _, t := range l.Tracks {
				t.Blocks, t.Frames, t.Keyframes = 0, 0, 0
				f.Tracks = append(f.Tracks, t)
			}
		}
		r.frag = f
	}
	return r.frag
}

func (r *Reader) beginUnit(offset int64) {
	r.unit, r.unitStart = true, offset
	r.index++
	r.hasSegment, r.sawCluster, r.tokenSeen = false, false, false
	r.scale = mkv.DefaultTimecodeScale
	r.clusterTC, r.clusters = 0, 0
	r.trackIdx = -1
	r.tagStack = r.tagStack[:0]
	r.group.open = false
	r.last = nil
	r.frag = &Fragment{Index: r.index, Offset: offset, TimecodeScale: r.scale}
	if r.mode == modeWhole && r.hintFrames > 0 {
		r.frag.Frames = make([]Frame, 0, r.hintFrames+r.hintFrames/8)
	}
	if r.mode == modeWhole && !r.opts.noData {
		r.arena = make([]byte, 0, r.hintBytes+r.hintBytes/8)
	}
}

func (r *Reader) endUnit(offset int64) {
	if r.frag != nil {
		r.complete(offset, false)
	}
	r.unit = false
}

// complete hands the fragment being read to the caller.
func (r *Reader) complete(end int64, partial bool) {
	f := r.frag
	f.Size = end - f.Offset
	f.Partial = partial
	if f.Err != nil {
		f.Err.FragmentNumber = f.Number
	}
	if r.mode == modeWhole && !r.opts.noData {
		// Frame bytes were appended to one buffer; slice it now that it
		// will not move any more.
		start := 0
		for i := range f.Frames {
			f.Frames[i].Data = r.arena[start:r.ends[i]:r.ends[i]]
			start = r.ends[i]
		}
		r.hintBytes = len(r.arena)
		r.arena, r.ends = nil, r.ends[:0]
	}
	if len(f.Frames) > 0 {
		r.hintFrames = len(f.Frames)
	}
	r.last, r.frag, r.done = f, nil, f
}
