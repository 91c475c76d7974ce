package bench

import (
	"bytes"
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

// readFragments reads the stream whole with opts and checks the fragment
// and frame counts.
func readFragments(b *testing.B, opts ...kvs.Option) {
	data := input(b)
	want := wantFrames()
	start(b, len(data))
	for b.Loop() {
		frags, frames := 0, 0
		for f, err := range kvs.NewReader(readerOnly{bytes.NewReader(data)}, opts...).All() {
			if err != nil {
				b.Fatal(err)
			}
			frags++
			frames += len(f.Frames)
			if f.Number == "" || len(f.Tags) == 0 {
				b.Fatalf("fragment %d without its tags", f.Index)
			}
		}
		if frags != streamConfig.Fragments || frames != want {
			b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, streamConfig.Fragments, want)
		}
	}
}

// BenchmarkReaderMetadata reads whole fragments keeping frame metadata but
// not frame bytes.
func BenchmarkReaderMetadata(b *testing.B) { readFragments(b, kvs.WithoutFrameData()) }

// BenchmarkReaderFrames reads whole fragments with their frame bytes.
func BenchmarkReaderFrames(b *testing.B) { readFragments(b) }

// BenchmarkStreaming streams frames without holding fragments.
func BenchmarkStreaming(b *testing.B) {
	data := input(b)
	want := wantFrames()
	start(b, len(data))
	for b.Loop() {
		frames, frags := 0, 0
		for ev, err := range kvs.NewReader(readerOnly{bytes.NewReader(data)}).Events() {
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == kvs.FrameEvent {
				frames++
			} else {
				frags++
			}
		}
		if frags != streamConfig.Fragments || frames != want {
			b.Fatalf("%d fragments and %d frames, want %d and %d", frags, frames, streamConfig.Fragments, want)
		}
	}
}
