package bench

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// BenchmarkCopy is the yardstick: io.CopyBuffer of the stream to
// io.Discard through a 32 KiB buffer.
func BenchmarkCopy(b *testing.B) {
	source, buf := memory(b), make([]byte, 32<<10)
	start(b, len(input(b)))
	for b.Loop() {
		copyOnce(b, source, buf)
	}
}

// copyOnce copies the stream of source to io.Discard through buf.
func copyOnce(b *testing.B, source func() io.Reader, buf []byte) {
	src := source()
	if _, err := io.CopyBuffer(writerOnly{io.Discard}, readerOnly{src}, buf); err != nil {
		b.Fatal(err)
	}
	closeSource(src)
}

// BenchmarkDecoder decodes the stream into mkv events, checking that every
// frame arrived.
func BenchmarkDecoder(b *testing.B) {
	data := input(b)
	want := wantFrames()
	start(b, len(data))
	for b.Loop() {
		decodeAll(b, readerOnly{bytes.NewReader(data)}, want)
	}
	b.ReportMetric(float64(want), "frames/op")
}

// BenchmarkDecoderFile decodes the stream from a file, where the alignment
// of read targets matters.
func BenchmarkDecoderFile(b *testing.B) {
	source, want := file(b), wantFrames()
	start(b, len(input(b)))
	for b.Loop() {
		src := source()
		decodeAll(b, src, want)
		closeSource(src)
	}
}

// BenchmarkCopyFile is BenchmarkCopy from the file.
func BenchmarkCopyFile(b *testing.B) {
	source, buf := file(b), make([]byte, 32<<10)
	start(b, len(input(b)))
	for b.Loop() {
		copyOnce(b, source, buf)
	}
}

// wantFrames returns the number of frames in the stream, counted once per
// process.
func wantFrames() int {
	framesOnce.Do(func() {
		c := StreamConfig
		for i := range c.Fragments {
			frameCount += len(c.Frames(i))
		}
	})
	return frameCount
}

var (
	framesOnce sync.Once
	frameCount int
)

func decodeAll(b *testing.B, r io.Reader, want int) {
	frames := 0
	for ev, err := range mkv.NewDecoder(r).All() {
		if err != nil {
			b.Fatal(err)
		}
		if ev.Kind == mkv.BlockKind {
			frames += len(ev.Block.Frames)
		}
	}
	if frames != want {
		b.Fatalf("decoded %d frames, want %d", frames, want)
	}
}

// BenchmarkPushLargeFrame pushes a 4 MiB frame in 1 KiB chunks: the cost
// must stay linear in the bytes pushed.
func BenchmarkPushLargeFrame(b *testing.B) {
	frame := bytes.Repeat([]byte{7}, 4<<20)
	// A SimpleBlock with an 8-byte size, track 1, timecode 0, keyframe.
	data := append([]byte{0xA3, 0x01, 0, 0, 0, 0, byte((len(frame) + 4) >> 16), byte((len(frame) + 4) >> 8), byte(len(frame) + 4), 0x81, 0, 0, 0x80}, frame...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		p := mkv.NewPushDecoder(func(ev *mkv.Event) error {
			n += len(ev.Block.Frames)
			return nil
		})
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1<<10)
			if _, err := p.Write(rest[:k]); err != nil {
				b.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := p.Close(); err != nil || n != 1 {
			b.Fatalf("%d frames, %v", n, err)
		}
	}
}
