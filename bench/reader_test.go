package bench

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// BenchmarkPushDecoder pushes the stream in 32 KiB chunks, as a pipeline
// stage would.
func BenchmarkPushDecoder(b *testing.B) {
	data := input(b)
	want := wantFrames()
	start(b, len(data))
	for b.Loop() {
		frames := 0
		p := mkv.NewPushDecoder(func(ev *mkv.Event) error {
			if ev.Kind == mkv.BlockKind {
				frames += len(ev.Block.Frames)
			}
			return nil
		})
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			if _, err := p.Write(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		if frames != want {
			b.Fatalf("%d frames, want %d", frames, want)
		}
	}
}

// memory returns a source of the stream from memory, through a reader that
// has only Read.
func memory(b *testing.B) func() io.Reader {
	data := input(b)
	return func() io.Reader { return readerOnly{bytes.NewReader(data)} }
}

// file returns a source of the stream from a file (page cache warm after
// the first read): the decoders read straight into their 64-byte aligned
// buffers, as they would from a socket.
func file(b *testing.B) func() io.Reader {
	path := inputFile(b)
	return func() io.Reader {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
}

// closeSource closes a source that is an io.Closer.
func closeSource(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
}

// readFragments reads the stream whole with opts and checks the fragment
// and frame counts.
func readFragments(b *testing.B, source func() io.Reader, opts ...kvs.Option) {
	start(b, len(input(b)))
	for b.Loop() {
		readFragmentsOnce(b, source, opts...)
	}
	b.ReportMetric(float64(wantFrames()), "frames/op")
	b.ReportMetric(float64(StreamConfig.Fragments), "fragments/op")
}

// readFragmentsOnce reads the stream of source whole, once.
func readFragmentsOnce(b *testing.B, source func() io.Reader, opts ...kvs.Option) {
	frags, frames := 0, 0
	src := source()
	for f, err := range kvs.NewReader(src, opts...).All() {
		if err != nil {
			b.Fatal(err)
		}
		frags++
		frames += len(f.Frames)
		if f.Number == "" || len(f.Tags) == 0 {
			b.Fatalf("fragment %d without its tags", f.Index)
		}
	}
	closeSource(src)
	if want := wantFrames(); frags != StreamConfig.Fragments || frames != want {
		b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, StreamConfig.Fragments, want)
	}
}

// BenchmarkReaderMetadata reads whole fragments keeping frame metadata but
// not frame bytes.
func BenchmarkReaderMetadata(b *testing.B) { readFragments(b, memory(b), kvs.WithoutFrameData()) }

// BenchmarkReaderFrames reads whole fragments with their frame bytes, which
// the reader recycles.
func BenchmarkReaderFrames(b *testing.B) { readFragments(b, memory(b)) }

// BenchmarkReaderMetadataFile is BenchmarkReaderMetadata from the file.
func BenchmarkReaderMetadataFile(b *testing.B) { readFragments(b, file(b), kvs.WithoutFrameData()) }

// BenchmarkReaderFramesFile is BenchmarkReaderFrames from the file.
func BenchmarkReaderFramesFile(b *testing.B) { readFragments(b, file(b)) }

// streamEvents streams frames without holding fragments.
func streamEvents(b *testing.B, source func() io.Reader) {
	start(b, len(input(b)))
	for b.Loop() {
		streamEventsOnce(b, source)
	}
	b.ReportMetric(float64(wantFrames()), "frames/op")
	b.ReportMetric(float64(StreamConfig.Fragments), "fragments/op")
}

// streamEventsOnce streams the frames of source once.
func streamEventsOnce(b *testing.B, source func() io.Reader) {
	frames, frags := 0, 0
	src := source()
	for ev, err := range kvs.NewReader(src).Events() {
		if err != nil {
			b.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FrameEvent:
			frames++
		case kvs.FragmentEvent:
			frags++
		}
	}
	closeSource(src)
	if want := wantFrames(); frags != StreamConfig.Fragments || frames != want {
		b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, StreamConfig.Fragments, want)
	}
}

// BenchmarkStreaming streams frames without holding fragments.
func BenchmarkStreaming(b *testing.B) { streamEvents(b, memory(b)) }

// BenchmarkStreamingFile is BenchmarkStreaming from the file.
func BenchmarkStreamingFile(b *testing.B) { streamEvents(b, file(b)) }
