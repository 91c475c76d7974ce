package kvstest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The ErrorId values of PutMedia's ERROR acks that the emulator sends (the
// KVS Developer Guide's list).
const (
	ErrorIDStreamRead        = 4000 // the data stream could not be read
	ErrorIDFragmentSize      = 4001 // a fragment is larger than 50 MB
	ErrorIDFragmentDuration  = 4002 // a fragment is longer than 10 s
	ErrorIDConnectionLimit   = 4003 // the connection lasted too long
	ErrorIDTimecodeLesser    = 4004 // a fragment's timecode is less than the previous one's
	ErrorIDInvalidMKV        = 4006 // the data is not valid MKV
	ErrorIDInvalidTimestamp  = 4007 // the producer timestamp is invalid
	ErrorIDStreamDeleted     = 4008 // the stream was deleted
	ErrorIDTrackMismatch     = 4010 // a block's track is not in Tracks
	ErrorIDTooManyTracks     = 4012 // more tracks than allowed
	ErrorIDInternal          = 5000 // internal error
	ErrorIDPersistenceFailed = 5001 // the fragment could not be stored
)

// KVS's limits on what one fragment and one stream may hold.
const (
	maxFragmentSize     = 50 << 20
	maxFragmentDuration = 10 * time.Second
	maxTracks           = 3
)

// ingestError is a fault of ingested media, with the ErrorId of its ack.
type ingestError struct {
	id  int
	msg string
}

func (e *ingestError) Error() string { return fmt.Sprintf("kvstest: %s (ErrorId %d)", e.msg, e.id) }

// sink receives the fragments a segmenter cuts.
type sink interface {
	// begin takes a new fragment, its Cluster's Timecode read: header,
	// pre, timecode and producer are set.
	begin(f *fragment) error
	// grow adds one of the Cluster's children (a block, mostly) to f.
	grow(f *fragment, elem []byte) error
	// finish completes f: post and duration are set.
	finish(f *fragment) error
}

// segmenter cuts a producer's MKV into fragments, one per Cluster, as its
// bytes arrive: it keeps each Segment's EBML header, Info and Tracks, and
// each Cluster's children as the producer wrote them, and tells its sink
// of every fragment's start, every block and every fragment's end.
//
// A fragment ends where the next top-level element that is not Tags
// starts, at a Tags element carrying the producer SDKs' end-of-fragment
// marker (EndOfFragment), or at the end of its Segment or of the input:
// Tags after a Cluster belong to its fragment, Tags before the first
// Cluster of a Segment (or after a marker) to the next fragment. The
// marker itself, and the Tag elements holding a SimpleTag drop names, are
// not kept.
type segmenter struct {
	dec  *mkv.PushDecoder
	sink sink
	// drop tells the SimpleTags of top-level Tags that are not kept.
	drop func(name string) bool
	// strict applies KVS's limits (PutMedia); streams from files are
	// taken as they are.
	strict bool
	// relative makes producer timestamps start + Cluster time, rather than
	// the Cluster time itself (x-amzn-fragment-timecode-type).
	relative bool
	start    time.Time

	// raw holds the input from offset base on, for the elements kept.
	raw  []byte
	base int64
	// capture is the offset of the master being kept, at depth capDepth,
	// or -1.
	capture  int64
	capDepth int

	ebml, info, tracksRaw []byte
	header                []byte
	scale                 uint64
	tracks                map[uint64]time.Duration
	track                 mkv.Track
	inTrack               bool
	pre                   []byte

	// cur is the fragment being read; lead holds the Cluster's children
	// before its Timecode (a CRC-32), which start its body.
	cur         *fragment
	lead        []byte
	inCluster   bool
	clusterTime time.Duration
	end         time.Duration
	lastCluster time.Duration
	hasLast     bool

	// For the top-level Tags being read: the Tag elements kept, the start
	// of the Tag being read and whether it is dropped (it holds a
	// SimpleTag drop names), whether a Tag was dropped and whether one
	// held the end-of-fragment marker.
	inTags        bool
	keptTags      []byte
	tagStart      int64
	tagDrop       bool
	dropped, eofr bool
}

// EndOfFragment is the name of the SimpleTag with which AWS's producer SDKs
// end the fragment being put at once (on stop, and before each key frame
// when the application asks for it): KVS acknowledges the fragment then,
// without waiting for the next Cluster.
const EndOfFragment = tags.Prefix + "END_OF_FRAGMENT"

// dropEndOfFragment is PutMedia's drop: the marker only.
func dropEndOfFragment(name string) bool { return name == EndOfFragment }

// dropKVSTags is a file's drop: every KVS tag, which the emulator writes
// itself, per API.
func dropKVSTags(name string) bool { return strings.HasPrefix(name, tags.Prefix) }

func newSegmenter(s sink, strict, relative bool, start time.Time, drop func(string) bool) *segmenter {
	g := &segmenter{sink: s, drop: drop, strict: strict, relative: relative, start: start, capture: -1, scale: mkv.DefaultTimecodeScale}
	g.dec = mkv.NewPushDecoder(g.event, mkv.WithMaxElementSize(maxFragmentSize))
	return g
}

// Write decodes the next bytes of the input.
func (g *segmenter) Write(p []byte) error {
	g.raw = append(g.raw, p...)
	_, err := g.dec.Write(p)
	keep := g.dec.InputOffset()
	if g.capture >= 0 {
		keep = min(keep, g.capture)
	}
	if n := int(keep - g.base); n > 0 && n <= len(g.raw) {
		g.raw = append(g.raw[:0], g.raw[n:]...)
		g.base = keep
	}
	return g.fault(err)
}

// Close ends the input, completing the last fragment.
func (g *segmenter) Close() error {
	if err := g.dec.Close(); err != nil {
		return g.fault(err)
	}
	return g.finish()
}

// fault turns a decoding error into the ingestError of its ack.
func (g *segmenter) fault(err error) error {
	var ie *ingestError
	var se *mkv.SyntaxError
	switch {
	case err == nil || errors.As(err, &ie):
		return err
	case errors.As(err, &se) && errors.Is(err, mkv.ErrTooLarge):
		return &ingestError{ErrorIDFragmentSize, se.Error()}
	case errors.As(err, &se):
		return &ingestError{ErrorIDInvalidMKV, se.Error()}
	}
	return err // the sink's own
}

// elem returns the raw bytes of the element ev reports the end or value of.
func (g *segmenter) elem(start int64, ev *mkv.Event) []byte {
	return g.raw[start-g.base : ev.Offset+int64(ev.HeaderSize)+ev.Size-g.base]
}

func (g *segmenter) event(ev *mkv.Event) error {
	switch ev.Kind {
	case mkv.Start:
		return g.startMaster(ev)
	case mkv.End:
		return g.endMaster(ev)
	case mkv.Value, mkv.Skip:
		if g.inTrack {
			g.track.Set(ev)
		}
		if g.inTags && ev.ID == mkv.IDTagName {
			name := string(ev.Bytes)
			g.eofr = g.eofr || name == EndOfFragment
			g.tagDrop = g.tagDrop || g.drop != nil && g.drop(name)
		}
		if ev.ID == mkv.IDTimecodeScale && ev.Depth == 2 && ev.Uint > 0 {
			g.scale = ev.Uint
		}
		if !g.inCluster || ev.Depth != 2 || g.capture >= 0 {
			return nil
		}
		if ev.ID == mkv.IDTimecode {
			if err := g.begin(int64(ev.Uint)); err != nil {
				return err
			}
		}
		return g.grow(g.elem(ev.Offset, ev)) // the Timecode too: KVS serves the producer's bytes
	case mkv.BlockKind:
		if !g.inCluster {
			return nil
		}
		if err := g.block(&ev.Block); err != nil {
			return err
		}
		if ev.Depth == 2 && g.capture < 0 {
			return g.grow(g.elem(ev.Offset, ev))
		}
	}
	return nil
}

func (g *segmenter) startMaster(ev *mkv.Event) error {
	switch {
	case ev.Depth == 0:
		if err := g.finish(); err != nil {
			return err
		}
		if ev.ID == mkv.IDEBML {
			g.capture, g.capDepth = ev.Offset, 0
		}
		if ev.ID == mkv.IDSegment {
			g.header, g.info, g.tracksRaw, g.pre = nil, nil, nil, nil
			g.tracks = map[uint64]time.Duration{}
			g.scale = mkv.DefaultTimecodeScale
		}
		return nil
	case ev.Depth == 1:
		if ev.ID != mkv.IDTags {
			if err := g.finish(); err != nil {
				return err
			}
		}
		if ev.ID == mkv.IDCluster {
			g.inCluster, g.lead = true, nil
			return nil
		}
		g.capture, g.capDepth = ev.Offset, 1
		if ev.ID == mkv.IDTags {
			g.inTags, g.keptTags, g.dropped, g.eofr = true, nil, false, false
		}
	case ev.Depth == 2 && g.inTags && ev.ID == mkv.IDTag:
		g.tagStart, g.tagDrop = ev.Offset, false
	case ev.Depth == 2 && g.inCluster:
		g.capture, g.capDepth = ev.Offset, 2
	}
	if ev.ID == mkv.IDTrackEntry {
		g.track, g.inTrack = mkv.NewTrack(), true
	}
	return nil
}

func (g *segmenter) endMaster(ev *mkv.Event) error {
	switch {
	case ev.ID == mkv.IDTrackEntry:
		g.inTrack = false
		g.tracks[g.track.Number] = g.track.DefaultDuration
		if g.strict && len(g.tracks) > maxTracks {
			return &ingestError{ErrorIDTooManyTracks, fmt.Sprintf("more than %d tracks", maxTracks)}
		}
	case ev.ID == mkv.IDCluster && ev.Depth == 1:
		g.inCluster = false
		if g.cur == nil {
			return &ingestError{ErrorIDInvalidMKV, "a Cluster without a Timecode"}
		}
	case ev.ID == mkv.IDSegment && ev.Depth == 0:
		return g.finish()
	case ev.ID == mkv.IDTag && g.inTags && ev.Depth == 2:
		if g.tagDrop {
			g.dropped = true
		} else {
			g.keptTags = append(g.keptTags, g.elem(g.tagStart, ev)...)
		}
	}
	if g.capture < 0 || ev.Depth != g.capDepth {
		return nil
	}
	raw := append([]byte(nil), g.elem(g.capture, ev)...)
	g.capture = -1
	switch {
	case ev.ID == mkv.IDEBML:
		g.ebml = raw
	case ev.ID == mkv.IDInfo:
		g.info = raw
	case ev.ID == mkv.IDTracks:
		g.tracksRaw = raw
	case ev.ID == mkv.IDTags:
		return g.endTags(raw)
	case ev.Depth == 2 && g.inCluster:
		return g.grow(raw)
	}
	return nil
}

// endTags keeps a top-level Tags element with the fragment it belongs to,
// less the Tag elements holding a SimpleTag dropped (the Tags rewritten
// with the others, or left out when none is left), and ends the fragment
// at the end-of-fragment marker.
func (g *segmenter) endTags(raw []byte) error {
	g.inTags = false
	if g.dropped {
		raw = nil
		if len(g.keptTags) > 0 {
			raw = mkv.AppendElement(nil, mkv.IDTags, g.keptTags)
		}
	}
	if g.cur != nil {
		g.cur.post = append(g.cur.post, raw...)
	} else {
		g.pre = append(g.pre, raw...)
	}
	if g.eofr {
		return g.finish()
	}
	return nil
}

// begin starts a fragment at its Cluster's Timecode.
func (g *segmenter) begin(timecode int64) error {
	if g.cur != nil {
		return &ingestError{ErrorIDInvalidMKV, "a Cluster with two Timecodes"}
	}
	t := time.Duration(timecode) * time.Duration(g.scale)
	if g.strict && g.hasLast && t < g.lastCluster {
		return &ingestError{ErrorIDTimecodeLesser, "fragment timecode less than the previous one"}
	}
	g.lastCluster, g.hasLast = t, true
	g.clusterTime, g.end = t, t
	if g.header == nil {
		if g.ebml == nil || g.tracksRaw == nil {
			return &ingestError{ErrorIDInvalidMKV, "a Cluster before the EBML header and Tracks"}
		}
		g.header = append([]byte(nil), g.ebml...)
		g.header = mkv.AppendHeader(g.header, mkv.IDSegment, mkv.UnknownSize, 8)
		g.header = append(g.header, g.info...)
		g.header = append(g.header, g.tracksRaw...)
	}
	producer := time.Unix(0, int64(t))
	if g.relative {
		producer = g.start.Add(t)
	}
	g.cur = &fragment{header: g.header, pre: g.pre, body: g.lead, timecode: timecode, producer: producer.Truncate(time.Millisecond)}
	g.pre, g.lead = nil, nil
	return g.sink.begin(g.cur)
}

// block checks a block of the current Cluster and extends its duration.
func (g *segmenter) block(b *mkv.Block) error {
	if g.cur == nil {
		return &ingestError{ErrorIDInvalidMKV, "a block before its Cluster's Timecode"}
	}
	def, ok := g.tracks[b.Track]
	if g.strict && !ok {
		return &ingestError{ErrorIDTrackMismatch, fmt.Sprintf("a block of track %d, not in Tracks", b.Track)}
	}
	t := g.clusterTime + time.Duration(b.Timecode)*time.Duration(g.scale)
	g.end = max(g.end, t+time.Duration(len(b.Frames))*def)
	if g.strict && g.end-g.clusterTime > maxFragmentDuration {
		return &ingestError{ErrorIDFragmentDuration, "fragment longer than 10 s"}
	}
	return nil
}

func (g *segmenter) grow(elem []byte) error {
	if g.cur == nil {
		g.lead = append(g.lead, elem...)
		return nil
	}
	if g.strict && len(g.cur.body)+len(elem) > maxFragmentSize {
		return &ingestError{ErrorIDFragmentSize, "fragment larger than 50 MB"}
	}
	return g.sink.grow(g.cur, elem)
}

// finish completes the fragment being read, if any.
func (g *segmenter) finish() error {
	f := g.cur
	if f == nil {
		return nil
	}
	g.cur = nil
	f.duration = g.end - g.clusterTime
	return g.sink.finish(f)
}
