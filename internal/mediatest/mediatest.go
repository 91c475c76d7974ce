// Package mediatest runs the media tools that check kvsmkv's playable
// output (ffmpeg, ffprobe, mkvinfo) from tests, which skip when the tools
// are not installed.
package mediatest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Need skips the test unless ffmpeg, ffprobe and mkvinfo are installed.
func Need(t testing.TB) {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe", "mkvinfo"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (apt-get install ffmpeg mkvtoolnix)", p)
		}
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
