package bench

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/kvsmkv/kvsmkv/fuzz"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// hostileSize is the size of each hostile shape in BenchmarkHostile.
const hostileSize = 10 << 20

// hostileModes are the ways BenchmarkHostile reads a shape: the mkv
// decoder alone (the yardstick), then the kvs reader whole, streaming and
// pushed, each with its default budgets. read returns the error that ended
// reading (nil at a clean end); sample is called as the bytes are read.
var hostileModes = []struct {
	name  string
	whole bool
	read  func(data []byte, sample func()) error
}{
	{"Decoder", false, func(data []byte, sample func()) error {
		d := mkv.NewDecoder(&sampledReader{bytes.NewReader(data), sample})
		for {
			if _, err := d.Next(); err != nil {
				return clean(err)
			}
		}
	}},
	{"Next", true, func(data []byte, sample func()) error {
		r := kvs.NewReader(&sampledReader{bytes.NewReader(data), sample})
		for {
			if _, err := r.Next(); err != nil {
				return clean(err)
			}
			sample()
		}
	}},
	{"NextEvent", false, func(data []byte, sample func()) error {
		r := kvs.NewReader(&sampledReader{bytes.NewReader(data), sample})
		for {
			if _, err := r.NextEvent(); err != nil {
				return clean(err)
			}
		}
	}},
	{"PushReader", false, func(data []byte, sample func()) error {
		p := kvs.NewPushReader(func(*kvs.Event) error { return nil })
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			if _, err := p.Write(rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
			sample()
		}
		return p.Close()
	}},
}

func clean(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// sampledReader calls sample at every Read, in reads of at most 64 KiB.
type sampledReader struct {
	r      io.Reader
	sample func()
}

func (s *sampledReader) Read(p []byte) (int, error) {
	s.sample()
	return s.r.Read(p[:min(len(p), 64<<10)])
}

// liveHeap returns the live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkHostile reads each hostile shape of package fuzz at 10 MB each
// way, checks that it ends with the shape's error, and reports its speed
// and, measured in one more read outside the timer, the peak live heap
// beyond the input (peak-MiB). benchtable compares each reader's time with
// the Decoder's on the same shape.
func BenchmarkHostile(b *testing.B) {
	for _, s := range fuzz.Shapes() {
		data := s.Bytes(hostileSize)
		for _, m := range hostileModes {
			want := s.Streaming
			if m.whole {
				want = s.Whole
			}
			if m.name == "Decoder" {
				want = nil
				if errors.Is(s.Whole, io.ErrUnexpectedEOF) {
					want = io.ErrUnexpectedEOF
				}
			}
			b.Run(s.Name+"/"+m.name, func(b *testing.B) {
				base := liveHeap()
				peak := base
				err := m.read(data, func() { peak = max(peak, liveHeap()) })
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					b.Fatalf("got %v, want %v", err, want)
				}
				start(b, len(data))
				for b.Loop() {
					m.read(data, func() {})
				}
				b.ReportMetric(float64(peak-base)/(1<<20), "peak-MiB")
			})
		}
	}
}

// BenchmarkHostileResync reads 10 MB of junk between two units,
// resynchronising: random bytes and NULs, which hold no EBML header ID,
// so the scan passes every byte. It is read by the mkv decoder, pulled
// and pushed in 1 MiB Writes, and by the kvs reader pulled and pushed in
// the 32 KiB Writes of BenchmarkHostile: pushing in chunks must scan each
// Write in place, at the speed of one pass over the bytes.
func BenchmarkHostileResync(b *testing.B) {
	unit := mkv.AppendUint(nil, mkv.IDEBMLVersion, 1)
	unit = mkv.AppendString(unit, mkv.IDDocType, "matroska")
	unit = mkv.AppendElement(nil, mkv.IDEBML, unit)
	unit = mkv.AppendElement(unit, mkv.IDSegment, mkv.AppendElement(nil, mkv.IDInfo, mkv.AppendUint(nil, mkv.IDTimecodeScale, 1000000)))
	random := make([]byte, hostileSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	push := func(w io.Writer, data []byte, chunk int) {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), chunk)
			if _, err := w.Write(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
	modes := []struct {
		name string
		read func(data []byte) (skipped int64)
	}{
		{"Decoder", func(data []byte) (skipped int64) {
			d := mkv.NewDecoder(bytes.NewReader(data), mkv.WithResync())
			for {
				ev, err := d.Next()
				if err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					return skipped
				}
				if ev.Kind == mkv.Resync {
					skipped += ev.Size
				}
			}
		}},
		{"PushDecoder", func(data []byte) (skipped int64) {
			p := mkv.NewPushDecoder(func(ev *mkv.Event) error {
				if ev.Kind == mkv.Resync {
					skipped += ev.Size
				}
				return nil
			}, mkv.WithResync())
			push(p, data, 1<<20)
			if err := p.Close(); err != nil {
				b.Fatal(err)
			}
			return skipped
		}},
		{"Next", func(data []byte) int64 {
			r := kvs.NewReader(bytes.NewReader(data), kvs.WithResync())
			for {
				if _, err := r.Next(); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					return r.Skipped()
				}
			}
		}},
		{"PushReader", func(data []byte) int64 {
			p := kvs.NewPushReader(func(*kvs.Event) error { return nil }, kvs.WithResync())
			push(p, data, 32<<10)
			if err := p.Close(); err != nil {
				b.Fatal(err)
			}
			return p.Skipped()
		}},
	}
	for _, junk := range []struct {
		name string
		data []byte
	}{{"random-junk", random}, {"nul-junk", make([]byte, hostileSize)}} {
		data := bytes.Join([][]byte{unit, junk.data, unit}, nil)
		for _, m := range modes {
			b.Run(junk.name+"/"+m.name, func(b *testing.B) {
				if skipped := m.read(data); skipped < int64(len(junk.data))-64 || skipped > int64(len(junk.data)) {
					b.Fatalf("skipped %d bytes of %d of junk", skipped, len(junk.data))
				}
				start(b, len(data))
				for b.Loop() {
					m.read(data)
				}
			})
		}
	}
}
