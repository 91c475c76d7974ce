// Package corpus gives tests access to the real KVS captures in
// ../shared/corpus (or the folder named by $KVSMKV_CORPUS), and to what
// mkvinfo saw in them (expected/NAME.txt). The captures are not the
// project's: tests that use them skip when the folder is absent.
package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
)

// EnvDir names the environment variable that points at the corpus folder.
const EnvDir = "KVSMKV_CORPUS"

// CutOff lists the captures that end in the middle of a SimpleBlock. The
// corpus README says mkvinfo counts that cut block, but the expected files
// (and mkvinfo 74 run here on the files and on their last unit alone) list
// only the whole blocks: a decoder that delivers whole frames matches them
// exactly, then reports that the input was cut off.
var CutOff = map[string]bool{
	"output-get-media-equal-timecode.mkv":          true,
	"output-get-media-non-increasing-timecode.mkv": true,
}

// Dir returns the corpus folder, or skips the test when there is none.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		// Walk up to the module root; the corpus sits beside the checkout.
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "..", "shared", "corpus")
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "expected")); err != nil {
		if os.Getenv(EnvDir) != "" {
			tb.Fatalf("%s=%s has no expected/: %v", EnvDir, dir, err)
		}
		mediatest.Skip(tb, "KVS corpus", "set "+EnvDir+" or put it at ../shared/corpus")
	}
	return dir
}

// Files returns the names of the corpus's .mkv files that have an expected
// summary.
func Files(tb testing.TB, dir string) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.mkv"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no .mkv files in %s: %v", dir, err)
	}
	var out []string
	for _, n := range names {
		base := filepath.Base(n)
		if _, err := os.Stat(expectedPath(dir, base)); err == nil {
			out = append(out, base)
		}
	}
	return out
}

func expectedPath(dir, name string) string {
	return filepath.Join(dir, "expected", strings.TrimSuffix(name, ".mkv")+".txt")
}

// Unit is what a test compares per EBML header + Segment unit.
type Unit struct {
	// Tags are "TagName=TagString" for every SimpleTag, in document order.
	Tags []string
	// Tracks count SimpleBlocks plus Blocks, and frames, per track number.
	Tracks map[uint64]Count
}

// Count is a number of blocks and of frames.
type Count struct{ Blocks, Frames int }

// Load returns capture name and its expected summary.
func Load(tb testing.TB, dir, name string) ([]byte, []Unit) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data, Expected(tb, dir, name)
}

// Expected parses expected/NAME.txt.
func Expected(tb testing.TB, dir, name string) []Unit {
	tb.Helper()
	f, err := os.Open(expectedPath(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	units, err := parse(f)
	if err != nil {
		tb.Fatalf("%s: %v", expectedPath(dir, name), err)
	}
	return units
}

func parse(r io.Reader) ([]Unit, error) {
	var units []Unit
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "unit "):
			units = append(units, Unit{Tracks: map[uint64]Count{}})
		case line == "" || strings.HasPrefix(line, "#"):
		case len(units) == 0:
			return nil, fmt.Errorf("%q before the first unit", line)
		case strings.HasPrefix(line, "tag "):
			u := &units[len(units)-1]
			u.Tags = append(u.Tags, strings.TrimPrefix(line, "tag "))
		case strings.HasPrefix(line, "blocks "):
			var track uint64
			var c Count
			if _, err := fmt.Sscanf(line, "blocks track=%d n=%d frames=%d", &track, &c.Blocks, &c.Frames); err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			units[len(units)-1].Tracks[track] = c
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
	}
	return units, s.Err()
}

// Check compares what a decoder found in capture name, and the error it
// ended with, to the expected summary. A cut-off capture must end with an
// error for which errors.Is(err, cutOff) holds; any other must end cleanly.
func Check(tb testing.TB, name string, want, got []Unit, err error, cutOff error) {
	tb.Helper()
	if CutOff[name] {
		if !errors.Is(err, cutOff) {
			tb.Errorf("%s: got error %v, want a cut-off error", name, err)
		}
	} else if err != nil {
		tb.Errorf("%s: unexpected error %v", name, err)
	}
	if len(got) != len(want) {
		tb.Errorf("%s: %d units, want %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if g, w := Format(got[i]), Format(want[i]); g != w {
			tb.Errorf("%s: unit %d differs:\n got: %s\nwant: %s", name, i+1, g, w)
		}
	}
}

// Format renders a unit in one line for diffs, tracks in ascending order.
func Format(u Unit) string {
	var b strings.Builder
	for _, t := range u.Tags {
		b.WriteString(strconv.Quote(t))
		b.WriteByte(' ')
	}
	tracks := make([]uint64, 0, len(u.Tracks))
	for t := range u.Tracks {
		tracks = append(tracks, t)
	}
	sort.Slice(tracks, func(i, j int) bool { return tracks[i] < tracks[j] })
	for _, t := range tracks {
		c := u.Tracks[t]
		fmt.Fprintf(&b, "track=%d n=%d frames=%d ", t, c.Blocks, c.Frames)
	}
	return b.String()
}
