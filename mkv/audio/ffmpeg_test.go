package audio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// waveFormatEx returns a WAVEFORMATEX with cbSize 0.
func waveFormatEx(tag, channels uint16, rate, avg uint32, align, bits uint16) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, tag)
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, avg)
	b = le.AppendUint16(b, align)
	b = le.AppendUint16(b, bits)
	return le.AppendUint16(b, 0)
}

// awsALaw is the CodecPrivate AWS's C producer SDK writes for 8 kHz mono
// G.711 A-law: a byte rate of 1000 and 0 bits per sample.
var awsALaw = waveFormatEx(6, 1, 8000, 1000, 1, 0)

// pcmCase is an audio track of 20 ms frames of random samples.
type pcmCase struct {
	name  string
	track mkv.Track
	// sample is the size of one sample of one channel; swap reverses
	// them (big-endian source).
	sample int
	swap   bool
	// codec and raw are ffprobe's codec_name of the output and the
	// ffmpeg format of its bare samples.
	codec, raw string
	rate       int
	channels   int
}

var pcmCases = []pcmCase{
	{name: "s16le 8 kHz mono, rate and channels left out", track: mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 16},
		sample: 2, codec: "pcm_s16le", raw: "s16le", rate: 8000, channels: 1},
	{name: "s16be 48 kHz stereo", track: mkv.Track{CodecID: audio.CodecPCMBig, BitDepth: 16, SamplingRate: 48000, Channels: 2},
		sample: 2, swap: true, codec: "pcm_s16le", raw: "s16le", rate: 48000, channels: 2},
	{name: "s24be 44.1 kHz stereo", track: mkv.Track{CodecID: audio.CodecPCMBig, BitDepth: 24, SamplingRate: 44100, Channels: 2},
		sample: 3, swap: true, codec: "pcm_s24le", raw: "s24le", rate: 44100, channels: 2},
	{name: "s32le 16 kHz 3 channels", track: mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 32, SamplingRate: 16000, Channels: 3},
		sample: 4, codec: "pcm_s32le", raw: "s32le", rate: 16000, channels: 3},
	{name: "u8 16 kHz mono", track: mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 8, SamplingRate: 16000, Channels: 1},
		sample: 1, codec: "pcm_u8", raw: "u8", rate: 16000, channels: 1},
	{name: "f32le 48 kHz 6 channels", track: mkv.Track{CodecID: audio.CodecPCMFloat, BitDepth: 32, SamplingRate: 48000, Channels: 6},
		sample: 4, codec: "pcm_f32le", raw: "f32le", rate: 48000, channels: 6},
	{name: "f64le 8 kHz stereo", track: mkv.Track{CodecID: audio.CodecPCMFloat, BitDepth: 64, SamplingRate: 8000, Channels: 2},
		sample: 8, codec: "pcm_f64le", raw: "f64le", rate: 8000, channels: 2},
	{name: "A_MS/ACM A-law as AWS's producer SDK writes it", track: mkv.Track{CodecID: audio.CodecACM, CodecPrivate: awsALaw},
		sample: 1, codec: "pcm_alaw", raw: "alaw", rate: 8000, channels: 1},
	{name: "A_MS/ACM µ-law 8 kHz stereo", track: mkv.Track{CodecID: audio.CodecACM, CodecPrivate: waveFormatEx(7, 2, 8000, 0, 0, 0), SamplingRate: 8000, Channels: 2},
		sample: 1, codec: "pcm_mulaw", raw: "mulaw", rate: 8000, channels: 2},
	{name: "A_MS/ACM PCM 16 kHz mono", track: mkv.Track{CodecID: audio.CodecACM, CodecPrivate: waveFormatEx(1, 1, 16000, 1, 1, 16), SamplingRate: 16000},
		sample: 2, codec: "pcm_s16le", raw: "s16le", rate: 16000, channels: 1},
}

const frames = 75 // of 20 ms: 1.5 s

// mkvOf writes frames of a track into a Matroska file with mkv.Writer,
// reads the file back and returns the track and frames as a reader sees
// them.
func mkvOf(t *testing.T, dir string, tr mkv.Track, data [][]byte, step time.Duration) (mkv.Track, [][]byte) {
	t.Helper()
	path := filepath.Join(dir, "src.mkv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tr.Number, tr.Type = 1, mkv.AudioTrack
	w, err := mkv.NewWriter(f, mkv.WriterOptions{Tracks: []mkv.Track{tr}})
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range data {
		if err := w.WriteFrame(1, time.Duration(i)*step, true, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return readMKV(t, path)
}

// readMKV returns the first track of a Matroska file and its frames.
func readMKV(t *testing.T, path string) (mkv.Track, [][]byte) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tracks []mkv.Track
	var got [][]byte
	for ev, err := range mkv.NewDecoder(bytes.NewReader(src)).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDTrackEntry && ev.Kind == mkv.Start:
			tracks = append(tracks, mkv.NewTrack())
		case ev.Kind == mkv.Value && len(tracks) > 0:
			tracks[len(tracks)-1].Set(ev)
		case ev.Kind == mkv.BlockKind && ev.Block.Track == 1:
			for _, fr := range ev.Block.Frames {
				got = append(got, bytes.Clone(fr))
			}
		}
	}
	if len(tracks) == 0 {
		t.Fatalf("%s has no track", path)
	}
	return tracks[0], got
}

// convert writes frames through an audio.Writer to w.
func convert(t *testing.T, w *os.File, tr *mkv.Track, data [][]byte) {
	t.Helper()
	aw, err := audio.NewWriter(w, tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range data {
		if err := aw.WriteFrame(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
}

// probe returns what ffprobe says of a file's first audio stream and its
// duration, as "codec_name=...,sample_rate=...,channels=...,duration=...".
func probe(t *testing.T, file string) string {
	t.Helper()
	out := mediatest.Run(t, "ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
		"stream=codec_name,sample_rate,channels:format=duration", "-of", "default=nw=1", file)
	return strings.Join(strings.Fields(out), ",")
}

// TestWAVThroughFFmpeg writes every PCM and A_MS/ACM case into Matroska
// with mkv.Writer, reads it back (defaults applied), converts it to WAV
// both in a file and through a pipe into ffmpeg, and checks what ffprobe
// reads (codec, rate, channels, the frames' duration) and that the
// samples ffmpeg copies out are the source's, byte for byte.
func TestWAVThroughFFmpeg(t *testing.T) {
	mediatest.Need(t)
	for _, tc := range pcmCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			frameBytes := tc.rate / 50 * tc.channels * tc.sample
			var src [][]byte
			var want []byte
			for range frames {
				fr := make([]byte, frameBytes)
				for i := range fr {
					fr[i] = byte(rng.Uint32())
				}
				if tc.raw == "f32le" || tc.raw == "f64le" {
					for i := tc.sample - 1; i < len(fr); i += tc.sample {
						fr[i] &= 0x3F // no NaN or infinity
					}
				}
				src = append(src, fr)
				le := bytes.Clone(fr)
				if tc.swap {
					for i := 0; i < len(le); i += tc.sample {
						for j, k := i, i+tc.sample-1; j < k; j, k = j+1, k-1 {
							le[j], le[k] = le[k], le[j]
						}
					}
				}
				want = append(want, le...)
			}
			tr, got := mkvOf(t, dir, tc.track, src, 20*time.Millisecond)
			if len(got) != frames {
				t.Fatalf("read %d frames back, wrote %d", len(got), frames)
			}

			wav := filepath.Join(dir, "out.wav")
			f, err := os.Create(wav)
			if err != nil {
				t.Fatal(err)
			}
			convert(t, f, &tr, got)
			f.Close()
			wantProbe := fmt.Sprintf("codec_name=%s,sample_rate=%d,channels=%d,duration=%.6f", tc.codec, tc.rate, tc.channels, float64(frames)*0.02)
			if p := probe(t, wav); p != wantProbe {
				t.Errorf("ffprobe reads %s\nwant            %s", p, wantProbe)
			}
			mediatest.Plays(t, wav)
			samples := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", wav, "-c", "copy", "-f", tc.raw, "-")
			if !bytes.Equal([]byte(samples), want) {
				t.Errorf("ffmpeg copies %d bytes of samples out of the file, not the %d of the source", len(samples), len(want))
			}

			// The same through a pipe, which cannot seek: sizes unknown.
			cmd := exec.Command("ffmpeg", "-v", "error", "-f", "wav", "-i", "pipe:0", "-c", "copy", "-f", tc.raw, "pipe:1")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw, err := audio.NewWriter(stdin, &tr)
			if err != nil {
				t.Fatal(err)
			}
			for _, fr := range got {
				if err := pw.WriteFrame(fr); err != nil {
					t.Fatal(err)
				}
			}
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
				t.Fatalf("ffmpeg reading the pipe: %v %s", err, stderr.String())
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("ffmpeg copies %d bytes of samples out of the pipe, not the %d of the source", out.Len(), len(want))
			}
		})
	}
}

// TestMkvmergeWAV converts a track mkvmerge wrote from an 8 kHz mono WAV,
// without SamplingFrequency and Channels (they equal Matroska's
// defaults): the WAV has the defaults, and the source's samples.
func TestMkvmergeWAV(t *testing.T) {
	mediatest.Need(t)
	if _, err := exec.LookPath("mkvmerge"); err != nil {
		mediatest.Skip(t, "mkvmerge", "apt-get install mkvtoolnix")
	}
	dir := t.TempDir()
	src, merged, out := filepath.Join(dir, "src.wav"), filepath.Join(dir, "src.mkv"), filepath.Join(dir, "out.wav")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=2", "-c:a", "pcm_s16le", src)
	mediatest.Run(t, "mkvmerge", "-q", "-o", merged, src)
	tr, frames := readMKV(t, merged)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	convert(t, f, &tr, frames)
	f.Close()
	if p, want := probe(t, out), "codec_name=pcm_s16le,sample_rate=8000,channels=1,duration=2.000000"; p != want {
		t.Errorf("ffprobe reads %s\nwant            %s", p, want)
	}
	want := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", src, "-c", "copy", "-f", "s16le", "-")
	if got := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", out, "-c", "copy", "-f", "s16le", "-"); got != want || len(got) != 32000 {
		t.Errorf("%d bytes of samples, want the source's %d", len(got), len(want))
	}
}

// TestACMCopied converts an A_MS/ACM track of a format the package does
// not derive (IMA ADPCM, whose WAVEFORMATEX carries samples per block in
// its extra bytes): the format is copied, and ffmpeg decodes the blocks.
func TestACMCopied(t *testing.T) {
	mediatest.Need(t)
	dir := t.TempDir()
	src, out := filepath.Join(dir, "src.wav"), filepath.Join(dir, "out.wav")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=2", "-c:a", "adpcm_ima_wav", src)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The fmt chunk is the WAVEFORMATEX; the data, blocks of nBlockAlign.
	fmtAt, dataAt := bytes.Index(b, []byte("fmt ")), bytes.Index(b, []byte("data"))
	cp := b[fmtAt+8 : fmtAt+8+int(binary.LittleEndian.Uint32(b[fmtAt+4:]))]
	align := int(binary.LittleEndian.Uint16(cp[12:]))
	data := b[dataAt+8 : dataAt+8+int(binary.LittleEndian.Uint32(b[dataAt+4:]))]
	var blocks [][]byte
	for off := 0; off < len(data); off += align {
		blocks = append(blocks, data[off:min(off+align, len(data))])
	}
	tr, got := mkvOf(t, dir, mkv.Track{CodecID: audio.CodecACM, CodecPrivate: cp, SamplingRate: 8000}, blocks, 0)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	convert(t, f, &tr, got)
	f.Close()
	// The duration differs: the source has a fact chunk with its sample
	// count, a copied format none.
	if got, want := probe(t, out), "codec_name=adpcm_ima_wav,sample_rate=8000,channels=1,duration="; !strings.HasPrefix(got, want) {
		t.Errorf("ffprobe reads %s\nwant            %s...", got, want)
	}
	mediatest.Plays(t, out)
}
