package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// streamRecord is a line of several streams: a fragment's or a frame's,
// with its stream.
type streamRecord struct {
	Stream string `json:"stream"`
	record
}

// streamLines parses lines of several streams: each must be a whole JSON
// object that names its stream.
func streamLines(t *testing.T, lines []string) []streamRecord {
	t.Helper()
	var out []streamRecord
	for _, l := range lines {
		var r streamRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if r.Stream == "" {
			t.Fatalf("line %q names no stream", l)
		}
		out = append(out, r)
	}
	return out
}

// checkStreams checks lines of several streams against the fragments each
// stream holds: every fragment once and in order and, with frames, each
// frame line before its fragment's line, as many as its tracks count.
func checkStreams(t *testing.T, recs []streamRecord, want map[string][]string, withFrames bool) {
	t.Helper()
	got := map[string][]string{}
	frames := map[string]int{} // stream: frame lines since its last fragment line
	for _, r := range recs {
		if r.Fragment != nil {
			if *r.Fragment != len(got[r.Stream]) {
				t.Errorf("%s: a frame line of fragment %d after %d fragment lines", r.Stream, *r.Fragment, len(got[r.Stream]))
			}
			frames[r.Stream]++
			continue
		}
		n := 0
		for _, tr := range r.Tracks {
			n += tr.Frames
		}
		if withFrames && frames[r.Stream] != n {
			t.Errorf("%s: fragment %d has %d frames, %d frame lines came before it", r.Stream, r.Index, n, frames[r.Stream])
		}
		frames[r.Stream] = 0
		got[r.Stream] = append(got[r.Stream], r.FragmentNumber)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fragments by stream mismatch (-want +got):\n%s", diff)
	}
}

func TestParseStreams(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"one a line", "cam-1\ncam-2\n", []string{"cam-1", "cam-2"}},
		{"no final newline", "cam-1\ncam-2", []string{"cam-1", "cam-2"}},
		{"blank lines and comments", "# site A\n\ncam-1\n  \n#cam-2\n  cam-3  \r\n", []string{"cam-1", "cam-3"}},
		{"ARN", "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1234567890123\n",
			[]string{"arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1234567890123"}},
		{"nothing", "# none\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseStreams(tt.text)); diff != "" {
				t.Errorf("parseStreams mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSeveralUsage checks the command lines several streams refuse.
func TestSeveralUsage(t *testing.T) {
	awstest.EmulatorEnv(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "streams")
	if err := os.WriteFile(list, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# nothing yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	twice := filepath.Join(dir, "twice")
	if err := os.WriteFile(twice, []byte("a\nb\na\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"table", []string{"-stream", "a,b", "-table"}, exitUsage, "-table takes one stream"},
		{"table from a file", []string{"-streams", list, "-follow", "-table"}, exitUsage, "-table takes one stream"},
		{"annexb stdout", []string{"-stream", "a,b", "-follow", "-annexb", "-"}, exitUsage, "-annexb takes one stream"},
		{"annexb folder", []string{"-streams", list, "-annexb", dir}, exitUsage, "-annexb takes one stream"},
		{"mkv stdout", []string{"-stream", "a,b", "-follow", "-mkv", "-"}, exitUsage, "-mkv takes one stream"},
		{"out", []string{"-stream", "a,b", "-out", dir}, exitUsage, "-out takes one stream"},
		{"keyframes", []string{"-stream", "a,b", "-keyframes", dir}, exitUsage, "-keyframes takes one stream"},
		{"audio", []string{"-stream", "a,b", "-follow", "-audio", dir}, exitUsage, "-audio takes one stream"},
		{"track", []string{"-stream", "a,b", "-follow", "-track", "1"}, exitUsage, "-track takes one stream"},
		{"while-tag", []string{"-streams", list, "-follow", "-while-tag", "ContactId=x"}, exitUsage, "-while-tag takes one stream, not the several of -stream a,b,c or -streams FILE"},
		{"emulate", []string{"-streams", list, "-emulate"}, exitUsage, "-streams goes with KVS reads (not FILE or -emulate), not with -emulate"},
		{"emulate and a list", []string{"-stream", "a,b", "-emulate"}, exitUsage, "-stream and -emulate are two sources"},
		{"both lists", []string{"-stream", "a", "-streams", list}, exitUsage, "-stream and -streams both name streams"},
		{"a file too", []string{"-streams", list, "x.mkv"}, exitUsage, "not from FILE x.mkv"},
		{"checkpoint without follow", []string{"-stream", "a,b", "-checkpoint", filepath.Join(dir, "cp")}, exitUsage, "-checkpoint goes with -stream -follow"},
		{"start with follow", []string{"-streams", list, "-follow", "-start", "2024-01-01T00:00:00Z"}, exitUsage, "-start goes with a time range"},
		{"empty name", []string{"-stream", "a,,b", "-follow"}, exitUsage, "an empty name"},
		{"named twice", []string{"-stream", "a,b,a", "-follow"}, exitUsage, "stream a is named twice"},
		{"named twice in a file", []string{"-streams", twice, "-follow"}, exitUsage, "stream a is named twice"},
		{"empty file", []string{"-streams", empty, "-follow"}, exitUsage, "names no stream"},
		{"no file", []string{"-streams", filepath.Join(dir, "none"), "-follow"}, exitInput, "no such file"},
		{"bad from", []string{"-streams", list, "-follow", "-from", "soon"}, exitUsage, `-from "soon"`},
		{"bad start", []string{"-streams", list, "-start", "today"}, exitUsage, `-start "today"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q: want exit %d and %q", code, stderr, stdout, tt.code, tt.msg)
			}
		})
	}
}

// addStreams adds streams of generated fragments to srv and returns the
// fragment numbers of each.
func addStreams(srv *kvstest.Server, fragments map[string]int) map[string][]string {
	want := map[string][]string{}
	for name, n := range fragments {
		for _, num := range srv.AddStream(name, kvstest.StreamConfig{Fragments: n, FragmentDuration: 500 * time.Millisecond, FPS: 10, VideoBitrate: 20_000, Audio: true}) {
			want[name] = append(want[name], string(num))
		}
	}
	return want
}

// TestSeveralRanges reads the time range of three streams at once, with a
// frame line per frame, and a stream that is not there: every line is
// whole and names its stream, every fragment of each stream comes once,
// and the missing stream is named on standard error without stopping the
// others.
func TestSeveralRanges(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	want := addStreams(srv, map[string]int{"cam-a": 7, "cam-b": 5, "cam-c": 9})
	html := filepath.Join(t.TempDir(), "report.html")
	args := []string{"-endpoint", srv.URL(), "-start", "2017-11-28T00:00:00Z", "-end", "2017-11-29T00:00:00Z", "-frames", "-html", html}

	stdout, stderr, code := dump(t, append(args, "-stream", "cam-a,cam-b,cam-c")...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	checkStreams(t, streamLines(t, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")), want, true)
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for name, numbers := range want {
		if svg := fmt.Sprintf(`data-stream="%s" data-fragments="%d"`, name, len(numbers)); !bytes.Contains(page, []byte(svg)) {
			t.Errorf("-html: no timeline %s", svg)
		}
	}

	stdout, stderr, code = dump(t, append(args, "-stream", "cam-a,nope,cam-c")...)
	delete(want, "cam-b")
	checkStreams(t, streamLines(t, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")), want, true)
	if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); code != exitInput || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "kvsdump: stream nope: ") || !strings.Contains(lines[0], "ResourceNotFoundException") {
		t.Errorf("a missing stream: exit %d, stderr %q: want 1 and one line naming it", code, stderr)
	}
}

// TestSeveralFollowsWhileProduced follows three streams while producers
// put them live with PutMedia, and a stream that is not there: every
// fragment of each produced stream is printed once, with its frames, on
// whole lines naming their stream; the missing stream is named once on
// standard error; SIGTERM ends the follows, and the exit status says a
// stream failed.
func TestSeveralFollowsWhileProduced(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	names := []string{"cam-a", "cam-b", "cam-c"}
	for _, n := range names {
		if err := srv.CreateStream(n, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	list := filepath.Join(t.TempDir(), "streams")
	if err := os.WriteFile(list, []byte("# the site's cameras\ncam-a\nnope\n\ncam-b\ncam-c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, "-endpoint", srv.URL(), "-streams", list, "-follow", "-from", "earliest", "-frames")

	want := map[string][]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for i, n := range names {
		g := kvsgen.Generator{Fragments: 3 + i, FPS: 10, FragmentDuration: 500 * time.Millisecond, Start: time.Now()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			prod := kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: n, Speed: 2}
			acks, err := prod.Produce(context.Background(), bytes.NewReader(g.Bytes()))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Errorf("%s: %w", n, err))
			}
			for _, a := range acks {
				if a.EventType == kvstest.EventPersisted {
					want[n] = append(want[n], string(a.FragmentNumber))
				}
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	total := 0
	for _, ns := range want {
		total += len(ns)
	}
	var lines []string
	for fragments := 0; fragments < total; {
		line, ok := p.line()
		if !ok {
			t.Fatalf("kvsdump ended: %s", p.stderr)
		}
		lines = append(lines, line)
		if !strings.Contains(line, `"fragment":`) {
			fragments++
		}
	}
	code, rest := p.stop(t, syscall.SIGTERM)
	checkStreams(t, streamLines(t, append(lines, rest...)), want, true)
	if stderr := p.stderr.String(); code != exitInput || strings.Count(stderr, "kvsdump: stream nope: ") != 1 || strings.Contains(stderr, "stream cam-") {
		t.Errorf("exit %d, stderr %q: want 1 and one line naming nope", code, stderr)
	}
}

// TestSeveralInterrupted follows two streams to their ends and is
// interrupted: exit 130 when no stream failed.
func TestSeveralInterrupted(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	want := addStreams(srv, map[string]int{"cam-a": 3, "cam-b": 4})
	p := start(t, nil, "-endpoint", srv.URL(), "-stream", "cam-a,cam-b", "-follow", "-from", "earliest")
	var lines []string
	for len(lines) < 7 {
		line, ok := p.line()
		if !ok {
			t.Fatalf("kvsdump ended: %s", p.stderr)
		}
		lines = append(lines, line)
	}
	code, rest := p.stop(t, syscall.SIGINT)
	checkStreams(t, streamLines(t, append(lines, rest...)), want, false)
	if code != exitInterrupted || p.stderr.String() != "" {
		t.Errorf("exit %d, stderr %q: want 130 and nothing", code, p.stderr)
	}
}

// TestSeveralCheckpoint follows two streams with one -checkpoint file,
// twice, each run stopping after three fragments of each stream (-n): the
// second run goes on where the first left each stream, with no fragment
// skipped and at most the one in flight (the third, not saved) again.
func TestSeveralCheckpoint(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	all := addStreams(srv, map[string]int{"cam-a": 8, "cam-b": 8})
	cp := filepath.Join(t.TempDir(), "positions.json")
	args := []string{"-endpoint", srv.URL(), "-stream", "cam-a,cam-b", "-follow", "-from", "earliest", "-checkpoint", cp, "-n", "3"}
	byStream := func(stdout string) map[string][]string {
		got := map[string][]string{}
		for _, r := range streamLines(t, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")) {
			got[r.Stream] = append(got[r.Stream], r.FragmentNumber)
		}
		return got
	}
	stdout, stderr, code := dump(t, args...)
	if code != exitOK {
		t.Fatalf("first run: exit %d, stderr %q", code, stderr)
	}
	first := byStream(stdout)
	var saved map[string]struct {
		FragmentNumber string `json:"fragmentNumber"`
	}
	data, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	stdout, stderr, code = dump(t, args...)
	if code != exitOK {
		t.Fatalf("second run: exit %d, stderr %q", code, stderr)
	}
	second := byStream(stdout)
	for name, numbers := range all {
		if diff := cmp.Diff(numbers[:3], first[name]); diff != "" {
			t.Errorf("%s: first run mismatch (-want +got):\n%s", name, diff)
		}
		if saved[name].FragmentNumber != numbers[1] && saved[name].FragmentNumber != numbers[2] {
			t.Errorf("%s: checkpoint at %s, want the second or third fragment", name, saved[name].FragmentNumber)
		}
		from := 3
		if saved[name].FragmentNumber == numbers[1] {
			from = 2
		}
		if diff := cmp.Diff(numbers[from:from+3], second[name]); diff != "" {
			t.Errorf("%s: second run mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// TestFleetProgressLine checks the progress line of several streams: sums,
// failed streams, and the stream furthest behind.
func TestFleetProgressLine(t *testing.T) {
	// at is the line elapsed after the start, the last fragment just come.
	at := func(p *progress, elapsed time.Duration) string {
		p.start = p.last.Add(-elapsed)
		return p.line(p.last)
	}
	p := newProgress(io.Discard)
	p.streams = 3
	frag := func(size, behind int64) *kvs.Fragment {
		return &kvs.Fragment{Size: size, MillisBehindNow: behind, HasMillisBehindNow: behind >= 0}
	}
	p.fragment("cam-a", frag(1_000_000, 200))
	p.fragment("cam-b", frag(2_000_000, 1500))
	p.fragment("cam-c", frag(3_000_000, 900))
	p.fragment("cam-b", frag(1_000_000, 700))
	if got, want := at(p, 10*time.Second), "3 streams, 4 fragments, 7.0 MB, 0.70 MB/s, slowest cam-c 0h00m00.9s behind now"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.fail("cam-c")
	p.fragment("cam-a", frag(1_000_000, -1))
	if got, want := at(p, 4*time.Second), "3 streams (1 failed), 5 fragments, 8.0 MB, 2.00 MB/s, slowest cam-b 0h00m00.7s behind now"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.fragment("cam-a", frag(0, 700))
	if name, lag, _ := p.slowest(); name != "cam-a" || lag != 700 {
		t.Errorf("slowest of two 700ms behind = %s %d, want the first by name", name, lag)
	}
	q := newProgress(io.Discard)
	q.streams = 2
	q.fragment("x", frag(500_000, -1))
	if got, want := at(q, time.Second), "2 streams, 1 fragments, 0.5 MB, 0.50 MB/s"; got != want {
		t.Errorf("line with no lag = %q, want %q", got, want)
	}
}

// TestTaggedLinesWhole writes lines of many streams from many goroutines
// through one fleet: every line is whole, and each stream's come in its
// order.
func TestTaggedLinesWhole(t *testing.T) {
	var out bytes.Buffer
	names := make([]string, 16)
	for i := range names {
		names[i] = fmt.Sprintf("cam-%02d", i)
	}
	c := &config{frames: true}
	f := newFleet(c, names, &out, &bytes.Buffer{}, func() {})
	g := kvsgen.Generator{Fragments: 4, FPS: 30, FragmentDuration: time.Second, GetMedia: true}
	stream := g.Bytes()
	var wg sync.WaitGroup
	for _, s := range f.streams {
		s.events = kvs.NewReader(bytes.NewReader(stream), kvs.WithoutFrameData()).Events()
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.read(context.Background(), s)
		}()
	}
	wg.Wait()
	f.out.flush()
	s := bufio.NewScanner(&out)
	var recs []streamRecord
	for s.Scan() {
		var r streamRecord
		if err := json.Unmarshal(s.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", s.Text(), err)
		}
		recs = append(recs, r)
	}
	want := map[string][]string{}
	for _, n := range names {
		for i := range g.Fragments {
			want[n] = append(want[n], g.FragmentNumber(i))
		}
	}
	checkStreams(t, recs, want, true)
}

// TestSeveralOneFailing follows two streams, one of which serves a
// fragment corrupt every time: the follow of that stream gives up on it
// and is named on standard error, while the other stream is printed to
// its end; the exit status after SIGTERM says a stream failed.
func TestSeveralOneFailing(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	want := addStreams(srv, map[string]int{"cam-a": 6, "cam-b": 6})
	// Fragment 3's Cluster ID made invalid, each time it is served.
	bad := tags.FragmentNumber(want["cam-b"][3])
	srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, Scope: kvstest.Scope{API: kvstest.GetMedia, Stream: "cam-b", Fragment: bad},
		At: awstest.ClusterOffset(t, srv.Config(), srv.URL(), "cam-b", tags.FragmentNumber(want["cam-b"][2])), EveryTime: true})
	p := start(t, nil, "-endpoint", srv.URL(), "-stream", "cam-a,cam-b", "-follow", "-from", "earliest")
	var lines []string
	for len(lines) < 6+3 {
		line, ok := p.line()
		if !ok {
			t.Fatalf("kvsdump ended: %s", p.stderr)
		}
		lines = append(lines, line)
	}
	// A guard against hanging only: the follow gives up after its
	// MaxFailures sessions, which wait ever longer.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p.stderr.String(), "kvsdump: stream cam-b: "); {
		if time.Now().After(deadline) {
			t.Fatalf("no message of cam-b failing: stderr %q", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, rest := p.stop(t, syscall.SIGTERM)
	want["cam-b"] = want["cam-b"][:3]
	checkStreams(t, streamLines(t, append(lines, rest...)), want, false)
	stderr := p.stderr.String()
	if code != exitInput || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "fragment "+string(bad)+" fails at offset") {
		t.Errorf("exit %d, stderr %q: want 1 and one line naming cam-b and its fragment", code, stderr)
	}
}

// TestSeveralClosedStdout closes standard output while two follows print,
// as `kvsdump -stream a,b -follow | head -1` does: every follow stops, with
// status 130 and no message.
func TestSeveralClosedStdout(t *testing.T) {
	awstest.EmulatorEnv(t)
	srv := kvstest.NewServer()
	defer srv.Close()
	addStreams(srv, map[string]int{"cam-a": 40, "cam-b": 40}) // more lines than a pipe holds
	p := start(t, nil, "-endpoint", srv.URL(), "-stream", "cam-a,cam-b", "-follow", "-from", "earliest", "-frames")
	if _, ok := p.line(); !ok {
		t.Fatalf("kvsdump ended before its first line; stderr %q", p.stderr)
	}
	p.stdout.Close()
	if code := p.wait(t); code != exitInterrupted || p.stderr.String() != "" {
		t.Errorf("exit %d, stderr %q; want exit %d and no message", code, p.stderr, exitInterrupted)
	}
}
