package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv/annexb"
)

// outputs writes what -out, -annexb and -keyframes ask for.
type outputs struct {
	outDir, annexbDir, keyDir string
	merge                     bool

	rec    *kvs.Recorder
	tracks map[uint64]*elementary
}

// elementary is the Annex-B file of one video track.
type elementary struct {
	f            *os.File
	w            *annexb.Writer
	codecPrivate string
}

func (o *outputs) wanted() bool { return o.outDir != "" || o.annexbDir != "" || o.keyDir != "" }

func (o *outputs) open() error {
	for _, dir := range []string{o.outDir, o.annexbDir, o.keyDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
	}
	if o.outDir != "" {
		var opts []kvs.RecorderOption
		if o.merge {
			opts = append(opts, kvs.WithMerge())
		}
		o.rec = kvs.NewRecorder(func(first *kvs.Fragment) (io.WriteSeeker, error) {
			return os.Create(filepath.Join(o.outDir, name(first)+".mkv"))
		}, opts...)
	}
	o.tracks = map[uint64]*elementary{}
	return nil
}

// name names a fragment's files by its number, or by its index.
func name(f *kvs.Fragment) string {
	if f.Number != "" {
		return f.Number.String()
	}
	return fmt.Sprintf("fragment-%d", f.Index)
}

func extension(codecID string) string {
	if codecID == annexb.CodecHEVC {
		return ".h265"
	}
	return ".h264"
}

func (o *outputs) fragment(f *kvs.Fragment, stderr io.Writer) error {
	if o.rec != nil {
		skipped, err := o.rec.Add(f)
		if err != nil {
			return err
		}
		if skipped && f.Err != nil {
			fmt.Fprintf(stderr, "kvsdump: fragment %d not written: %v\n", f.Index, f.Err)
		}
	}
	if o.annexbDir == "" && o.keyDir == "" {
		return nil
	}
	keys := 0
	for i := range f.Frames {
		fr := &f.Frames[i]
		t := f.Track(fr.Track)
		if t == nil || (t.CodecID != annexb.CodecAVC && t.CodecID != annexb.CodecHEVC) {
			continue
		}
		if o.annexbDir != "" {
			e, err := o.elementary(t)
			if err != nil {
				return err
			}
			if err := e.w.WriteFrame(fr.Data, fr.Keyframe); err != nil {
				return fmt.Errorf("-annexb: fragment %d, block at offset %d: %w", f.Index, fr.Offset, err)
			}
		}
		if o.keyDir != "" && fr.Keyframe {
			path := filepath.Join(o.keyDir, fmt.Sprintf("%s-%d%s", name(f), keys, extension(t.CodecID)))
			keys++
			if err := writeKeyframe(path, t, fr.Data); err != nil {
				return fmt.Errorf("-keyframes: fragment %d, block at offset %d: %w", f.Index, fr.Offset, err)
			}
		}
	}
	return nil
}

// elementary returns the Annex-B writer of a track, made again with new
// parameter sets when the track's CodecPrivate changes.
func (o *outputs) elementary(t *kvs.Track) (*elementary, error) {
	e := o.tracks[t.Number]
	if e != nil && e.codecPrivate == string(t.CodecPrivate) {
		return e, nil
	}
	if e == nil {
		f, err := os.Create(filepath.Join(o.annexbDir, fmt.Sprintf("track%d%s", t.Number, extension(t.CodecID))))
		if err != nil {
			return nil, err
		}
		e = &elementary{f: f}
		o.tracks[t.Number] = e
	}
	w, err := annexb.NewWriter(e.f, t.CodecID, t.CodecPrivate, annexb.WithTrack(t.Number))
	if err != nil {
		return nil, fmt.Errorf("-annexb: %w", err)
	}
	e.w, e.codecPrivate = w, string(t.CodecPrivate)
	return e, nil
}

func writeKeyframe(path string, t *kvs.Track, frame []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := annexb.NewWriter(f, t.CodecID, t.CodecPrivate, annexb.WithTrack(t.Number))
	if err == nil {
		err = w.WriteFrame(frame, true)
	}
	return errors.Join(err, f.Close())
}

func (o *outputs) close() error {
	var errs []error
	if o.rec != nil {
		errs = append(errs, o.rec.Close())
	}
	for _, e := range o.tracks {
		errs = append(errs, e.f.Close())
	}
	return errors.Join(errs...)
}
