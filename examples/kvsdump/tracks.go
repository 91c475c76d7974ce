package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kvsmkv/kvsmkv/kvs"
)

// trackFlags are the -track flags: tracks by name or number, which
// restrict -frames, -annexb, -audio, -mkv and -out to them. Each fragment
// names them again (at its start), and a name or number a fragment's
// tracks do not have ends the dump.
type trackFlags struct {
	names []string

	frag *kvs.Fragment   // the fragment resolved last
	keep map[uint64]bool // its selected track numbers
}

func (t *trackFlags) String() string { return strings.Join(t.names, ",") }

func (t *trackFlags) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty track name")
	}
	t.names = append(t.names, v)
	return nil
}

func (t *trackFlags) on() bool { return len(t.names) > 0 }

// resolve finds the selected tracks of a fragment that starts. A
// fragment without tracks (an in-band error) selects none and fails
// nothing.
func (t *trackFlags) resolve(f *kvs.Fragment) error {
	if !t.on() || t.frag == f {
		return nil
	}
	t.frag = f
	t.keep = map[uint64]bool{}
	if len(f.Tracks) == 0 {
		return nil
	}
	for _, name := range t.names {
		tr := f.TrackByName(name)
		if n, err := strconv.ParseUint(name, 10, 64); err == nil && tr == nil {
			tr = f.Track(n)
		}
		if tr == nil {
			return fmt.Errorf("-track %s: fragment %d (%s) has no such track; its tracks are %s", name, f.Index, fragmentName(f), describeTracks(f))
		}
		t.keep[tr.Number] = true
	}
	return nil
}

// keeps tells whether the outputs take frames of track n.
func (t *trackFlags) keeps(n uint64) bool { return !t.on() || t.keep[n] }

// restrict returns f with only the selected tracks and their frames, for
// the outputs that take whole fragments; f itself when no -track is
// given.
func (t *trackFlags) restrict(f *kvs.Fragment) *kvs.Fragment {
	if !t.on() {
		return f
	}
	v := *f
	v.Tracks, v.Frames = nil, nil
	for _, tr := range f.Tracks {
		if t.keep[tr.Number] {
			v.Tracks = append(v.Tracks, tr)
		}
	}
	for _, fr := range f.Frames {
		if t.keep[fr.Track] {
			v.Frames = append(v.Frames, fr)
		}
	}
	return &v
}

// fragmentName names a fragment in messages: its number, or "no number".
func fragmentName(f *kvs.Fragment) string {
	if f.Number != "" {
		return "number " + f.Number.String()
	}
	return "no number"
}

// describeTracks lists a fragment's tracks as "1 (AUDIO_FROM_CUSTOMER,
// A_PCM/INT/LIT), 2 (...)".
func describeTracks(f *kvs.Fragment) string {
	var parts []string
	for _, tr := range f.Tracks {
		d := strconv.FormatUint(tr.Number, 10) + " ("
		if tr.Name != "" {
			d += tr.Name + ", "
		}
		parts = append(parts, d+tr.CodecID+")")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// whileTag is -while-tag NAME=VALUE: the dump reads while fragments
// carry that tag value, and stops cleanly at the start of the first whose
// value differs, before anything of it is written. A fragment without
// the tag goes on.
type whileTag struct {
	spec, name, value string
}

// parse reads the flag's value: NAME=VALUE, NAME not empty.
func (w *whileTag) parse() error {
	if w.spec == "" {
		return nil
	}
	name, value, ok := strings.Cut(w.spec, "=")
	if !ok || name == "" {
		return usagef("-while-tag %q: want NAME=VALUE, such as -while-tag ContactId=...", w.spec)
	}
	w.name, w.value = name, value
	return nil
}

// stops tells whether fragment f, starting, ends the dump.
func (w *whileTag) stops(f *kvs.Fragment) bool {
	if w.name == "" {
		return false
	}
	v, ok := f.Tag(w.name)
	return ok && v != w.value
}
