package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestMain removes the kvsdump the tests built, and says how many tests
// skipped for a missing tool or corpus.
func TestMain(m *testing.M) {
	code := mediatest.Main(m)
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds kvsdump once, for the tests that run it as a process: to
// send it signals and read its output while it runs.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "kvsdump-test")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "kvsdump")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = errors.New(string(out))
		}
	})
	if built.err != nil {
		t.Fatalf("go build: %v", built.err)
	}
	return built.path
}

// proc is a kvsdump process whose standard output is read line by line
// while it runs. The tests give it no reason to end (it follows a stream,
// or its standard input stays open) until they signal it, so a line read
// before the signal was written while kvsdump was running.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	stdout io.ReadCloser
}

func start(t *testing.T, stdin io.Reader, args ...string) *proc {
	t.Helper()
	// A guard against hanging only: the tests judge what the output says,
	// not how long it took.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	p := &proc{cmd: exec.CommandContext(ctx, binary(t), args...), lines: make(chan string, 1000), stderr: &lockedBuffer{}}
	p.cmd.Stdin, p.cmd.Stderr = stdin, p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(out)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	return p
}

// line returns the next line of output, or false at its end.
func (p *proc) line() (string, bool) {
	l, ok := <-p.lines
	return l, ok
}

// stop signals the process, which must still be running, and returns its
// exit status and the lines it wrote after the signal.
func (p *proc) stop(t *testing.T, sig os.Signal) (code int, rest []string) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("kvsdump ended before it was signalled: %v; stderr %q", err, p.stderr)
	}
	for l := range p.lines {
		rest = append(rest, l)
	}
	return p.wait(t), rest
}

// wait waits for the process, once its output has been read, and returns
// its exit status.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// sampleOffset returns where the sample's fragment i starts.
func sampleOffset(t *testing.T, i int) int {
	t.Helper()
	stdout, _, _ := dump(t)
	frags, _ := parse(t, stdout)
	return int(frags[i].Offset)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}

// TestFollowPrintsAsFragmentsArrive follows an emulator stream whose
// GetMedia bodies trickle in: each fragment's line must come out while
// kvsdump is still running (it follows until interrupted), and SIGTERM
// must end it with status 130, its output whole.
func TestFollowPrintsAsFragmentsArrive(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", kvstest.StreamConfig{Fragments: 4, FragmentDuration: 500 * time.Millisecond, VideoBitrate: 20_000})
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, Chunk: 256, Delay: 5 * time.Millisecond})
	awstest.EmulatorEnv(t)

	p := start(t, nil, "-stream", "cam", "-endpoint", srv.URL(), "-follow", "-from", "earliest")
	for i, want := range numbers {
		l, ok := p.line()
		if !ok {
			t.Fatalf("kvsdump ended after %d lines; stderr %q", i, p.stderr)
		}
		if frags, _ := parse(t, l+"\n"); len(frags) != 1 || frags[0].FragmentNumber != string(want) {
			t.Fatalf("line %d: %q, want fragment %s", i, l, want)
		}
	}
	code, rest := p.stop(t, syscall.SIGTERM)
	if code != exitInterrupted || len(rest) != 0 || p.stderr.String() != "" {
		t.Errorf("after SIGTERM: exit %d, lines %q, stderr %q; want exit %d and nothing more", code, rest, p.stderr, exitInterrupted)
	}
}

// TestPipePrintsAsFragmentsArrive writes two fragments of the sample into
// kvsdump's standard input and keeps it open: their lines must come out
// while kvsdump waits for more, in each output format, and a signal must
// end it with status 130 and nothing printed lost.
func TestPipePrintsAsFragmentsArrive(t *testing.T) {
	two := sampleOffset(t, 2)
	tests := []struct {
		name  string
		args  []string
		lines int
		sig   os.Signal
	}{
		{"json", nil, 2, syscall.SIGTERM},
		{"frames", []string{"-frames"}, 2*80 + 2, os.Interrupt},
		{"table", []string{"-table"}, 1 + 2, os.Interrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			p := start(t, r, append(tt.args, "-")...)
			r.Close()
			if _, err := w.Write(sample[:two]); err != nil {
				t.Fatal(err)
			}
			for i := range tt.lines {
				if _, ok := p.line(); !ok {
					t.Fatalf("kvsdump ended after %d lines; stderr %q", i, p.stderr)
				}
			}
			code, rest := p.stop(t, tt.sig)
			if code != exitInterrupted || len(rest) != 0 || p.stderr.String() != "" {
				t.Errorf("after %v: exit %d, lines %q, stderr %q; want exit %d and nothing more", tt.sig, code, rest, p.stderr, exitInterrupted)
			}
		})
	}
}

// TestClosedStdout closes kvsdump's standard output after its first line,
// as `kvsdump | head -1` does: kvsdump must stop with status 130 and no
// message, not die of SIGPIPE nor print a write error.
func TestClosedStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, r, "-")
	r.Close()
	one := sampleOffset(t, 1)
	if _, err := w.Write(sample[:one]); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.line(); !ok {
		t.Fatalf("kvsdump ended before its first line; stderr %q", p.stderr)
	}
	p.stdout.Close()
	w.Write(sample[one:])
	w.Close()
	if code := p.wait(t); code != exitInterrupted || p.stderr.String() != "" {
		t.Errorf("exit %d, stderr %q; want exit %d and no message", code, p.stderr, exitInterrupted)
	}
}
