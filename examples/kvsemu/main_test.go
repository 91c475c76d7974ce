package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// start runs kvsemu on a free port and returns the variables it exports.
func start(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	return exports(t, r)
}

// exports reads the five export lines kvsemu prints, and then discards
// what follows.
func exports(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	for len(env) < 5 && sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(sc.Text(), "export ") {
			t.Fatalf("not an export: %q", sc.Text())
		}
		env[k] = v
	}
	if len(env) < 5 {
		t.Fatalf("kvsemu printed %d exports: %v", len(env), sc.Err())
	}
	go io.Copy(io.Discard, r)
	return env
}

// config is an aws.Config made from kvsemu's exports.
func config(env map[string]string) aws.Config {
	return aws.Config{
		Region:           env["AWS_REGION"],
		Credentials:      credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint:     aws.String(env["AWS_ENDPOINT_URL"]),
		RetryMaxAttempts: 1,
	}
}

// TestServe starts the command and uses it as the exports say: the SDK's
// client, the admin endpoint, and the AWS CLI when installed.
func TestServe(t *testing.T) {
	env := start(t, "-stream", "cam=fragments=3,audio", "-stream", "plain=counting")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if env[k] == "" {
			t.Fatalf("no %s in %v", k, env)
		}
	}
	if !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
		t.Errorf("endpoint %s is not on loopback", env["AWS_ENDPOINT_URL"])
	}
	kv := kinesisvideo.NewFromConfig(config(env))
	ctx := context.Background()
	list, err := kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{})
	if err != nil || len(list.StreamInfoList) != 2 {
		t.Fatalf("ListStreams: %+v, %v", list, err)
	}

	resp, err := http.Post(env["AWS_ENDPOINT_URL"]+"/_kvsemu/fail", "application/json",
		strings.NewReader(`{"API":"DescribeStream","Status":500,"Type":"InternalFailure","Form":"type","Stream":"cam"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin: %v %v", resp, err)
	}
	resp.Body.Close()
	_, err = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" {
		t.Errorf("injected fault: %v", err)
	}
	// The limits are on: the sixth call within a second is refused.
	var refused error
	for range 6 {
		if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("plain")}); err != nil {
			refused = err
		}
	}
	if !errors.As(refused, &api) || api.ErrorCode() != "ClientLimitExceededException" {
		t.Errorf("sixth call in a burst: %v", refused)
	}

	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws not installed (apt-get install awscli)")
	}
	cmd := exec.Command("aws", "kinesisvideo", "describe-stream", "--stream-name", "cam", "--output", "text", "--query", "StreamInfo.Status")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ACTIVE" {
		t.Errorf("aws describe-stream with the exports: %v\n%s", err, out)
	}
}

// TestFlags checks that bad flags are refused before serving.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-stream", "=fragments=2"}, {"-stream", "cam=fragments=x"}, {"-timestamps", "roman"}, {"extra"},
		{"-stream", "cam=/nonexistent/cam.mkv"}, {"-stream", "cam=missing.mkv"},
		{"-produce", "cam"}, {"-produce", "=x.mkv"}, {"-produce", "cam=/nonexistent/cam.mkv@2"},
		{"-data", "/dev/null/x", "-stream", "cam"},
		{"-fleet", "x"}, {"-fleet", "-1"}, {"-fleet", "2,cars"}, {"-fleet", "2,video,tcp"},
	} {
		want := 2
		if args[0] == "-data" {
			want = 1 // a directory that cannot be made is no usage error
		}
		if code := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard); code != want {
			t.Errorf("%q: exit %d, want %d", args, code, want)
		}
	}
}

// TestFleet follows a stream of -fleet in each profile, fed in process and
// through PutMedia: its frames come live, shaped as the profile says, each
// stamped with the wall clock it was written at.
func TestFleet(t *testing.T) {
	tests := []struct {
		profile string
		tracks  int
		sizes   map[int]bool
	}{
		{"video", 1, map[int]bool{videoKeyframe: true, videoFrame: true}},
		{"calls", 2, map[int]bool{callFrame: true}},
		{"video,putmedia", 1, map[int]bool{videoKeyframe: true, videoFrame: true}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			env := start(t, "-fleet", "2,"+tt.profile)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := kvsaws.NewFromConfig(config(env))
			began := time.Now()
			frames, keyframes := 0, 0
			tracks := map[uint64]bool{}
			for ev, err := range client.FollowFrames(ctx, fleetStream(1), kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}) {
				if err != nil {
					t.Fatalf("after %d frames: %v", frames, err)
				}
				if ev.Kind != kvs.FrameEvent {
					continue
				}
				fr := ev.Frame
				if !tt.sizes[len(fr.Data)] {
					t.Fatalf("frame %d of track %d: %d bytes, want one of %v", frames, fr.Track, len(fr.Data), tt.sizes)
				}
				wrote := time.Unix(0, int64(binary.BigEndian.Uint64(fr.Data)))
				if wrote.Before(began.Add(-5*time.Second)) || wrote.After(time.Now()) {
					t.Fatalf("frame %d stamped %v, not between the start of the test (less the 2 s of a fragment served from its start) and now", frames, wrote)
				}
				tracks[fr.Track] = true
				if fr.Keyframe {
					keyframes++
				}
				if frames++; frames == 60 {
					break
				}
			}
			if len(tracks) != tt.tracks || keyframes == 0 {
				t.Errorf("%d frames on tracks %v, %d keyframes; want %d tracks and a keyframe", frames, tracks, keyframes, tt.tracks)
			}
		})
	}
}

// writeMKV writes an MKV file as a camera's recording: H.264 and AAC
// tracks, times from 0, a Cluster at each keyframe, every perCluster
// frames at fps.
func writeMKV(t *testing.T, clusters, perCluster, fps int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cam.mkv")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	w, err := mkv.NewWriter(file, mkv.WriterOptions{Tracks: []mkv.Track{
		{Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: []byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0}, DefaultDuration: time.Second / time.Duration(fps), Width: 160, Height: 96},
		{Number: 2, Type: mkv.AudioTrack, CodecID: "A_AAC", CodecPrivate: []byte{0x11, 0x90}, SamplingRate: 48000, Channels: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range clusters * perCluster {
		at := time.Duration(i) * time.Second / time.Duration(fps)
		data := bytes.Repeat([]byte{byte(i)}, 150+i%40)
		if err := w.WriteFrame(1, at, i%perCluster == 0, data); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(2, at+time.Millisecond, true, data[:30]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// framesPerTrack reads a body or a file with kvs.Reader and lists each
// track's frames: keyframe flag, time and bytes.
func framesPerTrack(t *testing.T, r io.Reader) map[uint64][]string {
	t.Helper()
	out := map[uint64][]string{}
	for f, err := range kvs.NewReader(r).All() {
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range f.Frames {
			out[fr.Track] = append(out[fr.Track], fmt.Sprintf("%v %v %x", fr.Keyframe, fr.Timestamp, fr.Data))
		}
	}
	return out
}

var allTime = kvsaws.Range(kvsaws.ProducerTimestamp, time.Unix(0, 0), time.Now().Add(24*time.Hour))

// TestStreamFromFile loads a stream with -stream cam=FILE: the fragments
// GetMediaForFragmentList serves hold the file's frames, track by track,
// as kvs.Reader reads them from the file.
func TestStreamFromFile(t *testing.T) {
	path := writeMKV(t, 6, 5, 10)
	env := start(t, "-no-limits", "-stream", "cam="+path)
	c := kvsaws.NewFromConfig(config(env))
	ctx := context.Background()
	var numbers []tags.FragmentNumber
	for f, err := range c.ListFragments(ctx, "cam", allTime) {
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, f.FragmentNumber)
	}
	if len(numbers) != 6 {
		t.Fatalf("%d fragments, want one per Cluster: 6", len(numbers))
	}
	out, err := kvsaws.NewHTTPDataPlane(config(env)).GetMediaForFragmentList(ctx, env["AWS_ENDPOINT_URL"],
		&kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: numbers})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	served := framesPerTrack(t, out.Payload)
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	want := framesPerTrack(t, file)
	if len(want[1]) != 30 || len(want[2]) != 30 {
		t.Fatalf("the file reads as %d video and %d audio frames", len(want[1]), len(want[2]))
	}
	if diff := cmp.Diff(want, served); diff != "" {
		t.Errorf("frames per track mismatch (-file +served):\n%s", diff)
	}
}

// process is kvsemu running as a command.
type process struct {
	cmd    *exec.Cmd
	env    map[string]string
	stderr bytes.Buffer
}

// startProcess runs the kvsemu binary on a free port.
func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	p.env = exports(t, stdout)
	return p
}

// TestDataKill9 runs the kvsemu command with -data and -produce, kills it
// with SIGKILL while the file is being ingested, and starts it again on
// the same directory: every fragment ListFragments listed (so
// acknowledged PERSISTED) before the kill is listed and served byte for
// byte as before.
func TestDataKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH, cannot build kvsemu")
	}
	bin := filepath.Join(t.TempDir(), "kvsemu")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	path := writeMKV(t, 40, 5, 10) // 40 fragments of 0.5 s, sent in 10 s
	first := startProcess(t, bin, "-no-limits", "-data", dir, "-produce", "cam="+path+"@2")

	ctx := context.Background()
	unit := func(env map[string]string, n tags.FragmentNumber) []byte {
		t.Helper()
		out, err := kvsaws.NewHTTPDataPlane(config(env)).GetMediaForFragmentList(ctx, env["AWS_ENDPOINT_URL"],
			&kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: []tags.FragmentNumber{n}})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Payload.Close()
		b, err := io.ReadAll(out.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func(env map[string]string) ([]tags.FragmentNumber, error) {
		var numbers []tags.FragmentNumber
		for f, err := range kvsaws.NewFromConfig(config(env)).ListFragments(ctx, "cam", allTime) {
			if err != nil {
				return nil, err
			}
			numbers = append(numbers, f.FragmentNumber)
		}
		return numbers, nil
	}
	seen := map[tags.FragmentNumber][]byte{}
	for deadline := time.Now().Add(20 * time.Second); len(seen) < 5; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d fragments listed in 20 s; kvsemu said:\n%s", len(seen), first.stderr.String())
		}
		numbers, err := list(first.env)
		var nf *kvsaws.APIError
		if errors.As(err, &nf) && nf.Code == kvsaws.CodeResourceNotFound {
			continue // the producer has not created the stream yet
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range numbers {
			if seen[n] == nil {
				seen[n] = unit(first.env, n)
			}
		}
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()

	second := startProcess(t, bin, "-no-limits", "-data", dir)
	numbers, err := list(second.env)
	if err != nil {
		t.Fatal(err)
	}
	if len(numbers) >= 40 {
		t.Errorf("all %d fragments were ingested before the kill", len(numbers))
	}
	listed := map[tags.FragmentNumber]bool{}
	for _, n := range numbers {
		listed[n] = true
	}
	for n, before := range seen {
		if !listed[n] {
			t.Errorf("fragment %s listed before the kill, not after", n)
		} else if after := unit(second.env, n); !bytes.Equal(after, before) {
			t.Errorf("fragment %s: %d bytes served after the restart, %d before, not the same", n, len(after), len(before))
		}
	}
	if err := second.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Errorf("kvsemu after SIGINT: %v\n%s", err, second.stderr.String())
	}
}
