// Package mediatest runs the media tools that check kvsmkv's playable
// output (ffmpeg, ffprobe, mkvinfo) from tests, which skip when the tools
// are not installed.
//
// A skip for something missing on the machine is counted (Skip), and Main,
// called from a package's TestMain, ends the run with one line that says how
// many tests did not run and how to get them to:
//
//	kvsdump: 3 tests skipped: ffmpeg/ffprobe/mkvinfo not found (apt-get install ffmpeg mkvtoolnix)
//
// go test hides a passing package's output unless -v, so the line goes to
// the terminal (/dev/tty) when there is one, and to standard output when
// there is none (go test -v, go test -json, a CI log).
package mediatest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// skips counts the tests skipped for what a machine lacks, by reason.
var skips struct {
	sync.Mutex
	n map[string]int
}

// Skip skips the test because the machine lacks something (missing, such
// as "ffmpeg"), saying how to get it (fix, such as "apt-get install
// ffmpeg"), and counts it for Main's summary.
func Skip(tb testing.TB, missing, fix string) {
	tb.Helper()
	reason := fmt.Sprintf("%s not found (%s)", missing, fix)
	skips.Lock()
	if skips.n == nil {
		skips.n = map[string]int{}
	}
	skips.n[reason]++
	skips.Unlock()
	tb.Skip(reason)
}

// Main runs a package's tests, prints how many were skipped for a missing
// tool or corpus, and returns the exit status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(mediatest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if line := Summary(); line != "" {
		var w io.Writer = os.Stdout
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			w = tty
		}
		wd, _ := os.Getwd()
		fmt.Fprintf(w, "%s: %s\n", filepath.Base(wd), line)
	}
	return code
}

// Summary returns "N tests skipped: REASON; M: REASON", or "" when no test
// was skipped with Skip.
func Summary() string {
	skips.Lock()
	defer skips.Unlock()
	total := 0
	var reasons []string
	for reason, n := range skips.n {
		total += n
		reasons = append(reasons, reason)
	}
	if total == 0 {
		return ""
	}
	slices.Sort(reasons)
	if len(reasons) == 1 {
		return fmt.Sprintf("%d %s skipped: %s", total, plural(total, "test"), reasons[0])
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d: %s", skips.n[r], r)
	}
	return fmt.Sprintf("%d tests skipped: %s", total, strings.Join(parts, "; "))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Need skips the test unless ffmpeg, ffprobe and mkvinfo are installed.
func Need(t testing.TB) {
	t.Helper()
	var missing []string
	for _, p := range []string{"ffmpeg", "ffprobe", "mkvinfo"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		Skip(t, strings.Join(missing, "/"), "apt-get install ffmpeg mkvtoolnix")
	}
}

// Run runs a program and returns its combined output; it fails the test
// if the program fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Frames returns how many frames ffprobe decodes of a stream ("v:0",
// "a:0") of a file.
func Frames(t testing.TB, file, stream string) int {
	t.Helper()
	out := strings.TrimSpace(Run(t, "ffprobe", "-v", "error", "-count_frames", "-select_streams", stream,
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file))
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	return n
}

// Size returns the width and height ffprobe sees in an image or video.
func Size(t testing.TB, file string) string {
	t.Helper()
	return strings.TrimSpace(Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file))
}

// StructureOK fails the test when mkvinfo reports an error in a file.
func StructureOK(t testing.TB, file string) {
	t.Helper()
	if out := Run(t, "mkvinfo", file); strings.Contains(out, "rror") {
		t.Errorf("%s: mkvinfo:\n%s", file, out)
	}
}

// Plays fails the test unless ffmpeg decodes a file through without a
// message.
func Plays(t testing.TB, file string) {
	t.Helper()
	if msgs := Run(t, "ffmpeg", "-v", "error", "-i", file, "-f", "null", "-"); strings.TrimSpace(msgs) != "" {
		t.Errorf("ffmpeg playing %s:\n%s", file, msgs)
	}
}
