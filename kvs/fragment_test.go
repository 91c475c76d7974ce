package kvs_test

import (
	"bytes"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// TestTrackByNameAndTag reads a fragment with two named tracks and tags
// before and after its Cluster, and looks them up by name.
func TestTrackByNameAndTag(t *testing.T) {
	var b bytes.Buffer
	w, err := mkv.NewStreamWriter(&b, mkv.WriterOptions{Tracks: []mkv.Track{
		{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_FROM_CUSTOMER", BitDepth: 16},
		{Number: 2, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_TO_CUSTOMER", BitDepth: 16},
		{Number: 3, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_TO_CUSTOMER", BitDepth: 16},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(2, 0, true, make([]byte, 320)); err != nil {
		t.Fatal(err)
	}
	w.AddTags([]mkv.SimpleTag{
		{Name: "ContactId", Value: "first", Tags: []mkv.SimpleTag{{Name: "Nested", Value: "n"}}},
		{Name: "ContactId", Value: "second"},
		{Name: "Empty", Value: ""},
		{Name: "Blob", Binary: []byte{1, 2}},
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := kvs.NewReader(&b).Next()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		number uint64
		frames int
	}{{"AUDIO_FROM_CUSTOMER", 1, 0}, {"AUDIO_TO_CUSTOMER", 2, 1}, {"", 0, 0}, {"audio_from_customer", 0, 0}} {
		tr := f.TrackByName(tt.name)
		switch {
		case tr == nil && tt.number != 0:
			t.Errorf("TrackByName(%q) = nil, want track %d", tt.name, tt.number)
		case tr != nil && (tr.Number != tt.number || tr != f.Track(tt.number) || tr.Frames != tt.frames):
			t.Errorf("TrackByName(%q) = track %d of %d frames, want track %d of %d", tt.name, tr.Number, tr.Frames, tt.number, tt.frames)
		}
	}
	for _, tt := range []struct {
		name, value string
		ok          bool
	}{{"ContactId", "first", true}, {"Empty", "", true}, {"Blob", "", true}, {"Nested", "", false}, {"contactid", "", false}} {
		if v, ok := f.Tag(tt.name); v != tt.value || ok != tt.ok {
			t.Errorf("Tag(%q) = %q, %v, want %q, %v", tt.name, v, ok, tt.value, tt.ok)
		}
	}
}
