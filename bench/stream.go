// Package bench holds kvsmkv's benchmarks (in its tests) and the stream
// they read, which cmd/benchtable also writes to a file for whole-process
// comparisons.
package bench

import (
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// StreamConfig is the benchmarks' KVS-like stream: 2-second fragments of
// 30 fps, ~3 Mbit/s video in one frame per SimpleBlock plus a 48 kHz audio
// track, tags before and after each Cluster, unknown-size Segment and
// Cluster, GetMedia's trailing tags. 135 fragments make about 104 MB.
var StreamConfig = kvsgen.Generator{
	Fragments:        135,
	FragmentDuration: 2 * time.Second,
	FPS:              30,
	VideoBitrate:     3_000_000,
	Audio:            true,
	ProducerTags:     true,
	GetMedia:         true,
}
