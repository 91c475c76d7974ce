package bench

import (
	"io"
	"runtime"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// heapConfig is a 1 GB version of the benchmarks' stream (1,300 fragments),
// generated on the fly as it is read, never stored.
var heapConfig = func() kvsgen.Generator {
	c := StreamConfig
	c.Fragments = 1300
	return c
}()

// peakLive samples the live heap (after a collection) every 512 calls of
// the returned function, and keeps the largest.
type peakLive struct {
	n    int
	peak uint64
}

func (p *peakLive) sample() {
	p.n++
	if p.n%512 != 0 {
		return
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.peak = max(p.peak, m.HeapAlloc)
}

// countingReader samples the heap as the generator's bytes are read.
type countingReader struct {
	r io.Reader
	p *peakLive
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.sample()
	return n, err
}

// peakHeap reads the 1 GB stream with read and reports the peak live heap,
// against the generator alone: what kvsmkv holds is the difference. read
// returns the fragments it read, the largest frame and the largest
// fragment's frame bytes.
func peakHeap(b *testing.B, read func(r io.Reader, p *peakLive) (frags, largestFrame, largestFragment int)) {
	b.ReportAllocs()
	for b.Loop() {
		var base peakLive
		cr := &countingReader{r: heapConfig.Reader(), p: &base}
		buf := make([]byte, 256<<10)
		if _, err := io.CopyBuffer(io.Discard, cr, buf); err != nil {
			b.Fatal(err)
		}
		size := cr.n

		var ours peakLive
		frags, frame, fragment := read(&countingReader{r: heapConfig.Reader(), p: &ours}, &ours)
		if frags != heapConfig.Fragments {
			b.Fatalf("%d fragments, want %d", frags, heapConfig.Fragments)
		}
		b.ReportMetric(float64(size)/(1<<30), "GiB-read")
		b.ReportMetric(float64(base.peak)/(1<<20), "gen-peak-MiB")
		b.ReportMetric(float64(ours.peak)/(1<<20), "peak-MiB")
		b.ReportMetric(float64(ours.peak-min(ours.peak, base.peak))/(1<<20), "kvsmkv-peak-MiB")
		b.ReportMetric(float64(frame)/(1<<20), "largest-frame-MiB")
		b.ReportMetric(float64(fragment)/(1<<20), "largest-fragment-MiB")
	}
}

// BenchmarkPeakHeap reads the 1 GB stream with the streaming kvs reader.
// Run it with -benchtime 1x.
func BenchmarkPeakHeap(b *testing.B) {
	peakHeap(b, func(r io.Reader, p *peakLive) (frags, largestFrame, largestFragment int) {
		for ev, err := range kvs.NewReader(r).Events() {
			if err != nil {
				b.Fatal(err)
			}
			p.sample()
			switch ev.Kind {
			case kvs.FrameEvent:
				largestFrame = max(largestFrame, len(ev.Frame.Data))
			case kvs.FragmentEvent:
				frags++
			}
		}
		return frags, largestFrame, largestFragment
	})
}

// BenchmarkPeakHeapFrames reads the 1 GB stream as whole fragments with
// their frames' bytes, which the reader recycles. Run it with -benchtime 1x.
func BenchmarkPeakHeapFrames(b *testing.B) {
	peakHeap(b, func(r io.Reader, p *peakLive) (frags, largestFrame, largestFragment int) {
		for f, err := range kvs.NewReader(r).All() {
			if err != nil {
				b.Fatal(err)
			}
			p.sample()
			n := 0
			for _, fr := range f.Frames {
				n += len(fr.Data)
				largestFrame = max(largestFrame, len(fr.Data))
			}
			largestFragment = max(largestFragment, n)
			frags++
		}
		return frags, largestFrame, largestFragment
	})
}
