package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

var update = flag.Bool("update", false, "rewrite sample.mkv from the generator")

// sampleConfig is sample.mkv: a GetMedia response of four one-second
// fragments with audio and producer tags, the third an in-band error.
var sampleConfig = kvsgen.Generator{
	Fragments: 4, FragmentDuration: time.Second, FPS: 30, VideoBitrate: 16_000,
	Audio: true, AudioFrameSize: 12, AudioPerBlock: 5, AudioLacing: mkv.XiphLacing,
	GetMedia: true, ProducerTags: true,
	Errors: map[int]kvsgen.ErrorUnit{2: {Code: "FRAGMENT_NOT_FOUND", ID: 4000}},
}

// TestSample keeps sample.mkv equal to the generator's output; -update
// rewrites it.
func TestSample(t *testing.T) {
	want := sampleConfig.Bytes()
	if *update {
		if err := os.WriteFile("sample.mkv", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(sample, want) {
		t.Fatal("sample.mkv differs from the generator's output (go test ./examples/kvsdump -run TestSample -update)")
	}
}

func dump(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// record is what the tests read back of a fragment line.
type record struct {
	Index             int    `json:"index"`
	Offset            int64  `json:"offset"`
	Size              int64  `json:"size"`
	Partial           bool   `json:"partial"`
	FragmentNumber    string `json:"fragmentNumber"`
	ProducerTimestamp string `json:"producerTimestamp"`
	ServerTimestamp   string `json:"serverTimestamp"`
	MillisBehindNow   *int64 `json:"millisBehindNow"`
	ContinuationToken string `json:"continuationToken"`
	Error             *struct {
		Code    string `json:"code"`
		ID      int    `json:"id"`
		Message string `json:"message"`
	} `json:"error"`
	Tags   []recordTag `json:"tags"`
	Tracks []struct {
		Number    uint64 `json:"number"`
		Type      string `json:"type"`
		CodecID   string `json:"codecId"`
		Blocks    int    `json:"blocks"`
		Frames    int    `json:"frames"`
		Keyframes int    `json:"keyframes"`
	} `json:"tracks"`
	// Fields of frame lines.
	Fragment *int `json:"fragment"`
}

type recordTag struct {
	Name   string      `json:"name"`
	Value  *string     `json:"value"`
	Binary []byte      `json:"binary"`
	Tags   []recordTag `json:"tags"`
}

func parse(t *testing.T, out string) (frags []record, frames int) {
	t.Helper()
	s := bufio.NewScanner(strings.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		var r record
		if err := json.Unmarshal(s.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", s.Text(), err)
		}
		if r.Fragment != nil {
			frames++
			continue
		}
		frags = append(frags, r)
	}
	return frags, frames
}

func flatten(ts []recordTag, out []string) []string {
	for _, tg := range ts {
		v := ""
		if tg.Value != nil {
			v = *tg.Value
		}
		out = append(out, tg.Name+"="+v)
		out = flatten(tg.Tags, out)
	}
	return out
}

// TestCorpus runs kvsdump on every real capture and compares its tags and
// per-track counts with mkvinfo's; cut-off captures must exit 1 after
// printing their fragments.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	for _, name := range corpus.Files(t, dir) {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := dump(t, filepath.Join(dir, name))
			frags, _ := parse(t, stdout)
			var got []corpus.Unit
			for _, f := range frags {
				u := corpus.Unit{Tags: flatten(f.Tags, nil), Tracks: map[uint64]corpus.Count{}}
				for _, tr := range f.Tracks {
					if tr.Blocks > 0 { // mkvinfo's summary lists tracks that have blocks
						u.Tracks[tr.Number] = corpus.Count{Blocks: tr.Blocks, Frames: tr.Frames}
					}
				}
				got = append(got, u)
			}
			var err error
			if code != 0 {
				err = &exitError{code, stderr}
			}
			corpus.Check(t, name, corpus.Expected(t, dir, name), got, err, errCutOff)
		})
	}
}

// exitError stands for a kvsdump run that failed; it is a cut-off when
// kvsdump said so on stderr with status 1.
type exitError struct {
	code   int
	stderr string
}

func (e *exitError) Error() string { return e.stderr }

func (e *exitError) Is(target error) bool {
	return target == errCutOff && e.code == 1 && strings.Contains(e.stderr, "cut off")
}

var errCutOff = &exitError{}

// TestSampleOutput checks the default run on the built-in sample: every
// field of the JSON Lines format, the error fragment, and -frames.
func TestSampleOutput(t *testing.T) {
	stdout, stderr, code := dump(t)
	if code != 0 || !strings.Contains(stderr, "sample") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	frags, frames := parse(t, stdout)
	if len(frags) != 4 || frames != 0 {
		t.Fatalf("%d fragments and %d frame lines, want 4 and 0", len(frags), frames)
	}
	f := frags[0]
	if f.Index != 0 || f.Offset != 0 || f.Size == 0 || f.FragmentNumber != (kvsgen.Generator{}).FragmentNumber(0) ||
		f.ProducerTimestamp != "2017-11-28T06:55:08.513Z" || f.ServerTimestamp != "2017-11-28T06:55:09.126Z" ||
		f.MillisBehindNow == nil || *f.MillisBehindNow != 1000 || f.ContinuationToken != (kvsgen.Generator{}).FragmentNumber(0) || f.Error != nil {
		t.Errorf("fragment 0: %+v", f)
	}
	if len(f.Tracks) != 2 || f.Tracks[0].Type != "video" || f.Tracks[0].CodecID != "V_MPEG4/ISO/AVC" ||
		f.Tracks[0].Blocks != 30 || f.Tracks[0].Frames != 30 || f.Tracks[0].Keyframes != 1 ||
		f.Tracks[1].Type != "audio" || f.Tracks[1].Blocks != 10 || f.Tracks[1].Frames != 50 {
		t.Errorf("fragment 0 tracks: %+v", f.Tracks)
	}
	if len(f.Tags) < 2 || f.Tags[0].Name != "CAMERA" || len(f.Tags[0].Tags) != 1 || f.Tags[0].Tags[0].Name != "MODEL" ||
		f.Tags[1].Name != "CALIBRATION" || !bytes.Equal(f.Tags[1].Binary, []byte{0, 1, 2, 0xFF}) || f.Tags[1].Value != nil {
		t.Errorf("fragment 0 tags: %+v", f.Tags)
	}
	if e := frags[2].Error; e == nil || e.Code != "FRAGMENT_NOT_FOUND" || e.ID != 4000 || len(frags[2].Tracks) == 0 {
		t.Errorf("fragment 2: %+v", frags[2])
	}
	if frags[3].Offset != frags[2].Offset+frags[2].Size || frags[3].Index != 3 {
		t.Errorf("fragment 3 does not follow fragment 2: %+v", frags[3])
	}
	if !strings.Contains(stdout, `"binary":"AAEC/w=="`) {
		t.Error("binary tag not base64 in the output")
	}

	stdout, _, code = dump(t, "-frames")
	_, frames = parse(t, stdout)
	if code != 0 || frames != 3*(30+50) {
		t.Errorf("-frames: exit %d, %d frame lines, want %d", code, frames, 3*(30+50))
	}
	stdout, _, code = dump(t, "-table")
	if lines := strings.Count(stdout, "\n"); code != 0 || lines != 5 || !strings.Contains(stdout, "FRAGMENT_NOT_FOUND") {
		t.Errorf("-table: exit %d, %d lines:\n%s", code, lines, stdout)
	}
}

// TestCutOffAndErrors checks exit statuses: a cut-off input prints its good
// fragments and exits 1 with the error on stderr; a missing file exits 1;
// a bad flag exits 2; standard input is read with "-".
func TestCutOffAndErrors(t *testing.T) {
	cut := filepath.Join(t.TempDir(), "cut.mkv")
	if err := os.WriteFile(cut, sample[:len(sample)*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := dump(t, cut)
	frags, _ := parse(t, stdout)
	if code != 1 || !strings.Contains(stderr, "cut off") || len(frags) != 4 || frags[3].Size >= frags[1].Size {
		t.Errorf("cut-off input: exit %d, %d fragments, stderr %q", code, len(frags), stderr)
	}
	if _, _, code := dump(t, filepath.Join(t.TempDir(), "missing.mkv")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	if _, _, code := dump(t, "-nope"); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-"}, bytes.NewReader(sample), &out, &errOut); code != 0 {
		t.Errorf("stdin: exit %d: %s", code, errOut.String())
	}
	if frags, _ := parse(t, out.String()); len(frags) != 4 {
		t.Errorf("stdin: %d fragments", len(frags))
	}
}

// TestEmulate checks the zero-setup path: -emulate starts an emulator,
// lists and fetches its demo stream, and prints its fragments.
func TestEmulate(t *testing.T) {
	stdout, stderr, code := dump(t, "-emulate")
	frags, _ := parse(t, stdout)
	if code != 0 || len(frags) != 12 {
		t.Fatalf("exit %d, %d fragments; stderr %q", code, len(frags), stderr)
	}
	for i, f := range frags {
		if f.Index != i || f.FragmentNumber != (kvsgen.Generator{}).FragmentNumber(i) || f.ProducerTimestamp == "" || len(f.Tracks) != 2 {
			t.Errorf("fragment %d: %+v", i, f)
		}
	}
}

// TestLive reads an emulator's stream the way a user reads KVS: the
// credentials and region from the environment, -endpoint, a time range,
// and -follow with -n.
func TestLive(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", kvstest.StreamConfig{Fragments: 9, FragmentDuration: 500 * time.Millisecond, VideoBitrate: 20_000})
	awstest.EmulatorEnv(t)
	infos := srv.Fragments("cam")

	start := infos[2].ProducerTimestamp.Time().Format(time.RFC3339Nano)
	end := infos[6].ProducerTimestamp.Time().Format(time.RFC3339Nano)
	stdout, stderr, code := dump(t, "-stream", "cam", "-endpoint", srv.URL(), "-start", start, "-end", end)
	frags, _ := parse(t, stdout)
	if code != 0 || len(frags) != 5 || frags[0].FragmentNumber != string(numbers[2]) || frags[4].FragmentNumber != string(numbers[6]) {
		t.Fatalf("range: exit %d, %d fragments, stderr %q", code, len(frags), stderr)
	}

	stdout, stderr, code = dump(t, "-stream", "cam", "-endpoint", srv.URL(), "-follow", "-from", "earliest", "-n", "4")
	frags, _ = parse(t, stdout)
	if code != 0 || len(frags) != 4 || frags[3].FragmentNumber != string(numbers[3]) || frags[3].MillisBehindNow == nil || frags[3].ContinuationToken != string(numbers[3]) {
		t.Fatalf("follow: exit %d, %d fragments, stderr %q", code, len(frags), stderr)
	}

	_, stderr, code = dump(t, "-stream", "nope", "-endpoint", srv.URL(), "-follow")
	if code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("unknown stream: exit %d, stderr %q", code, stderr)
	}
	// A table of a stream not found is no table: no header above the error.
	for _, args := range [][]string{{"-follow"}, {"-start", start, "-end", end}} {
		stdout, stderr, code = dump(t, append([]string{"-stream", "nope", "-endpoint", srv.URL(), "-table"}, args...)...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "ResourceNotFoundException") {
			t.Errorf("-table of an unknown stream %q: exit %d, stdout %q, stderr %q; want exit 1, nothing on standard output", args, code, stdout, stderr)
		}
	}
}

// TestPlayableOutputs runs -out, -merge, -annexb and -keyframes on a
// stream of real H.264 (made by ffmpeg, two fragments) and checks the
// results with mkvinfo, ffprobe and ffmpeg.
func TestPlayableOutputs(t *testing.T) {
	mediatest.Need(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-c:v", "libx264", "-g", "10", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", src)
	audio := mediatest.Frames(t, src, "a:0")
	one, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	stream := filepath.Join(dir, "stream.mkv")
	os.WriteFile(stream, append(append([]byte(nil), one...), one...), 0o644) // two units

	out, merged, es, keys := filepath.Join(dir, "out"), filepath.Join(dir, "merged"), filepath.Join(dir, "es"), filepath.Join(dir, "keys")
	if _, stderr, code := dump(t, "-out", out, "-annexb", es, "-keyframes", keys, stream); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, stderr, code := dump(t, "-out", merged, "-merge", stream); code != 0 {
		t.Fatalf("-merge: exit %d: %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.mkv"))
	mergedFiles, _ := filepath.Glob(filepath.Join(merged, "*.mkv"))
	if len(files) != 2 || len(mergedFiles) != 1 {
		t.Fatalf("%d files with -out, %d with -merge; want 2 and 1", len(files), len(mergedFiles))
	}
	for _, f := range append(files, mergedFiles...) {
		mediatest.StructureOK(t, f)
	}
	if n := mediatest.Frames(t, files[0], "v:0"); n != 20 {
		t.Errorf("%s: %d frames, want 20", files[0], n)
	}
	if n := mediatest.Frames(t, files[0], "a:0"); n != audio {
		t.Errorf("%s: %d audio frames, the source has %d", files[0], n, audio)
	}
	if n := mediatest.Frames(t, mergedFiles[0], "v:0"); n != 40 {
		t.Errorf("merged: %d frames, want 40", n)
	}
	if n := mediatest.Frames(t, mergedFiles[0], "a:0"); n != 2*audio {
		t.Errorf("merged: %d audio frames, want %d", n, 2*audio)
	}
	mediatest.Plays(t, mergedFiles[0])
	if n := mediatest.Frames(t, filepath.Join(es, "track1.h264"), "v:0"); n != 40 {
		t.Errorf("Annex-B stream: %d frames, want 40", n)
	}
	keyFiles, _ := filepath.Glob(filepath.Join(keys, "*.h264"))
	if len(keyFiles) != 4 {
		t.Fatalf("%d keyframe files, want 4", len(keyFiles))
	}
	png := filepath.Join(dir, "key.png")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-i", keyFiles[0], "-frames:v", "1", png)
	if dims := mediatest.Size(t, png); dims != "320,240" {
		t.Errorf("keyframe image is %s, want 320,240", dims)
	}
}

// TestCorpusPlayable writes every uncut real capture with -out and checks
// with ffprobe that each file has the frames mkvinfo counted in its unit,
// per track, and that -merge keeps them all.
func TestCorpusPlayable(t *testing.T) {
	mediatest.Need(t)
	dir := corpus.Dir(t)
	for _, name := range corpus.Files(t, dir) {
		if corpus.CutOff[name] {
			continue
		}
		want := corpus.Expected(t, dir, name)
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			if _, stderr, code := dump(t, "-out", out, filepath.Join(dir, name)); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			stdout, _, _ := dump(t, filepath.Join(dir, name))
			frags, _ := parse(t, stdout)
			total := map[uint64]int{}
			for i, f := range frags {
				if len(want[i].Tracks) == 0 {
					continue // no frames, no file
				}
				file := filepath.Join(out, f.FragmentNumber+".mkv")
				if f.FragmentNumber == "" {
					file = filepath.Join(out, fmt.Sprintf("fragment-%d.mkv", f.Index))
				}
				mediatest.StructureOK(t, file)
				for ti, tr := range f.Tracks {
					if tr.CodecID != "V_MPEG4/ISO/AVC" && tr.CodecID != "A_AAC" {
						continue // test_mixed_tags' MJPEG frames are placeholders no decoder reads
					}
					stream := "v:0"
					if tr.Type == "audio" {
						stream = "a:0"
					}
					if n := mediatest.Frames(t, file, stream); n != want[i].Tracks[tr.Number].Frames {
						t.Errorf("unit %d track %d (%d): %d frames in %s, mkvinfo counts %d", i, tr.Number, ti, n, file, want[i].Tracks[tr.Number].Frames)
					}
					total[tr.Number] += want[i].Tracks[tr.Number].Frames
				}
			}
			merged := t.TempDir()
			if _, stderr, code := dump(t, "-out", merged, "-merge", filepath.Join(dir, name)); code != 0 {
				t.Fatalf("-merge: exit %d: %s", code, stderr)
			}
			if _, ok := total[1]; !ok {
				return // no decodable video to count
			}
			files, _ := filepath.Glob(filepath.Join(merged, "*.mkv"))
			got := 0
			for _, f := range files {
				got += mediatest.Frames(t, f, "v:0")
			}
			if got != total[1] {
				t.Errorf("merged files hold %d video frames, want %d", got, total[1])
			}
		})
	}
}
