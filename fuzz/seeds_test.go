package fuzz

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// seeds returns the inputs every target starts from: the project's
// fixtures, generated streams of every kind, the hostile inputs and shapes
// (at 4 KiB), and the real captures when ../shared/corpus is there (their
// first 16 KiB, which hold a whole unit's header, tags and first blocks).
func seeds(f testing.TB) [][]byte {
	var out [][]byte
	for _, path := range []string{"../mkv/testdata/tiny.mkv", "../examples/kvsdump/sample.mkv"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	small := kvsgen.Generator{Fragments: 2, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 4800, Audio: true, AudioFrameSize: 8}
	for _, mod := range []func(*kvsgen.Generator){
		func(c *kvsgen.Generator) { c.GetMedia, c.ProducerTags = true, true },
		func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 3, mkv.XiphLacing },
		func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 3, mkv.EBMLLacing },
		func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 2, mkv.FixedLacing },
		func(c *kvsgen.Generator) { c.BlockGroups, c.KnownSizeCluster, c.CRC, c.Void = true, true, true, true },
		func(c *kvsgen.Generator) {
			c.SideSpelling, c.NULPadding, c.RelativeProducerTime = true, true, true
			c.Errors = map[int]kvsgen.ErrorUnit{0: {Exception: true, Code: "X", Message: "m"}, 1: {Code: "Y", ID: 4000}}
		},
	} {
		c := small
		mod(&c)
		out = append(out, c.Bytes())
	}
	for _, h := range hostile() {
		out = append(out, h.in)
	}
	for _, s := range Shapes() {
		out = append(out, s.Bytes(4<<10))
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
