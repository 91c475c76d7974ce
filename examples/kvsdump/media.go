package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/annexb"
)

// media writes frames as they arrive, for live pipelines: -annexb - (the
// first H.264/H.265 track as Annex-B on standard output) and -mkv FILE|-
// (every track as one continuous live Matroska stream, on a timeline of
// the frames' wall clocks). Nothing waits for a fragment to complete.
type media struct {
	annexbOut bool
	mkvPath   string

	stdout io.Writer
	warn   io.Writer
	// keep tells which tracks -track selects for the live Matroska
	// stream.
	keep func(uint64) bool

	ab      *annexb.Writer
	abTrack uint64
	abCP    string

	mw     *mkv.Writer
	mkvOut io.WriteCloser // the file of -mkv FILE, or nil
	tracks map[uint64]bool
	origin time.Time
	last   map[uint64]time.Duration
	warned map[uint64]bool
}

// toStdout tells whether the media take standard output, instead of the
// fragment lines.
func (m *media) toStdout() bool { return m.annexbOut || m.mkvPath == "-" }

func (m *media) wanted() bool { return m.annexbOut || m.mkvPath != "" }

// frame writes one frame of fragment f.
func (m *media) frame(f *kvs.Fragment, fr *kvs.Frame) error {
	t := f.Track(fr.Track)
	if t == nil {
		return nil
	}
	if m.annexbOut {
		if err := m.annexb(t, fr); err != nil {
			return err
		}
	}
	if m.mkvPath != "" {
		return m.matroska(f, t, fr)
	}
	return nil
}

// annexb writes a frame of the first H.264/H.265 track, with the
// parameter sets again whenever they change.
func (m *media) annexb(t *kvs.Track, fr *kvs.Frame) error {
	if t.CodecID != annexb.CodecAVC && t.CodecID != annexb.CodecHEVC || m.abTrack != 0 && t.Number != m.abTrack {
		return nil
	}
	if m.ab == nil || m.abCP != string(t.CodecPrivate) {
		w, err := annexb.NewWriter(m.stdout, t.CodecID, t.CodecPrivate, annexb.WithTrack(t.Number))
		if err != nil {
			return fmt.Errorf("-annexb: %w", err)
		}
		m.ab, m.abTrack, m.abCP = w, t.Number, string(t.CodecPrivate)
	}
	return m.ab.WriteFrame(fr.Data, fr.Keyframe)
}

// matroska writes a frame into the live Matroska stream, which takes its
// tracks from the first fragment: frames of tracks it does not have are
// left out (a live stream cannot add tracks), with a warning.
func (m *media) matroska(f *kvs.Fragment, t *kvs.Track, fr *kvs.Frame) error {
	if m.mw == nil {
		if err := m.openMatroska(f, fr); err != nil {
			return err
		}
	}
	if !m.tracks[t.Number] {
		if !m.warned[t.Number] {
			m.warned[t.Number] = true
			fmt.Fprintf(m.warn, "kvsdump: -mkv: track %d is not in the stream's first fragment; its frames are left out\n", t.Number)
		}
		return nil
	}
	at := max(f.WallClock(fr).Sub(m.origin), m.last[t.Number], 0)
	m.last[t.Number] = at
	return m.mw.WriteFrame(t.Number, at, fr.Keyframe, fr.Data)
}

// openMatroska starts the stream with the tracks of f; the frame fr, the
// first written, is its time 0.
func (m *media) openMatroska(f *kvs.Fragment, fr *kvs.Frame) error {
	w := m.stdout
	if m.mkvPath != "-" {
		file, err := os.Create(m.mkvPath)
		if err != nil {
			return err
		}
		m.mkvOut, w = file, file
	}
	opts := mkv.WriterOptions{TimecodeScale: mkv.DefaultTimecodeScale, WritingApp: "kvsdump"}
	m.tracks, m.last, m.warned = map[uint64]bool{}, map[uint64]time.Duration{}, map[uint64]bool{}
	for _, t := range f.Tracks {
		if m.keep != nil && !m.keep(t.Number) {
			continue
		}
		opts.Tracks = append(opts.Tracks, t.Track)
		m.tracks[t.Number] = true
	}
	m.origin = f.WallClock(fr)
	mw, err := mkv.NewStreamWriter(w, opts)
	if err != nil {
		return fmt.Errorf("-mkv: %w", err)
	}
	m.mw = mw
	return nil
}

func (m *media) close() error {
	if m.mw == nil {
		return nil
	}
	err := m.mw.Close()
	if m.mkvOut != nil {
		if cerr := m.mkvOut.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
