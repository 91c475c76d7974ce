package bench

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
)

// BenchmarkRatio measures each reader against the copy it is compared with
// (BenchmarkCopy's, or BenchmarkCopyFile's from the file) op by op, in
// pairs run side by side, and reports the median and the best over the
// pairs of the reader's speed over the copy's. Runs of BenchmarkCopy alone
// vary by half between runs of the process on these machines (9-15 GB/s),
// which ratios of separate runs carry whole; a pair's two ops see the same
// machine, and the order within a pair alternates so that neither side
// always goes first.
func BenchmarkRatio(b *testing.B) {
	mem, file := memory(b), file(b)
	buf := make([]byte, 32<<10)
	want := wantFrames()
	subjects := []struct {
		name   string
		source func() io.Reader
		op     func(source func() io.Reader)
	}{
		{"Decoder", mem, func(s func() io.Reader) { decodeAll(b, s(), want) }},
		{"ReaderMetadata", mem, func(s func() io.Reader) { readFragmentsOnce(b, s, kvs.WithoutFrameData()) }},
		{"ReaderFrames", mem, func(s func() io.Reader) { readFragmentsOnce(b, s) }},
		{"Streaming", mem, func(s func() io.Reader) { streamEventsOnce(b, s) }},
		{"DecoderFile", file, func(s func() io.Reader) { src := s(); decodeAll(b, src, want); closeSource(src) }},
		{"ReaderMetadataFile", file, func(s func() io.Reader) { readFragmentsOnce(b, s, kvs.WithoutFrameData()) }},
		{"ReaderFramesFile", file, func(s func() io.Reader) { readFragmentsOnce(b, s) }},
		{"StreamingFile", file, func(s func() io.Reader) { streamEventsOnce(b, s) }},
	}
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			var ratios []float64
			yard := func() time.Duration { return timed(func() { copyOnce(b, s.source, buf) }) }
			subject := func() time.Duration { return timed(func() { s.op(s.source) }) }
			for i := 0; b.Loop(); i++ {
				var c, x time.Duration
				if i%2 == 0 {
					c, x = yard(), subject()
				} else {
					x, c = subject(), yard()
				}
				ratios = append(ratios, c.Seconds()/x.Seconds())
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "x-copy-median")
			b.ReportMetric(ratios[len(ratios)-1], "x-copy-best")
			b.ReportMetric(float64(len(ratios)), "pairs")
		})
	}
}

// timed returns how long f takes.
func timed(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}
