package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// TestParseFeed checks -produce's NAME=FILE[@SPEED][,loop], and that a
// SPEED that is not one says what it may be.
func TestParseFeed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cam.mkv")
	at := filepath.Join(dir, "cam@home.mkv")
	for _, p := range []string{file, at} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, value string
		want        feed
		err         string
	}{
		{"plain", "cam=" + file, feed{name: "cam", path: file, speed: 1}, ""},
		{"speed", "cam=" + file + "@2.5", feed{name: "cam", path: file, speed: 2.5}, ""},
		{"loop", "cam=" + file + ",loop", feed{name: "cam", path: file, speed: 1, loop: true}, ""},
		{"speed and loop", "cam=" + file + "@4,loop", feed{name: "cam", path: file, speed: 4, loop: true}, ""},
		{"an @ in the name", "cam=" + at, feed{name: "cam", path: at, speed: 1}, ""},
		{"a word for SPEED", "cam=" + file + "@fast", feed{}, `SPEED "fast": SPEED is a number: 1 plays the file in real time (the default), 2 twice as fast, 0.5 at half speed, 0 as fast as it can`},
		{"a negative SPEED", "cam=" + file + "@-1", feed{}, `SPEED "-1": SPEED is a number`},
		{"a loop as fast as it can", "cam=" + file + "@0,loop", feed{}, "a loop needs a SPEED above 0"},
		{"no such file", "cam=" + filepath.Join(dir, "none.mkv") + "@2", feed{}, "no such file or directory"},
		{"no file", "cam", feed{}, "want NAME=FILE[@SPEED][,loop]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFeed(tt.value)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("parseFeed(%q): %v", tt.value, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("parseFeed(%q): error %v, want one containing %q", tt.value, err, tt.err)
			case got != tt.want:
				t.Errorf("parseFeed(%q) = %+v, want %+v", tt.value, got, tt.want)
			}
		})
	}
}

// TestEnvFile checks -env: the file holds the export lines once kvsemu
// serves, a stale one is removed at start, and it is removed at exit.
func TestEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kvsemu.env")
	if err := os.WriteFile(path, []byte("export AWS_ENDPOINT_URL=http://stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-env", path}, w, io.Discard)
		w.Close()
	}()
	env := exports(t, r) // printed once serving, after the file was written
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "export AWS_ENDPOINT_URL="+env["AWS_ENDPOINT_URL"]+"\n") || strings.Count(string(b), "export ") != 5 {
		t.Errorf("-env file:\n%s\nwant the five exports of %s", b, env["AWS_ENDPOINT_URL"])
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("-env file after exit: %v, want it removed", err)
	}
}

// TestStartPatternFailsFast runs the README's start pattern with a start
// that fails (a missing file, a port in use): the wait ends, kvsemu's exit
// status is not 0, its message says why, and no env file is written. The
// deadline only keeps a hang from stalling the run.
func TestStartPatternFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH, cannot build kvsemu")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kvsemu")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name, args, want string
	}{
		{"missing file", "-stream door=./door.mkv", "kvsemu: -stream door=./door.mkv: stat ./door.mkv: no such file or directory"},
		{"port in use", "-addr " + busy.Addr().String(), "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := filepath.Join(t.TempDir(), "kvsemu.env")
			// The README's lines, then the exit status of kvsemu.
			script := bin + " " + tt.args + " -env " + env + " &\n" +
				"until [ -s " + env + " ] || ! kill -0 $! 2>/dev/null; do sleep 0.1; done\n" +
				"wait $!\n"
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, sh, "-c", script).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the wait did not end: %s", out)
			}
			if code := exitCode(err); code == 0 || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, output %q; want a non-zero exit and %q", code, out, tt.want)
			}
			if _, err := os.Stat(env); !os.IsNotExist(err) {
				t.Errorf("env file after a failed start: %v, want none", err)
			}
		})
	}
}

func exitCode(err error) int {
	if e, ok := err.(*exec.ExitError); ok {
		return e.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestGeneratedStreamEndsNow checks that a generated stream without
// start= ends when kvsemu started, so that a range of the last hour (the
// default of kvsdump -stream) holds all of it.
func TestGeneratedStreamEndsNow(t *testing.T) {
	before := time.Now()
	env := start(t, "-stream", "demo=fragments=5,counting")
	var n int
	hour := kvsaws.Range(kvsaws.ProducerTimestamp, time.Now().Add(-time.Hour), time.Now())
	for f, err := range kvsaws.NewFromConfig(config(env)).ListFragments(context.Background(), "demo", hour) {
		if err != nil {
			t.Fatal(err)
		}
		if at := f.ProducerTimestamp.Time(); at.Before(before.Add(-11*time.Second)) || at.After(time.Now()) {
			t.Errorf("fragment %s at %v, not in the 10 s before kvsemu started at %v", f.FragmentNumber, at, before)
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d fragments in the last hour, want 5", n)
	}
}

// TestLoop feeds a file in a loop and follows the stream: the fragments
// keep coming after the file's end, and their producer timestamps go on
// from pass to pass by one fragment's length, as within a pass.
func TestLoop(t *testing.T) {
	path := writeMKV(t, 3, 5, 10) // 3 fragments of 0.5 s
	env := start(t, "-no-limits", "-produce", "cam="+path+"@5,loop")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := kvsaws.NewFromConfig(config(env))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		_, err := client.DataEndpoint(ctx, "cam", kvsaws.APIGetMedia)
		if err == nil {
			break
		}
		if !errors.Is(err, kvsaws.ErrResourceNotFound) || time.Now().After(deadline) {
			t.Fatal(err) // not the producer yet to create the stream
		}
	}
	var times []time.Time
	sel := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	for f, err := range client.Follow(ctx, "cam", sel) {
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, f.ProducerTimestamp.Time())
		if len(times) == 8 {
			break
		}
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d != 500*time.Millisecond {
			t.Errorf("fragment %d is %v after fragment %d, want 500ms (timestamps %v)", i, d, i-1, times)
		}
	}
}
