package kvs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// flatTags lists "name=value" for every tag, parents before their nested
// tags, as mkvinfo lists them.
func flatTags(ts []mkv.SimpleTag, out []string) []string {
	for _, t := range ts {
		out = append(out, t.Name+"="+t.Value)
		out = flatTags(t.Tags, out)
	}
	return out
}

// simpleTags returns the SimpleTags of a fragment's tags.
func simpleTags(ts []kvs.Tag) []mkv.SimpleTag {
	out := make([]mkv.SimpleTag, len(ts))
	for i := range ts {
		out[i] = ts[i].SimpleTag
	}
	return out
}

func unitOf(f *kvs.Fragment) corpus.Unit {
	u := corpus.Unit{Tags: flatTags(simpleTags(f.Tags), nil), Tracks: map[uint64]corpus.Count{}}
	for _, t := range f.Tracks {
		if t.Blocks > 0 {
			u.Tracks[t.Number] = corpus.Count{Blocks: t.Blocks, Frames: t.Frames}
		}
	}
	return u
}

// readWhole reads all fragments with Next, keeping them: it keeps their
// Clone.
func readWhole(r io.Reader, opts ...kvs.Option) ([]*kvs.Fragment, error) {
	rd := kvs.NewReader(r, opts...)
	var out []*kvs.Fragment
	for {
		f, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f.Clone())
	}
}

// TestCorpus reads every real capture whole, one byte at a time, and
// streaming, and compares tags and per-track blocks and frames with mkvinfo.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	for _, name := range corpus.Files(t, dir) {
		data, want := corpus.Load(t, dir, name)
		t.Run(name+"/whole", func(t *testing.T) {
			frags, err := readWhole(bytes.NewReader(data))
			var got []corpus.Unit
			for _, f := range frags {
				got = append(got, unitOf(f))
			}
			corpus.Check(t, name, want, got, err, io.ErrUnexpectedEOF)
			if corpus.CutOff[name] && (len(frags) == 0 || !frags[len(frags)-1].Partial) {
				t.Error("the cut-off fragment is not marked Partial")
			}
		})
		t.Run(name+"/one-byte-metadata", func(t *testing.T) {
			frags, err := readWhole(iotest.OneByteReader(bytes.NewReader(data)), kvs.WithoutFrameData())
			var got []corpus.Unit
			for _, f := range frags {
				got = append(got, unitOf(f))
			}
			corpus.Check(t, name, want, got, err, io.ErrUnexpectedEOF)
		})
		t.Run(name+"/streaming", func(t *testing.T) {
			rd := kvs.NewReader(iotest.HalfReader(bytes.NewReader(data)))
			var got []corpus.Unit
			frames := map[uint64]int{}
			var err error
			for {
				var ev *kvs.Event
				ev, err = rd.NextEvent()
				if err != nil {
					break
				}
				switch ev.Kind {
				case kvs.FragmentStartEvent:
					continue
				case kvs.FrameEvent:
					frames[ev.Frame.Track]++
					continue
				}
				u := unitOf(ev.Fragment)
				for tr, c := range u.Tracks {
					if frames[tr] != c.Frames {
						t.Errorf("fragment %d track %d: %d frame events, counted %d", ev.Fragment.Index, tr, frames[tr], c.Frames)
					}
				}
				clear(frames)
				got = append(got, u)
			}
			if err == io.EOF {
				err = nil
			}
			corpus.Check(t, name, want, got, err, io.ErrUnexpectedEOF)
		})
	}
}

// TestCorpusWallClock checks on real GetMedia output how Matroska time and
// wall clock relate: the first frame of each fragment is at its producer
// timestamp, frames follow at their Matroska offsets from the Cluster, and
// Cluster times advance as producer timestamps do.
func TestCorpusWallClock(t *testing.T) {
	dir := corpus.Dir(t)
	for _, name := range []string{"output_get_media.mkv", "kinesis_video_renderer_example_output.mkv", "test_mixed_tags.mkv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		frags, err := readWhole(bytes.NewReader(data), kvs.WithoutFrameData())
		if err != nil {
			t.Fatal(err)
		}
		var first *kvs.Fragment
		for _, f := range frags {
			if f.ProducerTimestamp.IsZero() || len(f.Frames) == 0 {
				continue
			}
			if first == nil {
				first = f
			}
			if got := f.WallClock(&f.Frames[0]); !got.Equal(f.ProducerTimestamp.Time()) {
				t.Errorf("%s: fragment %d: first frame at %v, producer timestamp %v", name, f.Index, got, f.ProducerTimestamp.Time())
			}
			for i := range f.Frames {
				fr := &f.Frames[i]
				if got, want := f.WallClock(fr).Sub(f.WallClock(&f.Frames[0])), fr.Timestamp-f.Frames[0].Timestamp; got != want {
					t.Fatalf("%s: fragment %d frame %d: %v after the first frame, Matroska says %v", name, f.Index, i, got, want)
				}
			}
			wantOffset := f.ProducerTimestamp.Duration() - first.ProducerTimestamp.Duration()
			if got := f.ClusterTimestamp - first.ClusterTimestamp; got != wantOffset {
				t.Errorf("%s: fragment %d: Cluster %v after the first, producer timestamps %v", name, f.Index, got, wantOffset)
			}
		}
		if first == nil {
			t.Fatalf("%s: no fragment with a producer timestamp and frames", name)
		}
	}
}
