package kvsbeam

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/annexb"
)

// FrameSelector chooses the frames ReadFrames returns.
type FrameSelector struct {
	// Tracks are the track numbers to read; none means every video track.
	Tracks []uint64
	// AllFrames returns every frame of those tracks; by default only
	// their keyframes.
	AllFrames bool
}

// Frame is one frame of a stream, with its wall clock. Data of an H.264 or
// H.265 frame is Annex-B (start codes), and a keyframe's begins with the
// track's parameter sets (VPS, SPS, PPS), so that it decodes alone
// (ffmpeg -i K.h264 K.png); other codecs' frames are as the track holds
// them.
type Frame struct {
	Stream         string
	FragmentNumber string
	Track          uint64
	CodecID        string
	Keyframe       bool
	// WallClock is the fragment's producer timestamp plus the frame's
	// offset in the fragment (kvs.Fragment.WallClock).
	WallClock time.Time
	Data      []byte
}

// ReadFrames reads the frames that sel chooses from the fragments of
// requests, a PCollection<Request>, and returns a PCollection<Frame>: each
// frame once, spread and bounded per stream as ReadFragments does. A
// frame that is not a sequence of length-prefixed NAL units, or a track
// whose CodecPrivate has no parameter sets, fails the bundle with an
// *annexb.FrameError or *annexb.CodecPrivateError.
func ReadFrames(s beam.Scope, opts Options, sel FrameSelector, requests beam.PCollection) beam.PCollection {
	s = s.Scope("kvsbeam.ReadFrames")
	opts = opts.withDefaults()
	grouped := listBatches(s, opts, requests)
	return beam.ParDo(s, &fetchFramesFn{Endpoint: opts.Endpoint, Region: opts.Region, BatchSize: opts.BatchSize,
		Tracks: sel.Tracks, AllFrames: sel.AllFrames}, grouped)
}

// fetchFramesFn fetches the batches of one stream#shard group, one after
// the other, and emits the chosen frames.
type fetchFramesFn struct {
	Endpoint, Region string
	BatchSize        int
	Tracks           []uint64
	AllFrames        bool

	client *kvsaws.Client
}

func (f *fetchFramesFn) Setup(ctx context.Context) error {
	c, err := newClient(ctx, f.Endpoint, f.Region, f.BatchSize)
	f.client = c
	return err
}

func (f *fetchFramesFn) ProcessElement(ctx context.Context, _ string, group func(*Batch) bool, emit func(Frame)) error {
	var b Batch
	for group(&b) {
		var ferr error
		err := fetchBatch(ctx, f.client, b, func(_ int, _ Listed, fr *kvs.Fragment) {
			if ferr == nil {
				ferr = f.frames(b.Stream, fr, emit)
			}
		})
		if err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// frames emits the chosen frames of a fragment.
func (f *fetchFramesFn) frames(stream string, fr *kvs.Fragment, emit func(Frame)) error {
	for i := range fr.Frames {
		frame := &fr.Frames[i]
		t := fr.Track(frame.Track)
		if t == nil || !f.wants(t) || !(frame.Keyframe || f.AllFrames) {
			continue
		}
		var data []byte
		switch t.CodecID {
		case annexb.CodecAVC, annexb.CodecHEVC:
			var buf bytes.Buffer
			w, err := annexb.NewWriter(&buf, t.CodecID, t.CodecPrivate, annexb.WithTrack(t.Number))
			if err == nil {
				err = w.WriteFrame(frame.Data, frame.Keyframe)
			}
			if err != nil {
				return fmt.Errorf("kvsbeam: %s fragment %s: %w", stream, fr.Number, err)
			}
			data = buf.Bytes()
		default:
			data = bytes.Clone(frame.Data)
		}
		emit(Frame{Stream: stream, FragmentNumber: fr.Number.String(), Track: t.Number, CodecID: t.CodecID,
			Keyframe: frame.Keyframe, WallClock: fr.WallClock(frame).UTC(), Data: data})
	}
	return nil
}

func (f *fetchFramesFn) wants(t *kvs.Track) bool {
	if len(f.Tracks) == 0 {
		return t.Type == mkv.VideoTrack
	}
	return slices.Contains(f.Tracks, t.Number)
}

func init() {
	register.DoFn4x1[context.Context, string, func(*Batch) bool, func(Frame), error](&fetchFramesFn{})
	register.Emitter1[Frame]()
	beam.RegisterType(reflect.TypeFor[Frame]())
}
