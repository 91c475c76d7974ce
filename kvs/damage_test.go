package kvs_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// readModes are the reader's four ways, each returning the fragments with
// their frames (bytes owned), and the error that ended reading (nil at a
// clean end).
var readModes = []struct {
	name string
	read func(data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error)
}{
	{"Next", func(data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error) {
		return readWhole(bytes.NewReader(data), opts...)
	}},
	{"WithoutFrameData", func(data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error) {
		return readWhole(bytes.NewReader(data), append(opts, kvs.WithoutFrameData())...)
	}},
	{"NextEvent", func(data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error) {
		r := kvs.NewReader(&chunkReader{data: data, rng: rand.New(rand.NewPCG(5, 6)), max: 5000}, opts...)
		var c collector
		for {
			ev, err := r.NextEvent()
			if err == io.EOF {
				return c.frags, nil
			}
			if err != nil {
				return c.frags, err
			}
			c.add(ev)
		}
	}},
	{"PushReader", func(data []byte, opts ...kvs.Option) ([]*kvs.Fragment, error) {
		var c collector
		p := kvs.NewPushReader(func(ev *kvs.Event) error { c.add(ev); return nil }, opts...)
		for b := data; len(b) > 0; {
			n := min(777, len(b))
			if _, err := p.Write(b[:n]); err != nil {
				return c.frags, err
			}
			b = b[n:]
		}
		return c.frags, p.Close()
	}},
}

// collector turns events into fragments with their frames, as Next gives
// them.
type collector struct {
	frags  []*kvs.Fragment
	frames []kvs.Frame
}

func (c *collector) add(ev *kvs.Event) {
	if ev.Kind == kvs.FrameEvent {
		fr := *ev.Frame
		fr.Data = bytes.Clone(fr.Data)
		c.frames = append(c.frames, fr)
		return
	}
	f := ev.Fragment.Clone()
	f.Frames, c.frames = c.frames, nil
	c.frags = append(c.frags, f)
}

// cmpData compares frame bytes with bytes.Equal: cmp's own walk over a
// few MB of frames takes seconds.
var cmpData = cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })

// TestCorpusCRC reads the GetMedia capture whose Clusters start with a
// CRC-32, in every mode: clean, every fragment is intact; with 64 bytes
// overwritten inside a frame, that fragment alone is damaged, with the
// Cluster's offset and both CRCs, and the others are as from the clean
// file; with a bad size byte in the second fragment's Cluster, reading
// fails there, or, resynchronising, the fragment is damaged with the cause
// and the three after it are intact.
func TestCorpusCRC(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpus.Dir(t), "output_get_media.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	const cluster = 549084 // the second fragment's Cluster, which starts with a CRC-32
	framed := bytes.Clone(data)
	copy(framed[cluster+100000:], bytes.Repeat([]byte{0x55}, 64))
	badSize := bytes.Clone(data)
	badSize[cluster+4] = 0 // a size whose first byte is 0 is invalid (RFC 8794 section 4)

	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			clean, err := mode.read(data)
			if err != nil || len(clean) != 5 {
				t.Fatalf("clean: %d fragments, %v; want 5", len(clean), err)
			}
			for _, f := range clean {
				if f.State() != kvs.Intact {
					t.Errorf("clean: fragment %d %v: %v", f.Index, f.State(), f.Damage)
				}
			}

			got, err := mode.read(framed)
			if err != nil || len(got) != 5 {
				t.Fatalf("64 bytes overwritten: %d fragments, %v; want 5", len(got), err)
			}
			for i, f := range got {
				if i == 1 {
					continue
				}
				if diff := cmp.Diff(clean[i], f, cmpTS, cmpData); diff != "" {
					t.Errorf("64 bytes overwritten: fragment %d mismatch (-want +got):\n%s", i, diff)
				}
			}
			f := got[1]
			var d *kvs.Damage
			if f.State() != kvs.Damaged || len(f.Damage) != 1 || !errors.As(f.Damage[0], &d) || !errors.Is(d, mkv.ErrChecksum) {
				t.Fatalf("64 bytes overwritten: fragment 1 %v, damage %v; want one CRC-32 mismatch", f.State(), f.Damage)
			}
			if d.Offset != cluster || d.ID != mkv.IDCluster || d.Stored == d.Computed || f.Partial {
				t.Errorf("64 bytes overwritten: damage %+v, partial %v; want the Cluster at %d, not partial", d, f.Partial, cluster)
			}
			if len(f.Frames) != len(clean[1].Frames) {
				t.Errorf("64 bytes overwritten: %d frames, want %d", len(f.Frames), len(clean[1].Frames))
			}
			if got, err := mode.read(framed, kvs.WithoutCRC()); err != nil || len(got) != 5 || got[1].State() != kvs.Intact {
				t.Errorf("WithoutCRC: %d fragments, %v, want 5, all intact", len(got), err)
			}

			got, err = mode.read(badSize)
			var se *mkv.SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, mkv.ErrInvalidSize) || se.Offset != cluster || len(got) != 2 {
				t.Fatalf("bad size: %d fragments, %v; want 2 and ErrInvalidSize at %d", len(got), err, cluster)
			}
			got, err = mode.read(badSize, kvs.WithResync())
			if err != nil || len(got) != 5 {
				t.Fatalf("bad size, resync: %d fragments, %v; want 5", len(got), err)
			}
			for _, i := range []int{0, 2, 3, 4} {
				if diff := cmp.Diff(clean[i], got[i], cmpTS, cmpData); diff != "" {
					t.Errorf("bad size, resync: fragment %d mismatch (-want +got):\n%s", i, diff)
				}
			}
			f = got[1]
			if f.State() != kvs.Damaged || !f.Partial || len(f.Damage) != 1 || !errors.Is(f.Damage[0], mkv.ErrInvalidSize) {
				t.Fatalf("bad size, resync: fragment 1 %v, damage %v; want damaged by an invalid size", f.State(), f.Damage)
			}
			if d := f.Damage[0]; d.Offset != cluster || d.ID != mkv.IDCluster || d.Skipped != clean[2].Offset-cluster {
				t.Errorf("bad size, resync: damage %+v; want the Cluster at %d, %d bytes skipped", d, cluster, clean[2].Offset-cluster)
			}
			if f.Number != clean[1].Number || f.Offset+f.Size != clean[2].Offset {
				t.Errorf("bad size, resync: fragment 1 is %s at %d+%d, want %s up to %d", f.Number, f.Offset, f.Size, clean[1].Number, clean[2].Offset)
			}
		})
	}
}
