package bench

import (
	"bytes"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// crcStreamConfig is StreamConfig with Clusters of known size that start
// with a CRC-32, as GetMedia writes them: the same fragments and frames.
var crcStreamConfig = func() (c kvsgen.Generator) {
	c = StreamConfig
	c.KnownSizeCluster, c.CRC = true, true
	return c
}()

var (
	crcOnce   sync.Once
	crcStream []byte
)

// crcInput returns the bytes of crcStreamConfig, made once per process.
func crcInput() []byte {
	crcOnce.Do(func() { crcStream = crcStreamConfig.Bytes() })
	return crcStream
}

// BenchmarkCRC measures what verifying CRC-32 elements costs the reader,
// on a stream whose every Cluster starts with one: each op reads the
// stream with the default (verifying) reader and with one WithoutCRC, side
// by side in alternating order, and the benchmark reports the median and
// the worst over the pairs of the verifying read's time over the other's
// (1.05 is 5% more time).
func BenchmarkCRC(b *testing.B) {
	data := crcInput()
	src := func() io.Reader { return readerOnly{bytes.NewReader(data)} }
	subjects := []struct {
		name string
		op   func(opts ...kvs.Option)
	}{
		{"ReaderMetadata", func(opts ...kvs.Option) { readCRCOnce(b, src, append(opts, kvs.WithoutFrameData())...) }},
		{"ReaderFrames", func(opts ...kvs.Option) { readCRCOnce(b, src, opts...) }},
		{"Streaming", func(opts ...kvs.Option) { streamCRCOnce(b, src, opts...) }},
		// Floor is hash/crc32's work without a reader: reads of the
		// stream into a buffer of the decoder's size on Intel, each summed
		// right after it lands, as hot in cache as bytes can be, against
		// the same reads alone. Its cost over the copy, times the copy's
		// time over the reader's (BenchmarkRatio), is the least the check
		// would cost a reader summing with hash/crc32; mkv sums faster on
		// CPUs with AVX-512 (BenchmarkUpdateCRC in mkv).
		{"Floor", func(opts ...kvs.Option) { crcOnly(src(), crcBuffer, len(opts) == 0) }},
	}
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			var ratios []float64
			on := func() time.Duration { return timed(func() { s.op() }) }
			off := func() time.Duration { return timed(func() { s.op(kvs.WithoutCRC()) }) }
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				var x, y time.Duration
				if i%2 == 0 {
					x, y = on(), off()
				} else {
					y, x = off(), on()
				}
				ratios = append(ratios, x.Seconds()/y.Seconds())
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "crc-cost-median")
			b.ReportMetric(ratios[len(ratios)-1], "crc-cost-worst")
			b.ReportMetric(float64(len(ratios)), "pairs")
		})
	}
}

// crcBuffer is a read buffer of the decoder's default size on Intel CPUs.
var crcBuffer = make([]byte, 256<<10)

// crcSink keeps crcOnly's result live.
var crcSink uint32

// crcOnly reads r through buf and, if sum, sums every byte with
// crc32.Update.
func crcOnly(r io.Reader, buf []byte, sum bool) {
	var crc uint32
	for {
		n, err := r.Read(buf)
		if sum {
			crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		}
		if err != nil {
			break
		}
	}
	crcSink = crc
}

// readCRCOnce reads the CRC stream whole, once, and checks that every
// fragment is there, intact.
func readCRCOnce(b *testing.B, source func() io.Reader, opts ...kvs.Option) {
	frags, frames := 0, 0
	for f, err := range kvs.NewReader(source(), opts...).All() {
		if err != nil {
			b.Fatal(err)
		}
		if f.State() != kvs.Intact {
			b.Fatalf("fragment %d %v: %v", f.Index, f.State(), f.Damage)
		}
		frags++
		frames += len(f.Frames)
	}
	if want := wantFrames(); frags != StreamConfig.Fragments || frames != want {
		b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, StreamConfig.Fragments, want)
	}
}

// streamCRCOnce streams the frames of the CRC stream once, and checks that
// every fragment is there, intact.
func streamCRCOnce(b *testing.B, source func() io.Reader, opts ...kvs.Option) {
	frags, frames := 0, 0
	for ev, err := range kvs.NewReader(source(), opts...).Events() {
		if err != nil {
			b.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FrameEvent:
			frames++
		case kvs.FragmentEvent:
			if f := ev.Fragment; f.State() != kvs.Intact {
				b.Fatalf("fragment %d %v: %v", f.Index, f.State(), f.Damage)
			}
			frags++
		}
	}
	if want := wantFrames(); frags != StreamConfig.Fragments || frames != want {
		b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, StreamConfig.Fragments, want)
	}
}
