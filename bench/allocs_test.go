package bench

import (
	"bytes"
	"io"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// TestNoAllocationsPerFrame reads two streams that differ only in their
// number of frames (30 and 90 fps) and checks that the decoder and the
// readers allocate no more for the second: whatever they allocate is per
// decode or per fragment, never per frame.
func TestNoAllocationsPerFrame(t *testing.T) {
	low := StreamConfig
	low.Fragments, low.VideoBitrate = 6, 1_000_000
	high := low
	high.FPS = 90
	lowData, highData := low.Bytes(), high.Bytes()
	extra := 0
	for i := range low.Fragments {
		extra += len(high.Frames(i)) - len(low.Frames(i))
	}

	readers := map[string]func([]byte){
		"Decoder": func(data []byte) {
			d := mkv.NewDecoder(bytes.NewReader(data))
			for {
				if _, err := d.Next(); err != nil {
					return
				}
			}
		},
		"ReaderMetadata": func(data []byte) {
			r := kvs.NewReader(bytes.NewReader(data), kvs.WithoutFrameData())
			for {
				if _, err := r.Next(); err != nil {
					return
				}
			}
		},
		"ReaderFrames": func(data []byte) {
			r := kvs.NewReader(bytes.NewReader(data))
			for {
				if _, err := r.Next(); err != nil {
					return
				}
			}
		},
		"Streaming": func(data []byte) {
			r := kvs.NewReader(bytes.NewReader(data))
			for {
				if _, err := r.NextEvent(); err == io.EOF {
					return
				}
			}
		},
	}
	for name, read := range readers {
		a := testing.AllocsPerRun(5, func() { read(lowData) })
		b := testing.AllocsPerRun(5, func() { read(highData) })
		// The first fragment sizes the lists the others reuse: allow one
		// growth per fragment, against the hundreds more frames.
		if b-a > float64(low.Fragments) {
			t.Errorf("%s: %.0f allocations at 30 fps, %.0f at 90 fps (%d more frames)", name, a, b, extra)
		}
	}
}
