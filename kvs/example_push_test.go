package kvs_test

import (
	"fmt"
	"log"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// Bytes that arrive by callback (a GStreamer appsink, a WebSocket) are
// pushed with Write, in chunks of any size; the handler gets each frame as
// soon as its block is complete, and each fragment's end.
func ExamplePushReader() {
	frames := 0
	r := kvs.NewPushReader(func(ev *kvs.Event) error {
		switch ev.Kind {
		case kvs.FrameEvent:
			frames++
		case kvs.FragmentEvent:
			fmt.Printf("fragment %d: %d frames, token %v\n", ev.Fragment.Index, frames, ev.Fragment.ContinuationToken != "")
			frames = 0
		}
		return nil
	})
	stream := kvsgen.Generator{Fragments: 2, FragmentDuration: 1e9, FPS: 5, VideoBitrate: 10_000, GetMedia: true}.Bytes()
	for len(stream) > 0 {
		n := min(len(stream), 1000) // as chunks arrive
		if _, err := r.Write(stream[:n]); err != nil {
			log.Fatal(err)
		}
		stream = stream[n:]
	}
	if err := r.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// fragment 0: 5 frames, token true
	// fragment 1: 5 frames, token true
}
