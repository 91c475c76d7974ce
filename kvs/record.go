package kvs

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// ErrNoFrameData means a fragment was read WithoutFrameData and cannot be
// written.
var ErrNoFrameData = errors.New("kvs: fragment read without frame data")

// Recorder writes fragments as Matroska files that players accept: known
// sizes, SeekHead, Cues, the source's Tracks, and every fragment's tags.
// With merging, consecutive fragments whose tracks are the same go into one
// file, on one timeline: each fragment starts at its producer timestamp's
// distance from the file's first (gaps are kept), and never before the end
// of the fragment written before it, so timestamps never go backwards.
// A fragment whose tracks differ starts a new file. Fragments that carry an
// in-band error, or no frames, are skipped.
type Recorder struct {
	create func(first *Fragment) (io.WriteSeeker, error)
	merge  bool
	app    string

	w      *mkv.Writer
	out    io.WriteSeeker
	tracks []Track
	first  *Fragment
	end    time.Duration // where the last fragment written ends, in file time
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder)

// WithMerge makes a Recorder write consecutive fragments with the same
// tracks into one file; by default each fragment is a file of its own.
func WithMerge() RecorderOption { return func(r *Recorder) { r.merge = true } }

// WithWritingApp sets the WritingApp written in each file's Info (default
// "kvsmkv").
func WithWritingApp(name string) RecorderOption { return func(r *Recorder) { r.app = name } }

// NewRecorder returns a Recorder that calls create for each new file, with
// the file's first fragment (to name it, for instance). When what create
// returns is also an io.Closer, the Recorder closes it once the file is
// complete.
func NewRecorder(create func(first *Fragment) (io.WriteSeeker, error), opts ...RecorderOption) *Recorder {
	r := &Recorder{create: create}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Add writes a fragment. It reports whether the fragment was skipped (an
// in-band error, or no frames).
func (r *Recorder) Add(f *Fragment) (skipped bool, err error) {
	if f.Err != nil || len(f.Frames) == 0 {
		return true, nil
	}
	for i := range f.Frames {
		if f.Frames[i].Data == nil && f.Frames[i].Size > 0 {
			return false, ErrNoFrameData
		}
	}
	if r.w != nil && (!r.merge || !sameTracks(r.tracks, f.Tracks)) {
		if err := r.Close(); err != nil {
			return false, err
		}
	}
	if r.w == nil {
		if err := r.start(f); err != nil {
			return false, err
		}
	}
	start := r.end
	if !r.first.ProducerTimestamp.IsZero() && !f.ProducerTimestamp.IsZero() {
		start = max(start, f.ProducerTimestamp.Duration()-r.first.ProducerTimestamp.Duration())
	} else {
		start = max(start, f.ClusterTimestamp-r.first.ClusterTimestamp)
	}
	origin := f.Frames[0].Timestamp
	for i := range f.Frames {
		origin = min(origin, f.Frames[i].Timestamp)
	}
	for i := range f.Frames {
		fr := &f.Frames[i]
		t := start + fr.Timestamp - origin
		if err := r.w.WriteFrame(fr.Track, t, fr.Keyframe, fr.Data); err != nil {
			return false, err
		}
		r.end = max(r.end, t+fr.Duration)
	}
	r.w.AddTags(simpleTags(f.Tags))
	return false, nil
}

func (r *Recorder) start(f *Fragment) error {
	out, err := r.create(f)
	if err != nil {
		return err
	}
	opts := mkv.WriterOptions{TimecodeScale: f.TimecodeScale, WritingApp: r.app}
	for _, t := range f.Tracks {
		opts.Tracks = append(opts.Tracks, t.Track)
	}
	w, err := mkv.NewWriter(out, opts)
	if err != nil {
		return err
	}
	r.w, r.out, r.tracks, r.first, r.end = w, out, f.Tracks, f, 0
	return nil
}

// Close completes the file being written.
func (r *Recorder) Close() error {
	if r.w == nil {
		return nil
	}
	err := r.w.Close()
	if c, ok := r.out.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	r.w, r.out = nil, nil
	if err != nil {
		return fmt.Errorf("kvs: writing MKV: %w", err)
	}
	return nil
}

// sameTracks tells whether two fragments' tracks can share a file.
func sameTracks(a, b []Track) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i].Track) {
			return false
		}
	}
	return true
}

func simpleTags(ts []Tag) []mkv.SimpleTag {
	out := make([]mkv.SimpleTag, len(ts))
	for i := range ts {
		out[i] = ts[i].SimpleTag
	}
	return out
}
