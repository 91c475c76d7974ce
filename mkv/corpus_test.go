package mkv_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// summarize counts, per EBML header + Segment unit, the SimpleTags (in the
// order they start) and the blocks and frames per track.
type summarizer struct {
	units []corpus.Unit
	open  []int // indexes in the unit's Tags of the open SimpleTags
}

func (s *summarizer) event(ev *mkv.Event) error {
	switch {
	case ev.Kind == mkv.Start && ev.ID == mkv.IDEBML && ev.Depth == 0:
		s.units = append(s.units, corpus.Unit{Tracks: map[uint64]corpus.Count{}})
	case len(s.units) == 0:
	case ev.Kind == mkv.Start && ev.ID == mkv.IDSimpleTag:
		u := &s.units[len(s.units)-1]
		s.open = append(s.open, len(u.Tags))
		u.Tags = append(u.Tags, "=")
	case ev.Kind == mkv.End && ev.ID == mkv.IDSimpleTag:
		s.open = s.open[:len(s.open)-1]
	case ev.Kind == mkv.Value && (ev.ID == mkv.IDTagName || ev.ID == mkv.IDTagString) && len(s.open) > 0:
		u := &s.units[len(s.units)-1]
		i := s.open[len(s.open)-1]
		name, value, _ := strings.Cut(u.Tags[i], "=")
		if ev.ID == mkv.IDTagName {
			name = ev.StringValue()
		} else {
			value = ev.StringValue()
		}
		u.Tags[i] = name + "=" + value
	case ev.Kind == mkv.BlockKind:
		u := &s.units[len(s.units)-1]
		c := u.Tracks[ev.Block.Track]
		c.Blocks++
		c.Frames += len(ev.Block.Frames)
		u.Tracks[ev.Block.Track] = c
	}
	return nil
}

// TestCorpus decodes every real KVS capture, whole and one byte at a time,
// in pull and push mode, and compares tags, blocks and frames with what
// mkvinfo saw.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	for _, name := range corpus.Files(t, dir) {
		data, want := corpus.Load(t, dir, name)
		modes := []struct {
			name string
			run  func(*summarizer) error
		}{
			{"pull", func(s *summarizer) error { return pull(bytes.NewReader(data), s.event) }},
			{"pull/one-byte", func(s *summarizer) error { return pull(iotest.OneByteReader(bytes.NewReader(data)), s.event) }},
			{"push/7", func(s *summarizer) error { return push(data, 7, s.event) }},
		}
		for _, mode := range modes {
			t.Run(name+"/"+mode.name, func(t *testing.T) {
				var s summarizer
				err := mode.run(&s)
				corpus.Check(t, name, want, s.units, err, io.ErrUnexpectedEOF)
			})
		}
	}
}

func pull(r io.Reader, fn func(*mkv.Event) error) error { return mkvtest.Pull(r, fn) }

func push(data []byte, size int, fn func(*mkv.Event) error) error {
	return mkvtest.Push(data, []int{size}, fn)
}
