package bench

import (
	"bytes"
	"errors"
	"io"
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
