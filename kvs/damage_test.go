package kvs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
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
	if ev.Kind == kvs.FragmentStartEvent {
		return
	}
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

// damageStream is a GetMedia stream of five units whose Clusters have a
// size and a CRC-32, as GetMedia writes them, with audio and producer tags.
func damageStream() []byte {
	g := kvsgen.Generator{Fragments: 5, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600,
		GetMedia: true, ProducerTags: true, KnownSizeCluster: true, CRC: true, Audio: true, AudioFrameSize: 20}
	return g.Bytes()
}

// ignoreIndex leaves Index out of a comparison: a unit whose EBML header
// was destroyed is no unit any more, so the units after it come one Index
// earlier.
var ignoreIndex = cmpopts.IgnoreFields(kvs.Fragment{}, "Index")

// checkDamaged checks what a damaged stream gave against the clean one,
// whose unit `hit` (and only it) the damage touched, spanning the bytes
// [lo, hi) of the damaged stream, the units after it shifted by shift
// bytes: every other unit comes out exactly as from the clean stream
// (Index aside), and the fragments in between are intact or damaged at an
// offset in the span, with a cause.
func checkDamaged(t *testing.T, what string, clean, got []*kvs.Fragment, hit int, lo, hi, shift int64) {
	t.Helper()
	next := 0
	var between []*kvs.Fragment
	for i, want := range clean {
		if i == hit {
			continue
		}
		w := want
		if i > hit {
			w = want.Clone()
			w.Offset += shift
			for j := range w.Frames {
				w.Frames[j].Offset += shift
			}
		}
		for next < len(got) && (got[next].Offset != w.Offset || got[next].Continued) {
			between = append(between, got[next])
			next++
		}
		if next == len(got) {
			t.Fatalf("%s: unit %d (offset %d) lost; got %s", what, i, w.Offset, describe(got))
		}
		g := got[next]
		next++
		if diff := cmp.Diff(w, g, cmpTS, cmpData, ignoreIndex); diff != "" {
			t.Fatalf("%s: unit %d mismatch (-want +got):\n%s", what, i, diff)
		}
		if i < hit && g.Index != i {
			t.Fatalf("%s: unit %d has Index %d", what, i, g.Index)
		}
	}
	for _, f := range append(between, got[next:]...) {
		if f.Offset < lo || f.Offset >= hi {
			t.Fatalf("%s: fragment at %d outside the damaged span [%d, %d); got %s", what, f.Offset, lo, hi, describe(got))
		}
		for _, d := range f.Damage {
			if d.Offset < lo || d.Offset >= hi || d.Err == nil || d.Error() == "" {
				t.Fatalf("%s: damage %v outside the damaged span [%d, %d)", what, d, lo, hi)
			}
		}
	}
}

func describe(frags []*kvs.Fragment) string {
	var b strings.Builder
	for _, f := range frags {
		fmt.Fprintf(&b, "\n  %d at %d+%d %v continued=%v %v", f.Index, f.Offset, f.Size, f.State(), f.Continued, f.Damage)
	}
	return b.String()
}

// TestResyncMutation overwrites every byte of the middle unit of a
// five-unit stream, with 0x00 and with its complement, and reads it
// resynchronising: every other unit comes out exactly as from the clean
// stream, and the middle unit comes out intact (the byte was one nothing
// checks, such as a tag's value) or damaged with an offset in it and a
// cause (a size made larger runs into the next unit, whose header
// resynchronisation finds inside the element).
func TestResyncMutation(t *testing.T) {
	data := damageStream()
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			clean, err := mode.read(data, kvs.WithResync())
			if err != nil || len(clean) != 5 {
				t.Fatalf("clean: %d fragments, %v", len(clean), err)
			}
			lo, hi := clean[2].Offset, clean[2].Offset+clean[2].Size
			step := int64(1)
			if mode.name != "Next" {
				step = 7
			}
			damaged := 0
			for p := lo; p < hi; p += step {
				for _, v := range []byte{0, ^data[p]} {
					m := bytes.Clone(data)
					m[p] = v
					what := fmt.Sprintf("byte %d (unit offset %d) = %#x", p, p-lo, v)
					got, err := mode.read(m, kvs.WithResync())
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					for _, f := range got {
						if f.State() == kvs.Damaged {
							damaged++
							break
						}
					}
					checkDamaged(t, what, clean, got, 2, lo, hi, 0)
				}
			}
			t.Logf("%d mutations damaged a fragment", damaged)
		})
	}
}

// TestResyncTruncation cuts the middle unit of a five-unit stream at
// every byte and joins the units after it: reading resynchronising, every
// other unit comes out exactly as from the clean stream, and what was
// complete of the cut one comes out damaged, with where and why.
func TestResyncTruncation(t *testing.T) {
	data := damageStream()
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			clean, err := mode.read(data)
			if err != nil || len(clean) != 5 {
				t.Fatalf("clean: %d fragments, %v", len(clean), err)
			}
			lo, hi := clean[2].Offset, clean[2].Offset+clean[2].Size
			step := int64(1)
			if mode.name != "Next" {
				step = 5
			}
			for cut := lo + 1; cut < hi; cut += step {
				m := append(bytes.Clone(data[:cut]), data[hi:]...)
				what := fmt.Sprintf("unit cut at %d", cut-lo)
				got, err := mode.read(m, kvs.WithResync())
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				checkDamaged(t, what, clean, got, 2, lo, cut, cut-hi)
				var skipped int64
				for _, f := range got {
					for _, d := range f.Damage {
						skipped += d.Skipped
					}
				}
				if skipped > cut-lo {
					t.Fatalf("%s: %d bytes skipped, more than the %d left of the unit", what, skipped, cut-lo)
				}
			}
		})
	}
}

// TestResyncCases damages the middle of a five-unit stream in the ways
// the issue names, in every mode. Without WithResync, reading fails at the
// fault; with it, every unit the damage did not touch comes out exactly as
// from the clean stream, and the damage is on one fragment with its offset
// and cause.
func TestResyncCases(t *testing.T) {
	data := damageStream()
	clean, err := readWhole(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	u2 := clean[2].Offset
	seg := u2 + int64(bytes.Index(data[u2:], []byte{0x18, 0x53, 0x80, 0x67}))
	cluster := u2 + int64(bytes.Index(data[u2:], []byte{0x1F, 0x43, 0xB6, 0x75}))
	junk := []byte("not a header \x1a\x45\xdf\xa3\x84\xec\x01\xff\xff\xff\xff\xff\xff\xff")
	tests := []struct {
		name    string
		damaged []byte
		hit     int   // the fragment the damage is reported on
		index   int   // its Index
		offset  int64 // the damage's
		cause   error
	}{
		{"broken Segment ID", func() []byte { d := bytes.Clone(data); d[seg+3]++; return d }(), 2, 2, seg, mkv.ErrUnexpected},
		{"bad Cluster size", func() []byte { d := bytes.Clone(data); d[cluster+4] = 0; return d }(), 2, 2, cluster, mkv.ErrInvalidSize},
		{"junk between units", bytes.Join([][]byte{data[:u2], junk, data[u2:]}, nil), 2, 1, u2, mkv.ErrUnexpected},
	}
	for _, tt := range tests {
		for _, mode := range readModes {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				want, err := mode.read(data)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := mode.read(tt.damaged); err == nil {
					t.Errorf("without WithResync: no error")
				}
				got, err := mode.read(tt.damaged, kvs.WithResync())
				if err != nil || len(got) != 6 && tt.index == 1 || len(got) != 5 && tt.index == 2 {
					t.Fatalf("%d fragments, %v%s", len(got), err, describe(got))
				}
				shift := int64(len(tt.damaged) - len(data))
				for i, g := range got {
					if i == tt.hit {
						continue
					}
					w := want[min(i, len(want)-1)]
					if i > tt.hit && tt.index == 1 {
						w = want[i-1].Clone()
						w.Offset += shift
						for j := range w.Frames {
							w.Frames[j].Offset += shift
						}
					}
					if diff := cmp.Diff(w, g, cmpTS, cmpData); diff != "" {
						t.Errorf("fragment %d mismatch (-want +got):\n%s", i, diff)
					}
				}
				f := got[tt.hit]
				if f.State() != kvs.Damaged || f.Index != tt.index || len(f.Damage) != 1 || f.Damage[0].Offset != tt.offset || !errors.Is(f.Damage[0], tt.cause) {
					t.Errorf("damaged fragment %d (Index %d, %v): %v; want %v at %d", tt.hit, f.Index, f.State(), f.Damage, tt.cause, tt.offset)
				}
			})
		}
	}
}
