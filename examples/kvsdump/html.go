package main

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sync"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
)

// htmlGap is the space between fragments that -html shows as a gap.
const htmlGap = time.Second

// withHTML runs the dump and, with -html FILE, writes the report of the
// fragments it read to FILE (after an interrupt too: the fragments read
// until then). It returns the exit status.
func withHTML(c *config, src *source, stderr io.Writer, run func() int) int {
	if c.html == "" {
		return run()
	}
	name := c.live.stream
	switch {
	case name != "":
	case c.emulate:
		name = "emulator"
	case src.in != nil:
		name = src.in.name
	}
	h := &htmlRecorder{stream: name}
	src.events = h.wrap(src.events)
	code := run()
	if err := h.write(c.html); err != nil {
		fmt.Fprintf(stderr, "kvsdump: -html: %v\n", err)
		if code == exitOK {
			code = exitInput
		}
	}
	return code
}

// htmlRecorder keeps a record of each fragment that goes by.
type htmlRecorder struct {
	stream string

	mu      sync.Mutex
	records []kvsreport.Record
	// frames are the metadata of the frames of the fragment being read,
	// for its track bytes and duration.
	frames []kvs.Frame
}

func (h *htmlRecorder) wrap(events iter.Seq2[*kvs.Event, error]) iter.Seq2[*kvs.Event, error] {
	return func(yield func(*kvs.Event, error) bool) {
		for ev, err := range events {
			if err == nil {
				h.event(ev)
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

func (h *htmlRecorder) event(ev *kvs.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch ev.Kind {
	case kvs.FrameEvent:
		fr := *ev.Frame
		fr.Data = nil
		h.frames = append(h.frames, fr)
	case kvs.FragmentEvent:
		f := *ev.Fragment
		if len(f.Frames) == 0 {
			f.Frames = h.frames
		}
		h.records = append(h.records, kvsreport.FromFragment(h.stream, &f))
		h.frames = h.frames[:0]
	}
}

func (h *htmlRecorder) write(path string) error {
	h.mu.Lock()
	records := append([]kvsreport.Record(nil), h.records...)
	h.mu.Unlock()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = kvsreport.WriteHTML(f, records, kvsreport.Options{Title: "kvsdump " + h.stream, Gap: htmlGap})
	return errors.Join(err, f.Close())
}
