package kvsgen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// TestCalls reads call streams back: their tracks, the call's tags on
// every fragment (another call from CallChange on), and every frame as
// the generator says it wrote it.
func TestCalls(t *testing.T) {
	tests := []struct {
		name   string
		call   kvsgen.CallKind
		tracks []string // name and codec of each track
		tags   []string
	}{
		{"connect", kvsgen.ConnectCall, []string{"AUDIO_FROM_CUSTOMER A_PCM/INT/LIT", "AUDIO_TO_CUSTOMER A_PCM/INT/LIT"}, []string{"ContactId"}},
		{"chime a-law", kvsgen.ChimeALaw, []string{"AUDIO A_MS/ACM"}, []string{"TransactionId", "VoiceConnectorId"}},
		{"chime µ-law", kvsgen.ChimeMuLaw, []string{"AUDIO A_MS/ACM"}, []string{"TransactionId", "VoiceConnectorId"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := kvsgen.Generator{Call: tc.call, Fragments: 4, CallChange: 2, GetMedia: true}
			if g.CallID(1) == g.CallID(2) || g.CallID(0) != g.CallID(1) {
				t.Fatalf("CallID: %s %s %s, want a change at unit 2", g.CallID(0), g.CallID(1), g.CallID(2))
			}
			i := 0
			for f, err := range kvs.NewReader(g.Reader()).All() {
				if err != nil {
					t.Fatal(err)
				}
				var tracks []string
				for _, tr := range f.Tracks {
					tracks = append(tracks, tr.Name+" "+tr.CodecID)
					if tr.SamplingRate != 8000 || tr.Channels != 1 {
						t.Errorf("fragment %d track %d: %v Hz, %d channels, want 8000 Hz mono", i, tr.Number, tr.SamplingRate, tr.Channels)
					}
				}
				if diff := cmp.Diff(tc.tracks, tracks); diff != "" {
					t.Errorf("fragment %d: tracks mismatch (-want +got):\n%s", i, diff)
				}
				for _, name := range tc.tags {
					if _, ok := f.Tag(name); !ok {
						t.Errorf("fragment %d: no tag %s", i, name)
					}
				}
				if id, _ := f.Tag(tc.tags[0]); id != g.CallID(i) {
					t.Errorf("fragment %d: %s %q, want %q", i, tc.tags[0], id, g.CallID(i))
				}
				want := g.Frames(i)
				if len(f.Frames) != len(want) || len(want) != 100*len(tc.tracks) {
					t.Fatalf("fragment %d: %d frames, want %d (%d)", i, len(f.Frames), len(want), 100*len(tc.tracks))
				}
				for k, fr := range f.Frames {
					if fr.Track != want[k].Track || !bytes.Equal(fr.Data, want[k].Data) {
						t.Fatalf("fragment %d frame %d: track %d, %d bytes; want track %d, %d bytes", i, k, fr.Track, len(fr.Data), want[k].Track, len(want[k].Data))
					}
				}
				i++
			}
			if i != g.Fragments {
				t.Errorf("%d fragments, want %d", i, g.Fragments)
			}
		})
	}
}

// TestCallsDecode checks that ffmpeg decodes every track of a call
// stream's units, to 8000 samples a second.
func TestCallsDecode(t *testing.T) {
	mediatest.Need(t)
	for _, call := range []kvsgen.CallKind{kvsgen.ConnectCall, kvsgen.ChimeALaw, kvsgen.ChimeMuLaw} {
		g := kvsgen.Generator{Call: call, Fragments: 1}
		file := filepath.Join(t.TempDir(), "unit.mkv")
		if err := os.WriteFile(file, g.Unit(0), 0o666); err != nil {
			t.Fatal(err)
		}
		mediatest.StructureOK(t, file)
		mediatest.Plays(t, file)
		for k, tr := range g.Tracks() {
			out := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", file, "-map", "0:"+strconv.Itoa(k), "-f", "s16le", "-")
			if len(out) != 2*2*8000 {
				t.Errorf("%s: track %d decodes to %d bytes, want 2 s of 8 kHz 16-bit samples (%d)", tr.CodecID, tr.Number, len(out), 2*2*8000)
			}
		}
	}
}
