package mkv_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// summarize counts, per EBML header + Segment unit, the SimpleTags (in the
// order they start) and the blocks and frames per track.
type summarizer struct {
	units []corpus.Unit
	open  []int // indexes in the unit's Tags of the open SimpleTags
	name  string
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
		name, value, _ := bytesCut(u.Tags[i])
		if ev.ID == mkv.IDTagName {
			name = ev.String()
		} else {
			value = ev.String()
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

func bytesCut(s string) (string, string, bool) {
	i := bytes.IndexByte([]byte(s), '=')
	return s[:i], s[i+1:], true
}

// TestCorpus decodes every real KVS capture, whole and one byte at a time,
// in pull and push mode, and compares tags, blocks and frames with what
// mkvinfo saw.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	for _, name := range corpus.Files(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := corpus.Expected(t, dir, name)
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

// pull decodes r with a Decoder, calling fn per event; it returns nil at a
// clean end.
func pull(r io.Reader, fn func(*mkv.Event) error, opts ...mkv.Option) error {
	d := mkv.NewDecoder(r, opts...)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// push decodes data with a PushDecoder in chunks of size bytes.
func push(data []byte, size int, fn func(*mkv.Event) error, opts ...mkv.Option) error {
	p := mkv.NewPushDecoder(fn, opts...)
	for len(data) > 0 {
		n := min(size, len(data))
		if _, err := p.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return p.Close()
}
