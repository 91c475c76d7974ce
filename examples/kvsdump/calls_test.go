package main

import (
	"bytes"
	"context"
	le "encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// wavData returns the data chunk of a WAV file, or fails.
func wavData(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file: % x", b[:min(len(b), 12)])
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(le.LittleEndian.Uint32(b[p+4:]))
		if id == "data" {
			if size == 0xFFFFFFFF {
				return b[p+8:]
			}
			return b[p+8 : p+8+size]
		}
		p += 8 + size + size&1
	}
	t.Fatal("WAV file without a data chunk")
	return nil
}

// adtsFrames returns the AAC frames of an ADTS stream, or fails.
func adtsFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
			t.Fatalf("not an ADTS header: % x", b[:min(len(b), 7)])
		}
		n := int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5])>>5
		out = append(out, b[7:n])
		b = b[n:]
	}
	return out
}

// trackFrames returns the frames the generator wrote of a track in units
// [0, units).
func trackFrames(g kvsgen.Generator, track uint64, units int) [][]byte {
	var out [][]byte
	for i := range units {
		for _, f := range g.Frames(i) {
			if f.Track == track {
				out = append(out, f.Data)
			}
		}
	}
	return out
}

// probe returns ffprobe's codec_name, sample_rate and channels of a file's
// first audio stream, and the seconds of audio ffmpeg decodes from it.
func probe(t *testing.T, file string) (string, float64) {
	t.Helper()
	info := strings.TrimSpace(mediatest.Run(t, "ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", file))
	pcm, err := exec.Command("ffmpeg", "-v", "error", "-i", file, "-f", "s16le", "-ac", "1", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg decoding %s: %v", file, err)
	}
	var rate float64
	if parts := strings.Split(info, ","); len(parts) == 3 {
		rate, _ = strconv.ParseFloat(parts[1], 64)
	}
	return info, float64(len(pcm)/2) / max(rate, 1)
}

// TestAudioCodecs writes each audio codec with -audio DIR and checks what
// ffprobe and ffmpeg read (codec, rate, channels, the frames' duration)
// and that the file holds the source frames byte for byte.
func TestAudioCodecs(t *testing.T) {
	mediatest.Need(t)
	tests := []struct {
		name  string
		g     kvsgen.Generator
		files map[string]uint64 // file: track
		info  string            // ffprobe's codec_name,sample_rate,channels
		// seconds of one frame
		frame float64
	}{
		{"connect", kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 3},
			map[string]uint64{"AUDIO_FROM_CUSTOMER.wav": 1, "AUDIO_TO_CUSTOMER.wav": 2}, "pcm_s16le,8000,1", 0.02},
		{"chime a-law", kvsgen.Generator{Call: kvsgen.ChimeALaw, Fragments: 3},
			map[string]uint64{"AUDIO.wav": 1}, "pcm_alaw,8000,1", 0.02},
		{"chime µ-law", kvsgen.Generator{Call: kvsgen.ChimeMuLaw, Fragments: 3},
			map[string]uint64{"AUDIO.wav": 1}, "pcm_mulaw,8000,1", 0.02},
		{"aac", kvsgen.Generator{Fragments: 3, FragmentDuration: time.Second, Media: true, Audio: true},
			map[string]uint64{"audio.aac": kvsgen.AudioTrackNumber}, "aac,48000,2", 1024.0 / 48000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in.mkv")
			if err := os.WriteFile(in, tc.g.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if _, stderr, code := dump(t, "-audio", dir, in); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(tc.files) {
				t.Errorf("%d files in DIR, want %d", len(entries), len(tc.files))
			}
			for name, track := range tc.files {
				file := filepath.Join(dir, name)
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				want := trackFrames(tc.g, track, tc.g.Fragments)
				var got [][]byte
				if strings.HasSuffix(name, ".wav") {
					got = [][]byte{wavData(t, b)}
					want = [][]byte{bytes.Join(want, nil)}
				} else {
					got = adtsFrames(t, b)
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d frames, want %d", name, len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("%s: frame %d differs from the source", name, i)
					}
				}
				info, seconds := probe(t, file)
				frames := len(trackFrames(tc.g, track, tc.g.Fragments))
				if info != tc.info || seconds != float64(frames)*tc.frame {
					t.Errorf("%s: ffprobe %q, %v s decoded; want %q, %v s (%d frames)", name, info, seconds, tc.info, float64(frames)*tc.frame, frames)
				}
			}
		})
	}
}

// callStream writes a Connect-like stream of 6 fragments, the contact
// changing at fragment 3 and fragment 1 an in-band error unit without
// the tag, and returns the generator and the file.
func callStream(t *testing.T) (kvsgen.Generator, string) {
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 6, CallChange: 3, GetMedia: true,
		Errors: map[int]kvsgen.ErrorUnit{1: {Code: "FRAGMENT_NOT_FOUND", ID: 4000}}}
	in := filepath.Join(t.TempDir(), "call.mkv")
	if err := os.WriteFile(in, g.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return g, in
}

// TestWhileTag stops at the contact change, from a file, a time range and
// a follow: the customer's WAV holds exactly the first contact's samples
// (an untagged fragment does not stop it), -track keeps one file, and the
// fragment lines end before the change.
func TestWhileTag(t *testing.T) {
	g, in := callStream(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("call", kvstest.StreamConfig{Fragments: 6, Call: kvsgen.ConnectCall, CallChange: 3})
	awstest.EmulatorEnv(t)
	infos := srv.Fragments("call")
	from, to := infos[0].ProducerTimestamp.Time().Format(time.RFC3339Nano), infos[5].ProducerTimestamp.Time().Format(time.RFC3339Nano)
	contact := "ContactId=" + g.CallID(0)
	want := bytes.Join(trackFrames(g, kvsgen.CustomerTrackNumber, 3), nil)
	for _, tc := range []struct {
		name  string
		args  []string
		lines int
	}{
		{"file", []string{in}, 3},
		{"frames", []string{"-frames", in}, 3},
		{"range", []string{"-stream", "call", "-endpoint", srv.URL(), "-start", from, "-end", to}, 3},
		{"follow", []string{"-stream", "call", "-endpoint", srv.URL(), "-follow", "-from", "earliest"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-while-tag", contact, "-track", "AUDIO_FROM_CUSTOMER", "-audio", dir}, tc.args...)
			stdout, stderr, code := dump(t, args...)
			frags, frames := parse(t, stdout)
			if code != 0 || len(frags) != tc.lines || !strings.Contains(stderr, "stopping before it") {
				t.Fatalf("exit %d, %d fragment lines (want %d), stderr %q", code, len(frags), tc.lines, stderr)
			}
			if tc.name == "frames" && frames != 2*100 {
				t.Errorf("%d frame lines, want the customer's 200 of fragments 0 and 2", frames)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != "AUDIO_FROM_CUSTOMER.wav" {
				t.Fatalf("DIR holds %v, want AUDIO_FROM_CUSTOMER.wav alone", entries)
			}
			b, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
			if tc.name == "file" || tc.name == "frames" {
				// The file's fragment 1 is an error unit: 2 fragments of audio.
				want := bytes.Join(append(trackFrames(g, 1, 1), trackFrames(kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 3}, 1, 3)[200:]...), nil)
				if !bytes.Equal(wavData(t, b), want) {
					t.Errorf("the WAV holds %d bytes, not the %d of the first contact's fragments 0 and 2", len(wavData(t, b)), len(want))
				}
				return
			}
			if !bytes.Equal(wavData(t, b), want) {
				t.Errorf("the WAV holds %d bytes, not the %d of the first contact", len(wavData(t, b)), len(want))
			}
		})
	}
}

// TestCallBadInput: an unknown codec, a malformed WAVEFORMATEX, a track
// that does not exist and -while-tag without "=" get a message and exit 1
// or 2, and no file is left empty.
func TestCallBadInput(t *testing.T) {
	write := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "in.mkv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	aac := kvsgen.Generator{Fragments: 2, Audio: true}.Bytes()
	ac3 := write(bytes.ReplaceAll(aac, []byte("A_AAC"), []byte("A_AC3")))
	wfx := []byte{6, 0, 1, 0, 0x40, 0x1f, 0, 0, 0xe8, 3, 0, 0, 1, 0, 0, 0, 0, 0}
	chime := kvsgen.Generator{Call: kvsgen.ChimeALaw, Fragments: 2}.Bytes()
	if !bytes.Contains(chime, wfx) {
		t.Fatal("the Chime stream has no WAVEFORMATEX of the C producer SDK")
	}
	noChannels := write(bytes.ReplaceAll(chime, wfx, append([]byte{6, 0, 0, 0}, wfx[4:]...)))
	_, call := callStream(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown codec", []string{"-audio", "DIR", ac3}, 1, "codec A_AC3, which kvsdump does not write as audio"},
		{"malformed WAVEFORMATEX", []string{"-audio", "DIR", noChannels}, 1, "WAVEFORMATEX of 0 channels"},
		{"no such track", []string{"-track", "AUDIO_TO_NOBODY", "-audio", "DIR", call}, 1, "-track AUDIO_TO_NOBODY: fragment 0 (number"},
		{"no such track number", []string{"-track", "7", "-audio", "DIR", call}, 1, "its tracks are 1 (AUDIO_FROM_CUSTOMER, A_PCM/INT/LIT), 2 (AUDIO_TO_CUSTOMER, A_PCM/INT/LIT)"},
		{"while-tag without =", []string{"-while-tag", "ContactId", call}, 2, "-while-tag \"ContactId\": want NAME=VALUE"},
		{"while-tag without a name", []string{"-while-tag", "=x", call}, 2, "want NAME=VALUE"},
		{"two on standard output", []string{"-audio", "-", "-mkv", "-", call}, 2, "both want standard output"},
		{"no audio track", []string{"-track", "1", "-audio", "DIR"}, 1, ") has no audio track among -track 1; its tracks are 1 (video, V_MPEG4/ISO/AVC), 2 (audio, A_AAC)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			for i, a := range tc.args {
				if a == "DIR" {
					tc.args[i] = dir
				}
			}
			_, stderr, code := dump(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) || strings.Count(stderr, "-audio:") > 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.msg)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if info, _ := e.Info(); info.Size() <= 44 {
					t.Errorf("%s left with %d bytes", e.Name(), info.Size())
				}
			}
		})
	}
}

// TestAudioFollowNoAudio follows a stream without an audio track with
// -audio DIR and -audio -: kvsdump fails at the first fragment, naming its
// tracks, instead of waiting for audio that never comes.
func TestAudioFollowNoAudio(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("video", kvstest.StreamConfig{Fragments: 3})
	for _, out := range []string{filepath.Join(t.TempDir(), "out"), "-"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"-stream", "video", "-endpoint", srv.URL(), "-follow", "-from", "earliest", "-audio", out}, strings.NewReader(""), &stdout, &stderr)
		cancel()
		want := "-audio: fragment 0 (number " + string(numbers[0]) + ") has no audio track; its tracks are 1 (video, V_MPEG4/ISO/AVC)"
		if code != exitInput || !strings.Contains(stderr.String(), want) {
			t.Errorf("-audio %s: exit %d, stderr %q; want exit %d and %q", out, code, stderr.String(), exitInput, want)
		}
	}
}

// TestAudioFileNames gives two tracks that want the same file name (one
// named track2, the other unnamed track 2) two files; a name taken
// already falls back to the track's number.
func TestAudioFileNames(t *testing.T) {
	a := &audioOut{dir: t.TempDir()}
	if err := a.open(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range []mkv.Track{{Number: 1, Name: "track2"}, {Number: 2}, {Number: 3, Name: "track2"}, {Number: 4, Name: "a/b"}, {Number: 5, Name: "a_b"}} {
		got = append(got, a.fileName(&kvs.Track{Track: tr}))
	}
	want := []string{"track2", "track2-2", "track3", "a_b", "track5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("file names %q, want %q", got, want)
	}
}

// audioToFFmpeg runs kvsdump with args, its standard output (a WAV, from
// -audio -) piped into ffmpeg, calls started once kvsdump runs, and
// returns the samples ffmpeg decoded and kvsdump's standard error; it
// fails unless both exit 0.
func audioToFFmpeg(t *testing.T, args []string, started func()) (pcm []byte, stderr string) {
	t.Helper()
	k := exec.Command(binary(t), args...)
	var errOut bytes.Buffer
	k.Stderr = &errOut
	pipe, err := k.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ff := exec.Command("ffmpeg", "-v", "error", "-f", "wav", "-i", "pipe:0", "-f", "s16le", "-")
	ff.Stdin = pipe
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	started()
	pcm, err = ff.Output()
	if kerr := k.Wait(); kerr != nil || err != nil {
		t.Fatalf("kvsdump %v, ffmpeg %v: %s", kerr, err, errOut.String())
	}
	return pcm, errOut.String()
}

// TestAudioLive follows a call stream from the emulator with -audio - into
// ffmpeg, which reads the WAV from the pipe as it arrives; -while-tag ends
// the follow at the contact change, so ffmpeg decodes exactly the first
// contact's samples.
func TestAudioLive(t *testing.T) {
	mediatest.Need(t)
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("call", kvstest.StreamConfig{Fragments: 6, Call: kvsgen.ConnectCall, CallChange: 4})
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, CallChange: 4}
	pcm, stderr := audioToFFmpeg(t, []string{"-stream", "call", "-endpoint", srv.URL(), "-follow", "-from", "earliest",
		"-while-tag", "ContactId=" + g.CallID(0), "-track", "AUDIO_TO_CUSTOMER", "-audio", "-"}, func() {})
	want := bytes.Join(trackFrames(kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 4}, kvsgen.AgentTrackNumber, 4), nil)
	if !bytes.Equal(pcm, want) {
		t.Errorf("ffmpeg decoded %d bytes from the pipe, want the %d of the first contact's 4 fragments (%s)", len(pcm), len(want), stderr)
	}
}

// TestTrackRestricts: -track keeps one track of a call in -mkv and -out,
// which ffprobe reads as one 8 kHz PCM stream.
func TestTrackRestricts(t *testing.T) {
	mediatest.Need(t)
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 2}
	in := filepath.Join(t.TempDir(), "call.mkv")
	if err := os.WriteFile(in, g.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "live.mkv")
	if _, stderr, code := dump(t, "-track", "2", "-mkv", live, "-out", filepath.Join(dir, "out"), in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "*.mkv"))
	if len(files) != 2 {
		t.Fatalf("-out wrote %v, want 2 files", files)
	}
	for _, f := range append(files, live) {
		got := strings.TrimSpace(mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:stream_tags=title", "-of", "csv=p=0", f))
		if got != "pcm_s16le,8000,1,AUDIO_TO_CUSTOMER" {
			t.Errorf("%s: ffprobe %q, want the one track AUDIO_TO_CUSTOMER", f, got)
		}
	}
}

// TestAudioLiveProduced follows a call while a producer puts it with
// PutMedia, four times as fast as real time, with -audio - into ffmpeg:
// the emulator serves the producer's ContactId with each fragment, and
// -while-tag ends the follow at the contact change, so ffmpeg decodes
// exactly the first contact's samples.
func TestAudioLiveProduced(t *testing.T) {
	mediatest.Need(t)
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.CreateStream("live", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 4, CallChange: 2, Start: time.Now()}
	produced := make(chan error, 1)
	pcm, stderr := audioToFFmpeg(t, []string{"-stream", "live", "-endpoint", srv.URL(), "-follow", "-from", "earliest",
		"-while-tag", "ContactId=" + g.CallID(0), "-track", "AUDIO_TO_CUSTOMER", "-audio", "-"}, func() {
		go func() {
			_, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "live", g.Reader(), 4)
			produced <- err
		}()
	})
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	want := bytes.Join(trackFrames(g, kvsgen.AgentTrackNumber, 2), nil)
	if !bytes.Equal(pcm, want) {
		t.Errorf("ffmpeg decoded %d bytes from the pipe, want the %d of the first contact's 2 fragments (%s)", len(pcm), len(want), stderr)
	}
}
