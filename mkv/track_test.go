package mkv_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// readTracks returns the tracks of a Matroska file as Track.Set reads them.
func readTracks(t *testing.T, data []byte) []mkv.Track {
	t.Helper()
	var tracks []mkv.Track
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDTrackEntry && ev.Kind == mkv.Start:
			tracks = append(tracks, mkv.NewTrack())
		case ev.Kind == mkv.Value && len(tracks) > 0:
			tracks[len(tracks)-1].Set(ev)
		}
	}
	return tracks
}

// TestAudioDefaults checks that an audio TrackEntry without
// SamplingFrequency or Channels reads as 8000 Hz and 1 channel, that the
// elements present win wherever they are, and that a video track gets no
// audio settings.
func TestAudioDefaults(t *testing.T) {
	rate := func(hz float64) []byte { return mkv.AppendFloat(nil, mkv.IDSamplingFrequency, hz) }
	tests := []struct {
		name  string
		entry []byte
		want  mkv.Track
	}{
		{"no Audio", concat(el(0xD7, u(1)), el(0x83, u(2)), el(0x86, str("A_PCM/INT/LIT"))),
			mkv.Track{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Language: "eng", SamplingRate: 8000, Channels: 1}},
		{"Audio with BitDepth only", concat(el(0xD7, u(1)), el(0x83, u(2)), el(0xE1, el(0x6264, u(16)))),
			mkv.Track{Number: 1, Type: mkv.AudioTrack, Language: "eng", SamplingRate: 8000, Channels: 1, BitDepth: 16}},
		{"Audio after TrackType", concat(el(0x83, u(2)), el(0xE1, concat(rate(48000), el(0x9F, u(2))))),
			mkv.Track{Type: mkv.AudioTrack, Language: "eng", SamplingRate: 48000, Channels: 2}},
		{"Audio before TrackType", concat(el(0xE1, rate(44100)), el(0x83, u(2))),
			mkv.Track{Type: mkv.AudioTrack, Language: "eng", SamplingRate: 44100, Channels: 1}},
		{"video", concat(el(0x83, u(1)), el(0xE0, el(0xB0, u(64)))),
			mkv.Track{Type: mkv.VideoTrack, Language: "eng", Width: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := concat(ebmlHeader(), el(0x18538067, el(0x1654AE6B, el(0xAE, tt.entry))))
			got := readTracks(t, file)
			if diff := cmp.Diff([]mkv.Track{tt.want}, got); diff != "" {
				t.Errorf("tracks mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestWriterAudioElement checks that a Writer writes an audio track's
// Audio element even when its settings are the defaults, or zero.
func TestWriterAudioElement(t *testing.T) {
	for _, tr := range []mkv.Track{
		{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", SamplingRate: 8000, Channels: 1, BitDepth: 16},
		{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", BitDepth: 16},
	} {
		b := mkv.AppendTrack(nil, &tr)
		want := mkv.AppendElement(nil, mkv.IDAudio, concat(mkv.AppendFloat(nil, mkv.IDSamplingFrequency, 8000), el(0x9F, u(1)), el(0x6264, u(16))))
		if !bytes.HasSuffix(b, want) {
			t.Errorf("AppendTrack(%+v) = % x, want it to end with Audio % x", tr, b, want)
		}
	}
}

// TestMkvmergeDefaults reads what mkvmerge writes of an 8 kHz mono WAV (a
// TrackEntry without SamplingFrequency and Channels, which equal the
// defaults), writes it again with a Writer and a StreamWriter, and checks
// that ffprobe reads 8000 Hz mono in both.
func TestMkvmergeDefaults(t *testing.T) {
	mediatest.Need(t)
	if _, err := exec.LookPath("mkvmerge"); err != nil {
		mediatest.Skip(t, "mkvmerge", "apt-get install mkvtoolnix")
	}
	dir := t.TempDir()
	wav, src := filepath.Join(dir, "src.wav"), filepath.Join(dir, "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=1", "-c:a", "pcm_s16le", wav)
	mediatest.Run(t, "mkvmerge", "-q", "-o", src, wav)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte{0x9F, 0x81, 0x01}) {
		t.Log("mkvmerge wrote Channels; the defaults are not exercised")
	}
	tracks := readTracks(t, data)
	if len(tracks) != 1 || tracks[0].SamplingRate != 8000 || tracks[0].Channels != 1 || tracks[0].BitDepth != 16 {
		t.Fatalf("tracks %+v, want one of 8000 Hz, 1 channel, 16 bits", tracks)
	}
	for _, stream := range []bool{false, true} {
		out := filepath.Join(dir, "out.mkv")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		opts := mkv.WriterOptions{Tracks: tracks}
		var w *mkv.Writer
		if stream {
			w, err = mkv.NewStreamWriter(f, opts)
		} else {
			w, err = mkv.NewWriter(f, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(1, 0, true, make([]byte, 320)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got := strings.TrimSpace(mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", out))
		if want := "pcm_s16le,8000,1"; got != want {
			t.Errorf("stream writer %v: ffprobe reads %q, want %q", stream, got, want)
		}
	}
}
