package kvsgen_test

import (
	"fmt"
	"log"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// Generate a GetMedia body of two fragments with audio and read it back,
// comparing the frames with what the generator says it wrote.
func Example() {
	g := kvsgen.Generator{Fragments: 2, FragmentDuration: time.Second, FPS: 5, VideoBitrate: 40_000, Audio: true, GetMedia: true}
	i := 0
	for f, err := range kvs.NewReader(g.Reader()).All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("…%s: %d frames (want %d) from %s, token ok %v\n", f.Number[len(f.Number)-6:], len(f.Frames), len(g.Frames(i)),
			f.ProducerTimestamp, f.ContinuationToken == g.FragmentNumber(i))
		i++
	}
	// Output:
	// …169392: 55 frames (want 55) from 2017-11-28T06:55:08.513Z, token ok true
	// …666288: 55 frames (want 55) from 2017-11-28T06:55:09.513Z, token ok true
}
