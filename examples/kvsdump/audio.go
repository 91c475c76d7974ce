package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// audioOut writes what -audio asks for, frame by frame as frames arrive:
// each (selected) audio track to DIR/<track name or number>.<wav|aac>,
// or, with "-", the first one to standard output (a WAV of unknown size,
// which ffmpeg and sox read live).
type audioOut struct {
	dir string

	stdout io.Writer
	tracks map[uint64]*audioTrack
	names  map[string]bool
	first  uint64 // the track on standard output, once chosen
	// seen describes the tracks of the last fragment started, for the
	// message when no audio track was found.
	seen string
}

type audioTrack struct {
	file *os.File // nil on standard output
	w    *audio.Writer
}

func (a *audioOut) wanted() bool   { return a.dir != "" }
func (a *audioOut) toStdout() bool { return a.dir == "-" }

func (a *audioOut) open() error {
	a.tracks, a.names = map[uint64]*audioTrack{}, map[string]bool{}
	if a.dir == "" || a.dir == "-" {
		return nil
	}
	return os.MkdirAll(a.dir, 0o755)
}

func isAudio(t *kvs.Track) bool {
	return t.Type == mkv.AudioTrack || strings.HasPrefix(t.CodecID, "A_")
}

// frame writes a frame of fragment f, if its track is an audio track
// -audio writes.
func (a *audioOut) frame(f *kvs.Fragment, fr *kvs.Frame) error {
	t := f.Track(fr.Track)
	if t == nil || !isAudio(t) {
		return nil
	}
	at, err := a.track(f, t)
	if err != nil || at == nil {
		return err
	}
	if err := at.w.WriteFrame(fr.Data); err != nil {
		return fmt.Errorf("-audio: fragment %d, block at offset %d: %w", f.Index, fr.Offset, err)
	}
	return nil
}

// track returns the writer of track t, opening it at the track's first
// frame; nil for a track standard output does not take.
func (a *audioOut) track(f *kvs.Fragment, t *kvs.Track) (*audioTrack, error) {
	if at, ok := a.tracks[t.Number]; ok {
		return at, nil
	}
	if a.toStdout() && a.first != 0 {
		return nil, nil
	}
	ext, err := audio.Ext(t.CodecID)
	if err != nil {
		return nil, fmt.Errorf("-audio: track %d%s of fragment %d has codec %s, which kvsdump does not write as audio (it writes A_PCM/*, A_MS/ACM and A_AAC; -mkv and -out keep any codec)",
			t.Number, quotedName(t), f.Index, t.CodecID)
	}
	at := &audioTrack{}
	out := a.stdout
	if !a.toStdout() {
		if at.file, err = os.Create(filepath.Join(a.dir, a.fileName(t)+ext)); err != nil {
			return nil, err
		}
		out = at.file
	}
	if at.w, err = audio.NewWriter(out, &t.Track); err != nil {
		if at.file != nil {
			at.file.Close()
			os.Remove(at.file.Name()) // no file rather than a file of nothing
		}
		return nil, fmt.Errorf("-audio: fragment %d: %w", f.Index, err)
	}
	a.tracks[t.Number] = at
	a.first = t.Number
	return at, nil
}

func quotedName(t *kvs.Track) string {
	if t.Name == "" {
		return ""
	}
	return " (" + t.Name + ")"
}

// fileName names a track's file by its name, made safe for a file name,
// or by its number when it has none; a name another track's file has
// already gets "-2", "-3", ... (a track named "track2" and an unnamed
// track 2 both want track2).
func (a *audioOut) fileName(t *kvs.Track) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, t.Name)
	if name == "" || strings.Trim(name, ".") == "" || a.names[name] {
		name = "track" + strconv.FormatUint(t.Number, 10)
	}
	unique := name
	for n := 2; a.names[unique]; n++ {
		unique = name + "-" + strconv.Itoa(n)
	}
	a.names[unique] = true
	return unique
}

// saw notes the tracks of a fragment that starts.
func (a *audioOut) saw(f *kvs.Fragment) {
	if a.wanted() && len(f.Tracks) > 0 {
		a.seen = describeTracks(f)
	}
}

// check fails for a fragment that starts with tracks, none of them an
// audio track that sel (the -track flags, resolved for f) keeps: -audio
// would write nothing of it, and a follow would wait for audio that never
// comes.
func (a *audioOut) check(f *kvs.Fragment, sel *trackFlags) error {
	if !a.wanted() || len(f.Tracks) == 0 {
		return nil
	}
	for i := range f.Tracks {
		if t := &f.Tracks[i]; isAudio(t) && sel.keeps(t.Number) {
			return nil
		}
	}
	selected := ""
	if sel.on() {
		selected = " among -track " + sel.String()
	}
	return fmt.Errorf("-audio: fragment %d (%s) has no audio track%s; its tracks are %s", f.Index, fragmentName(f), selected, describeTracks(f))
}

// written says so when a dump that read fragments wrote no audio track,
// for a dump that ended without another error.
func (a *audioOut) written() error {
	if a.wanted() && len(a.tracks) == 0 && a.seen != "" {
		return fmt.Errorf("-audio: no audio track was written: the stream's tracks are %s", a.seen)
	}
	return nil
}

// close ends every file: their WAV sizes, written now.
func (a *audioOut) close() error {
	var errs []error
	for _, at := range a.tracks {
		errs = append(errs, at.w.Close())
		if at.file != nil {
			errs = append(errs, at.file.Close())
		}
	}
	return errors.Join(errs...)
}
