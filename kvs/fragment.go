package kvs

import (
	"slices"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Fragment is one unit of a KVS media response (an EBML header and its
// Segment): a fragment's metadata, all of its tags and, when read whole, its
// frames.
type Fragment struct {
	// Index is the unit's position in the response, from 0.
	Index int
	// Offset and Size locate the unit in the response's bytes.
	Offset, Size int64

	// Number is the AWS_KINESISVIDEO_FRAGMENT_NUMBER tag.
	Number tags.FragmentNumber
	// ServerTimestamp and ProducerTimestamp are the fragment's KVS
	// timestamps, under either spelling of their tags; zero when absent.
	ServerTimestamp, ProducerTimestamp tags.Timestamp
	// MillisBehindNow is GetMedia's AWS_KINESISVIDEO_MILLIS_BEHIND_NOW,
	// valid when HasMillisBehindNow.
	MillisBehindNow    int64
	HasMillisBehindNow bool
	// ContinuationToken is GetMedia's AWS_KINESISVIDEO_CONTINUATION_TOKEN.
	ContinuationToken string
	// Err is the in-band error the unit reports, or nil. A fragment with an
	// error is data: reading goes on with the next unit.
	Err *tags.FragmentError

	// Tags are all the top-level SimpleTags of the unit's Tags elements,
	// in document order, the KVS tags included; nested SimpleTags are in
	// their parent's Tags.
	Tags []Tag
	// Tracks describe the unit's tracks, with the blocks and frames read of
	// each.
	Tracks []Track
	// TimecodeScale is the Segment's Info/TimecodeScale in nanoseconds per
	// tick (1,000,000 when absent).
	TimecodeScale uint64
	// HasCluster tells whether the unit has a Cluster; error units and
	// empty fragments have none. ClusterTimestamp is the first Cluster's
	// Timecode times TimecodeScale.
	HasCluster       bool
	ClusterTimestamp time.Duration

	// Frames are the fragment's frames in stream order, when the reader
	// reads whole fragments. Their Data is nil with WithoutFrameData, and
	// lent otherwise: valid until the reader's next call (Clone keeps it).
	Frames []Frame

	// Partial is set on a fragment whose unit was cut off (or failed to
	// decode): it holds what was complete before the fault, and the
	// reader's next call returns the error, unless the reader
	// resynchronised (WithResync), in which case Damage says why.
	Partial bool
	// Damage lists the faults found in the unit, in stream order: CRC-32
	// mismatches, and, with WithResync, the fault that cut it short. A
	// fragment with Damage is data like any other; State sums it up. When
	// read with NextEvent or a PushReader, frames are handed out before
	// their Cluster ends, so those of a Cluster whose CRC-32 then fails
	// were handed out unverified: the FragmentEvent carries the Damage.
	Damage []*Damage
	// Continued is set on a second Fragment of the same Index, holding what
	// its unit carried after the CONTINUATION_TOKEN tags that completed the
	// first (KVS writes those tags last, so this does not happen with KVS).
	Continued bool
}

// WallClock returns the wall-clock time of a frame of the fragment: its
// producer timestamp plus the frame's offset from the fragment's first
// Cluster. Matroska timestamps in KVS output are not wall clock: GetMedia
// writes Cluster timecodes relative to the start of the response (the first
// fragment's Cluster is at 0), and a producer may use relative time
// altogether ("0.000", "5.000", ... as producer timestamps, in which case
// the result is relative too and ServerTimestamp is the nearest wall
// clock). Without a producer timestamp, the frame's Matroska timestamp is
// read as time since the Unix epoch.
func (f *Fragment) WallClock(fr *Frame) time.Time {
	if f.ProducerTimestamp.IsZero() {
		return time.Unix(0, int64(fr.Timestamp)).UTC()
	}
	return f.ProducerTimestamp.Time().Add(fr.Timestamp - f.ClusterTimestamp)
}

// Clone returns a copy of f that shares nothing the reader reuses: its
// frames' bytes are copied into one buffer of their own, so the copy stays
// valid after the reader's next call. It is how a caller keeps a fragment
// with its frames' bytes (to queue it, send it on a channel, keep it in a
// list): every reader lends them (see the package doc, "Frame bytes"). (Everything else of a Fragment
// already belongs to the caller; Clone copies the Frames, Tags and Tracks
// lists too, so that the two may be changed independently.)
func (f *Fragment) Clone() *Fragment {
	c := *f
	c.Tags = slices.Clone(f.Tags)
	c.Tracks = slices.Clone(f.Tracks)
	c.Frames = slices.Clone(f.Frames)
	c.Damage = slices.Clone(f.Damage)
	if f.Err != nil {
		e := *f.Err
		c.Err = &e
	}
	n := 0
	for i := range f.Frames {
		n += len(f.Frames[i].Data)
	}
	buf := make([]byte, 0, n)
	for i := range c.Frames {
		if d := c.Frames[i].Data; d != nil {
			start := len(buf)
			buf = append(buf, d...)
			c.Frames[i].Data = buf[start:len(buf):len(buf)]
		}
	}
	return &c
}

// Track returns the track with the given number (the first, if several
// have it), or nil. Its cost grows with the number of tracks, which the
// reader bounds (WithMaxTracks).
func (f *Fragment) Track(number uint64) *Track {
	for i := range f.Tracks {
		if f.Tracks[i].Number == number {
			return &f.Tracks[i]
		}
	}
	return nil
}

// TrackByName returns the first track whose Name is name (Amazon Connect
// names its tracks AUDIO_FROM_CUSTOMER and AUDIO_TO_CUSTOMER), or nil.
func (f *Fragment) TrackByName(name string) *Track {
	for i := range f.Tracks {
		if f.Tracks[i].Name == name {
			return &f.Tracks[i]
		}
	}
	return nil
}

// Tag returns the TagString of the first top-level SimpleTag named name
// (before or after the Cluster, in document order), such as the ContactId
// Amazon Connect puts on every fragment, and whether there is one. A tag
// with only a TagBinary has the value "".
func (f *Fragment) Tag(name string) (value string, ok bool) {
	for i := range f.Tags {
		if f.Tags[i].Name == name {
			return f.Tags[i].Value, true
		}
	}
	return "", false
}

// Tag is a Matroska SimpleTag of a fragment, and where it was.
type Tag struct {
	mkv.SimpleTag
	// AfterCluster marks a tag that came after the unit's Cluster.
	AfterCluster bool
}

// Track is a TrackEntry of a fragment, with what the reader counted of it.
type Track struct {
	mkv.Track
	// Blocks counts the SimpleBlocks and Blocks read of the track, Frames
	// their frames after lacing, Keyframes the frames that are keyframes.
	Blocks, Frames, Keyframes int
}

// Frame is one frame of a track.
type Frame struct {
	Track uint64
	// Keyframe is the SimpleBlock keyframe flag, or for a Block the absence
	// of a ReferenceBlock in its BlockGroup.
	Keyframe    bool
	Invisible   bool
	Discardable bool
	// Timestamp is the frame's Matroska time (see mkv.Timing): (Cluster
	// Timecode + the block's relative timecode) x TimecodeScale, and, for
	// the n-th frame of a laced block, n frame durations more. See
	// Fragment.WallClock for the wall-clock time.
	Timestamp time.Duration
	// Duration is the BlockDuration, or the track's DefaultDuration; zero
	// when neither is known.
	Duration time.Duration
	// Offset is the position of the frame's block in the response.
	Offset int64
	// Size is the frame's length in bytes, kept with WithoutFrameData too.
	Size int
	// Data is the frame's bytes, lent: valid until the reader's next call
	// (see the package doc, "Frame bytes"), except in a Fragment.Clone.
	Data []byte
}
