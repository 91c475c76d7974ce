package fuzz

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// resyncOpts are opts with resynchronisation.
var resyncOpts = append(append([]mkv.Option(nil), opts...), mkv.WithResync())

// resyncSeeds are the seeds, and damaged streams: units joined by junk,
// a unit cut short, a broken Segment ID, near-miss EBML headers.
func resyncSeeds(f testing.TB) [][]byte {
	out := seeds(f)
	g := kvsgen.Generator{Fragments: 3, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 4800,
		GetMedia: true, KnownSizeCluster: true, CRC: true, Audio: true, AudioFrameSize: 8}
	u0, u1, u2 := g.Unit(0), g.Unit(1), g.Unit(2)
	junk := []byte("\x1a\x45\xdf\xa3\x84\x42\x82\x81x\x1a\x45\xdf\xa3\xff junk \x00\x00")
	out = append(out,
		bytes.Join([][]byte{u0, junk, u1, u2}, nil),
		bytes.Join([][]byte{u0, u1[:len(u1)/2], u2}, nil),
		bytes.Join([][]byte{u0, u1[:40], {0x18, 0x53, 0x80, 0x66}, u1[44:], u2}, nil),
		bytes.Join([][]byte{u0[:20], u1[7:], u2}, nil),
	)
	return out
}

// FuzzResync decodes arbitrary bytes resynchronising, whole, one byte at a
// time and pushed in chunks the fuzzer picks: no panic, the same events
// and error every way (the scan does not depend on how the input was cut),
// a bounded number of events per byte and bounded allocations; and reads
// them as fragments, whole and pushed: the same fragments, inside the
// input and in order, the bytes skipped no more than the input.
func FuzzResync(f *testing.F) {
	for i, s := range resyncSeeds(f) {
		f.Add(s[:min(len(s), 8<<10)], []byte{byte(i), 1, 200, 7})
	}
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		var want []string
		var wantErr error
		n := allocated(func() { want, wantErr = PullTrace(bytes.NewReader(data), resyncOpts...) })
		checkErr(t, wantErr, len(data))
		if len(want) > 4*len(data)+4 {
			t.Fatalf("%d events from %d bytes", len(want), len(data))
		}
		if limit := uint64(4*maxElement + 64<<10 + 200*len(want)); n > limit {
			t.Fatalf("allocated %d bytes decoding %d bytes, limit %d", n, len(data), limit)
		}
		got, err := PullTrace(iotest.OneByteReader(bytes.NewReader(data)), resyncOpts...)
		compare(t, "one-byte", want, got, wantErr, err)
		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c) + 1
		}
		got, err = Collect(func(fn func(*mkv.Event) error) error { return Push(data, sizes, fn, resyncOpts...) })
		compare(t, "push", want, got, wantErr, err)

		ro := []kvs.Option{kvs.WithDecoderOptions(opts...), kvs.WithResync(), kvs.WithoutFrameData()}
		r := kvs.NewReader(bytes.NewReader(data), ro...)
		var whole []*kvs.Fragment
		for {
			fr, err := r.Next()
			if err != nil {
				if err != io.EOF {
					wantErr = err
				} else {
					wantErr = nil
				}
				break
			}
			whole = append(whole, fr)
		}
		checkErr(t, wantErr, len(data))
		end, skipped := int64(0), int64(0)
		for _, fr := range whole {
			if fr.Offset < end || fr.Size < 0 || fr.Offset+fr.Size > int64(len(data)) {
				t.Fatalf("fragment %d at %d+%d, after %d, in %d bytes", fr.Index, fr.Offset, fr.Size, end, len(data))
			}
			end = fr.Offset + fr.Size
			for _, d := range fr.Damage {
				var target *kvs.Damage
				if d.Err == nil || !errors.As(d, &target) || d.Offset < 0 || d.Offset > int64(len(data)) {
					t.Fatalf("fragment %d: damage %+v", fr.Index, d)
				}
				skipped += d.Skipped
			}
		}
		if skipped != r.Skipped() || skipped > int64(len(data)) {
			t.Fatalf("damage records skip %d bytes, the reader %d, of %d", skipped, r.Skipped(), len(data))
		}

		var pushed []*kvs.Fragment
		p := kvs.NewPushReader(func(ev *kvs.Event) error {
			if ev.Kind == kvs.FragmentEvent {
				pushed = append(pushed, ev.Fragment)
			}
			return nil
		}, ro...)
		err = nil
		for b, i := data, 0; len(b) > 0 && err == nil; i++ {
			k := min(len(b), 1+i%7*13)
			if len(sizes) > 0 {
				k = min(len(b), sizes[i%len(sizes)])
			}
			_, err = p.Write(b[:k])
			b = b[k:]
		}
		if err == nil {
			err = p.Close()
		}
		if errText(err) != errText(wantErr) || len(pushed) != len(whole) {
			t.Fatalf("pushed gave %d fragments and %v, whole %d and %v", len(pushed), err, len(whole), wantErr)
		}
		for i := range whole {
			w := *whole[i]
			w.Frames = nil
			if diff := cmp.Diff(&w, pushed[i], cmp.Comparer(func(a, b tags.Timestamp) bool { return a == b }), cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("fragment %d: whole and pushed differ (-whole +pushed):\n%s", i, diff)
			}
		}
	})
}

// TestResyncJunk puts 4 MB of junk between two units: random bytes, EBML
// header IDs followed by garbage, and headers that validate but are not
// followed by a Segment. Resynchronising, both units come out intact, the
// junk is one damaged fragment whose Skipped runs from the first byte that
// does not decode to the next unit, and the reader holds no more than its
// buffer while scanning.
func TestResyncJunk(t *testing.T) {
	g := kvsgen.Generator{Fragments: 2, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 4800, GetMedia: true, KnownSizeCluster: true, CRC: true}
	u0, u1 := g.Unit(0), g.Unit(1)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	header := append(El(mkv.IDEBML, El(mkv.IDDocType, Str("matroska"))), 0x1F, 0x43, 0xB6, 0x75) // a Cluster, no Segment
	for _, tt := range []struct {
		name string
		junk []byte
	}{
		{"random", random},
		{"EBML IDs", bytes.Repeat([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x01}, 800<<10)},
		{"headers without a Segment", bytes.Repeat(header, (4<<20)/len(header))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Join([][]byte{u0, tt.junk, u1}, nil)
			var frags []*kvs.Fragment
			var skipped int64
			n := allocated(func() {
				p := kvs.NewPushReader(func(ev *kvs.Event) error {
					if ev.Kind == kvs.FragmentEvent {
						frags = append(frags, ev.Fragment.Clone())
					}
					return nil
				}, kvs.WithResync(), kvs.WithoutFrameData())
				for b := in; len(b) > 0; {
					k := min(len(b), 4096)
					if _, err := p.Write(b[:k]); err != nil {
						t.Fatal(err)
					}
					b = b[k:]
				}
				if err := p.Close(); err != nil {
					t.Fatal(err)
				}
				skipped = p.Skipped()
			})
			if n > 2<<20 {
				t.Errorf("allocated %d bytes for %d bytes of junk", n, len(tt.junk))
			}
			if len(frags) != 3 || frags[0].State() != kvs.Intact || frags[2].State() != kvs.Intact || frags[2].Offset != int64(len(u0)+len(tt.junk)) {
				t.Fatalf("got %d fragments: %+v", len(frags), frags)
			}
			j, next := frags[1], int64(len(u0)+len(tt.junk))
			if j.State() != kvs.Damaged || len(j.Damage) != 1 || j.Offset < int64(len(u0)) || j.Offset+j.Size != next {
				t.Fatalf("junk: fragment at %d+%d, damage %v; want one record, up to %d", j.Offset, j.Size, j.Damage, next)
			}
			if d := j.Damage[0]; d.Offset < int64(len(u0)) || d.Offset > int64(len(u0)+64) || d.Offset+d.Skipped != next || skipped != d.Skipped {
				t.Errorf("junk: damage %v at %d, reader skipped %d; want it in the junk's first bytes, skipping to %d", d, d.Offset, skipped, next)
			}
		})
	}
}
