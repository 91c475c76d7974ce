package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// wavData returns the data chunk of a WAV file.
func wavData(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		if id == "data" {
			return b[p+8 : p+8+size]
		}
		p += 8 + size + size&1
	}
	t.Fatalf("%s: no data chunk", path)
	return nil
}

// samples returns the bytes the generator wrote of a track in units
// [from, to).
func samples(g kvsgen.Generator, track uint64, from, to int) []byte {
	var out []byte
	for i := from; i < to; i++ {
		for _, f := range g.Frames(i) {
			if f.Track == track {
				out = append(out, f.Data...)
			}
		}
	}
	return out
}

// TestConnect saves a Connect contact from its StartFragmentNumber: the
// two WAV files hold exactly the contact's samples from that fragment (not
// the one after it) to the contact change, and the stereo file has the
// customer on the left and the agent on the right, sample for sample.
func TestConnect(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("contact", kvstest.StreamConfig{Fragments: 7, Call: kvsgen.ConnectCall, CallChange: 4})
	// The emulator's stream, as the generator writes it.
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 7, CallChange: 4}
	dir := t.TempDir()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-endpoint", srv.URL(), "-stream", "contact", "-fragment", string(numbers[1]), "-contact", g.CallID(1), "-dir", dir}, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the call ended") || len(regexp.MustCompile(`callaudio: fragment \d+ \(`).FindAllString(stderr.String(), -1)) != 3 {
		t.Errorf("progress: %s; want 3 fragments, then the end of the call", stderr.String())
	}
	if want := "callaudio: fragment 0 (number " + string(numbers[1]) + "): "; !strings.Contains(stderr.String(), want) {
		t.Errorf("progress: %s; want the call's first fragment as %q, indexed from 0 as kvsdump does", stderr.String(), want)
	}
	customer := wavData(t, filepath.Join(dir, g.CallID(1)+"-AUDIO_FROM_CUSTOMER.wav"))
	agent := wavData(t, filepath.Join(dir, g.CallID(1)+"-AUDIO_TO_CUSTOMER.wav"))
	if want := samples(g, kvsgen.CustomerTrackNumber, 1, 4); !bytes.Equal(customer, want) {
		t.Errorf("customer: %d bytes, want the %d of fragments 1 to 3", len(customer), len(want))
	}
	if want := samples(g, kvsgen.AgentTrackNumber, 1, 4); !bytes.Equal(agent, want) {
		t.Errorf("agent: %d bytes, want the %d of fragments 1 to 3", len(agent), len(want))
	}
	stereo := wavData(t, filepath.Join(dir, g.CallID(1)+"-stereo.wav"))
	var want []byte
	for i := 0; i+1 < len(customer); i += 2 {
		want = append(want, customer[i], customer[i+1], agent[i], agent[i+1])
	}
	if !bytes.Equal(stereo, want) {
		t.Errorf("stereo: %d bytes, want the %d of the two tracks interleaved", len(stereo), len(want))
	}
	if haveFFprobe() {
		got := strings.TrimSpace(mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:format=duration", "-of", "csv=p=0", filepath.Join(dir, g.CallID(1)+"-stereo.wav")))
		if got != "pcm_s16le,8000,2\n6.000000" {
			t.Errorf("ffprobe of the stereo file: %q, want pcm_s16le 8000 Hz stereo of 6 s", got)
		}
	}
}

// TestChime saves a Chime Voice Connector call leg by its TransactionId:
// a G.711 A-law WAV of the call's samples, no stereo file.
func TestChime(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("leg", kvstest.StreamConfig{Fragments: 5, Call: kvsgen.ChimeALaw, CallChange: 3})
	g := kvsgen.Generator{Call: kvsgen.ChimeALaw, Fragments: 5, CallChange: 3}
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-endpoint", srv.URL(), "-stream", "leg", "-fragment", string(numbers[0]), "-transaction", g.CallID(0), "-dir", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || files[0].Name() != g.CallID(0)+"-AUDIO.wav" {
		t.Fatalf("files %v, want %s-AUDIO.wav alone", files, g.CallID(0))
	}
	if got, want := wavData(t, filepath.Join(dir, files[0].Name())), samples(g, kvsgen.CallTrackNumber, 0, 3); !bytes.Equal(got, want) {
		t.Errorf("%d bytes, want the %d of fragments 0 to 2", len(got), len(want))
	}
	if haveFFprobe() {
		got := strings.TrimSpace(mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", filepath.Join(dir, files[0].Name())))
		if got != "pcm_alaw,8000,1" {
			t.Errorf("ffprobe: %q, want pcm_alaw 8000 Hz mono", got)
		}
	}
}

// TestWrongCall fails when the call's first fragment carries another
// ContactId than -contact: nothing is written, and the message names the
// value found.
func TestWrongCall(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("contact", kvstest.StreamConfig{Fragments: 4, Call: kvsgen.ConnectCall, CallChange: 2})
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 4, CallChange: 2}
	dir := t.TempDir()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-endpoint", srv.URL(), "-stream", "contact", "-fragment", string(numbers[0]), "-contact", "nope", "-dir", dir}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "ContactId "+g.CallID(0)+", not nope") {
		t.Errorf("exit %d, %s; want exit 1 naming ContactId %s", code, stderr.String(), g.CallID(0))
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("files %v, want none", files)
	}
}

// TestArgs refuses a command line without what it needs.
func TestArgs(t *testing.T) {
	for _, args := range [][]string{
		{"-stream", "s"},
		{"-fragment", "1"},
		{"-stream", "s", "-fragment", "x1"},
		{"-stream", "s", "-fragment", "1", "-contact", "a", "-transaction", "b"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &stderr); code != 2 || !strings.HasPrefix(stderr.String(), "callaudio: ") {
			t.Errorf("%q: exit %d, %q; want exit 2 and a message", args, code, stderr.String())
		}
	}
}

func haveFFprobe() bool {
	_, err := exec.LookPath("ffprobe")
	return err == nil
}

// TestStereoGaps places frames by their timestamps: a channel's missing
// frame is silence, a channel that starts late starts with silence, and
// the shorter channel ends in silence.
func TestStereoGaps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "stereo.wav")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audio.NewWriter(f, &mkv.Track{CodecID: audio.CodecPCMLittle, SamplingRate: 1000, Channels: 2, BitDepth: 16})
	if err != nil {
		t.Fatal(err)
	}
	s := &stereo{file: f, w: w, rate: 1000}
	frame := func(v int16) []byte { // 10 ms at 1 kHz: 10 samples of v
		var b []byte
		for range 10 {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
		return b
	}
	base := 5 * time.Second
	ms := time.Millisecond
	for _, e := range []struct {
		ch int
		at time.Duration
		v  int16
	}{
		{0, 0, 1}, {0, 10 * ms, 2}, {1, 10 * ms, 7}, {0, 30 * ms, 4}, {1, 20 * ms, 8}, {1, 30 * ms, 9},
	} {
		if err := s.add(e.ch, base+e.at, frame(e.v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	got := wavData(t, file)
	var want []byte
	for _, lr := range [][2]int16{{1, 0}, {2, 7}, {0, 8}, {4, 9}} {
		for range 10 {
			want = binary.LittleEndian.AppendUint16(want, uint16(lr[0]))
			want = binary.LittleEndian.AppendUint16(want, uint16(lr[1]))
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stereo samples:\n got % x\nwant % x", got, want)
	}
}
