package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestFollowFramesWhileProduced follows a stream while a producer puts it
// with PutMedia at its frame rate: kvsdump -follow -frames prints a frame's
// line while its fragment is still being produced, before the emulator
// has received the fragment whole (its RECEIVED ack, which KVS sends when
// the next fragment starts).
func TestFollowFramesWhileProduced(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.CreateStream("cam", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, "-endpoint", srv.URL(), "-stream", "cam", "-follow", "-from", "now", "-frames")

	// One sequence orders the acks and the lines kvsdump prints.
	var seq atomic.Int64
	var mu sync.Mutex
	received := map[string]int64{}
	g := kvsgen.Generator{Fragments: 3, FPS: 10, FragmentDuration: time.Second, Media: true, Start: time.Now()}
	produced := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // let the follow connect; a late one only sees less
		prod := kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: "cam", Speed: 1, OnAck: func(a kvstest.Ack) {
			if a.EventType == kvstest.EventReceived {
				mu.Lock()
				received[string(a.FragmentNumber)] = seq.Add(1)
				mu.Unlock()
			}
		}}
		_, err := prod.Produce(context.Background(), bytes.NewReader(g.Bytes()))
		produced <- err
	}()

	firstFrame := map[int]int64{} // fragment index: the sequence of its first frame line
	var fragments []record
	for len(fragments) < 2 {
		line, ok := p.line()
		if !ok {
			t.Fatalf("kvsdump ended: %s", p.stderr)
		}
		at := seq.Add(1)
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Fragment != nil {
			if _, ok := firstFrame[*r.Fragment]; !ok {
				firstFrame[*r.Fragment] = at
			}
			continue
		}
		fragments = append(fragments, r)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	p.stop(t, syscall.SIGTERM)
	mu.Lock()
	defer mu.Unlock()
	for _, f := range fragments {
		frame, ok := firstFrame[f.Index]
		ack := received[f.FragmentNumber]
		if !ok || ack == 0 || frame > ack {
			t.Errorf("fragment %d (%s): first frame line at %d, RECEIVED ack at %d: want the frame first", f.Index, f.FragmentNumber, frame, ack)
		}
	}
}

// mediaFile writes a generated stream of real H.264 and AAC and returns its
// path and how many video and audio frames it holds.
func mediaFile(t *testing.T) (path string, video, audio int) {
	g := kvsgen.Generator{Fragments: 3, FPS: 15, FragmentDuration: time.Second, Media: true, Audio: true}
	path = filepath.Join(t.TempDir(), "media.mkv")
	if err := os.WriteFile(path, g.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range g.Fragments {
		for _, f := range g.Frames(i) {
			if f.Track == kvsgen.VideoTrackNumber {
				video++
			} else {
				audio++
			}
		}
	}
	return path, video, audio
}

// TestAnnexBToStdout writes the video track to standard output as Annex-B
// (-annexb -), which ffmpeg decodes frame for frame.
func TestAnnexBToStdout(t *testing.T) {
	mediatest.Need(t)
	in, video, _ := mediaFile(t)
	stdout, stderr, code := dump(t, "-annexb", "-", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "video.h264")
	if err := os.WriteFile(out, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mediatest.Frames(t, out, "v:0"); got != video {
		t.Errorf("ffprobe decodes %d frames of the Annex-B output, want %d", got, video)
	}
}

// TestMKVToStdout writes every track as one live Matroska stream to
// standard output (-mkv -), piped into ffprobe, which reads every frame of
// both tracks.
func TestMKVToStdout(t *testing.T) {
	mediatest.Need(t)
	in, video, audio := mediaFile(t)
	k := exec.Command(binary(t), "-mkv", "-", in)
	var stderr bytes.Buffer
	k.Stderr = &stderr
	pipe, err := k.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	probe := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "-i", "pipe:0")
	probe.Stdin = pipe
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	out, err := probe.CombinedOutput()
	if kerr := k.Wait(); kerr != nil || err != nil {
		t.Fatalf("kvsdump %v, ffprobe %v: %s %s", kerr, err, out, stderr.String())
	}
	var v, a int
	if _, err := fmt.Sscan(string(out), &v, &a); err != nil || v != video || a != audio {
		t.Errorf("ffprobe read %q from the pipe, want %d video and %d audio frames", out, video, audio)
	}
}

// TestCheckpointSurvivesKill follows a stream with -checkpoint and kills
// kvsdump with SIGKILL at 5 random moments, restarting it each time: across
// the runs every fragment is printed, in order within a run, and no more
// than one fragment is printed twice per kill (the one in flight).
func TestCheckpointSurvivesKill(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", kvstest.StreamConfig{Fragments: 24, FragmentDuration: 200 * time.Millisecond, FPS: 10, VideoBitrate: 20_000})
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, Chunk: 200, Delay: 3 * time.Millisecond})
	cp := filepath.Join(t.TempDir(), "position.json")
	rng := rand.New(rand.NewPCG(3, 5))
	seen := map[string]int{}
	kills := 0
	for run := 0; len(seen) < len(numbers); run++ {
		p := start(t, nil, "-endpoint", srv.URL(), "-stream", "cam", "-follow", "-from", "earliest", "-checkpoint", cp)
		last, lines := "", 1+rng.IntN(6)
		for kills < 5 && lines > 0 || kills == 5 && len(seen) < len(numbers) {
			line, ok := p.line()
			if !ok {
				t.Fatalf("run %d: kvsdump ended: %s", run, p.stderr)
			}
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if r.FragmentNumber <= last && len(r.FragmentNumber) == len(last) {
				t.Fatalf("run %d: %s after %s", run, r.FragmentNumber, last)
			}
			last = r.FragmentNumber
			seen[r.FragmentNumber]++
			lines--
		}
		if kills < 5 {
			p.cmd.Process.Kill()
			p.wait(t)
			kills++
			continue
		}
		p.stop(t, syscall.SIGTERM)
	}
	twice := 0
	for _, n := range numbers {
		switch c := seen[string(n)]; {
		case c == 0:
			t.Errorf("fragment %s never printed", n)
		case c > 1:
			twice += c - 1
		}
	}
	if twice > kills {
		t.Errorf("%d fragments printed again after %d kills, want at most one per kill", twice, kills)
	}
}
