package fuzz

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/internal/gen"
)

// seeds returns the inputs every target starts from: the project's
// fixtures, generated streams of every kind, the hostile inputs, and the
// real captures when ../shared/corpus is there (their first 16 KiB, which
// hold a whole unit's header, tags and first blocks).
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, path := range []string{"../mkv/testdata/tiny.mkv", "../examples/kvsdump/sample.mkv"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	small := gen.Config{Fragments: 2, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 4800, Audio: true, AudioFrameSize: 8}
	for _, mod := range []func(*gen.Config){
		func(c *gen.Config) { c.GetMedia, c.ProducerTags = true, true },
		func(c *gen.Config) { c.AudioPerBlock, c.AudioLacing = 3, gen.XiphLacing },
		func(c *gen.Config) { c.AudioPerBlock, c.AudioLacing = 3, gen.EBMLLacing },
		func(c *gen.Config) { c.AudioPerBlock, c.AudioLacing = 2, gen.FixedLacing },
		func(c *gen.Config) { c.BlockGroups, c.KnownSizeCluster, c.CRC, c.Void = true, true, true, true },
		func(c *gen.Config) {
			c.SideSpelling, c.NULPadding, c.RelativeProducerTime = true, true, true
			c.Errors = map[int]gen.Error{0: {Exception: true, Code: "X", Message: "m"}, 1: {Code: "Y", ID: 4000}}
		},
	} {
		c := small
		mod(&c)
		out = append(out, gen.Bytes(c))
	}
	for _, h := range hostile() {
		out = append(out, h.in)
	}
	if dir := corpusDir(); dir != "" {
		names, _ := filepath.Glob(filepath.Join(dir, "*.mkv"))
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data[:min(len(data), 16<<10)])
		}
	}
	return out
}

// corpusDir returns the real captures' folder, or "" when absent; fuzzing
// does without them.
func corpusDir() string {
	dir := os.Getenv(corpus.EnvDir)
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
