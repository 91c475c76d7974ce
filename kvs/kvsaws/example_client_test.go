package kvsaws_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// Follow a stream live with GetMedia. Here the stream is the emulator's;
// with AWS, make the Client from config.LoadDefaultConfig instead.
func ExampleClient_Follow() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 5})

	client := kvsaws.NewFromConfig(srv.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	for f, err := range client.Follow(ctx, "front-door", start) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s %d frames, %d ms behind\n", f.Index, f.ProducerTimestamp, len(f.Frames), f.MillisBehindNow)
		if f.Index == 2 {
			break // or cancel ctx
		}
	}
	// Output:
	// 0 2017-11-28T06:55:08.513Z 60 frames, 8000 ms behind
	// 1 2017-11-28T06:55:10.513Z 60 frames, 6000 ms behind
	// 2 2017-11-28T06:55:12.513Z 60 frames, 4000 ms behind
}

// Fetch a time range: ListFragments (all pages, in order), then
// GetMediaForFragmentList in batches, fragments in order.
func ExampleClient_FetchRange() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 5})
	infos := srv.Fragments("front-door")

	client := kvsaws.NewFromConfig(srv.Config())
	sel := kvsaws.Range(kvsaws.ProducerTimestamp, infos[1].ProducerTimestamp.Time(), infos[3].ProducerTimestamp.Time())
	for f, err := range client.FetchRange(context.Background(), "front-door", sel) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Index, f.Number == "", f.ProducerTimestamp)
	}
	// Output:
	// 0 false 2017-11-28T06:55:10.513Z
	// 1 false 2017-11-28T06:55:12.513Z
	// 2 false 2017-11-28T06:55:14.513Z
}

// Follow a stream frame by frame: each frame comes as soon as its block is
// read, not when its fragment completes, and a checkpoint file lets the
// follow resume after a restart.
func ExampleClient_FollowFrames() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 3, FPS: 2, FragmentDuration: 1e9})
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	client := kvsaws.NewFromConfig(srv.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	checkpoint := func(o *kvsaws.FollowOptions) {
		o.Checkpointer = kvsaws.NewFileCheckpointer(filepath.Join(dir, "position.json"))
	}
	for ev, err := range client.FollowFrames(ctx, "front-door", start, checkpoint) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FragmentStartEvent:
			fmt.Println("start", ev.Fragment.Index)
		case kvs.FrameEvent:
			fmt.Println("  frame", ev.Frame.Track, ev.Frame.Keyframe, ev.Fragment.WallClock(ev.Frame).Format(time.TimeOnly))
		case kvs.FragmentEvent:
			fmt.Println("end", ev.Fragment.Index, ev.Fragment.MillisBehindNow, "ms behind")
		}
		if ev.Kind == kvs.FragmentEvent && ev.Fragment.Index == 1 {
			break
		}
	}
	// Output:
	// start 0
	//   frame 1 true 06:55:08
	//   frame 1 false 06:55:09
	// end 0 2000 ms behind
	// start 1
	//   frame 1 true 06:55:09
	//   frame 1 false 06:55:10
	// end 1 1000 ms behind
}

// Tell an error response apart by its code, as with the SDK's typed
// exceptions: errors.Is with the ErrResourceNotFound... values, errors.As
// for the *APIError and its details.
func ExampleAPIError() {
	srv := kvstest.NewServer()
	defer srv.Close()

	client := kvsaws.NewFromConfig(srv.Config())
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}
	for _, err := range client.Follow(context.Background(), "no-such-stream", start) {
		var api *kvsaws.APIError
		switch {
		case errors.Is(err, kvsaws.ErrResourceNotFound) && errors.As(err, &api):
			fmt.Println("no such stream:", api.Operation, api.Code, api.StatusCode)
		case err != nil:
			log.Fatal(err)
		}
	}
	// Output:
	// no such stream: GetDataEndpoint ResourceNotFoundException 404
}
