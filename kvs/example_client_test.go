package kvs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// Follow a stream live with GetMedia. Here the stream is the emulator's;
// with AWS, make the Client from config.LoadDefaultConfig instead.
func ExampleClient_Follow() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 5})

	client := kvs.New(srv.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := kvs.StartSelector{StartSelectorType: kvs.StartAtEarliest}
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
	// 0 1511852108.513 60 frames, 8000 ms behind
	// 1 1511852110.513 60 frames, 6000 ms behind
	// 2 1511852112.513 60 frames, 4000 ms behind
}

// Fetch a time range: ListFragments (all pages, in order), then
// GetMediaForFragmentList in batches, fragments in order.
func ExampleClient_FetchRange() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 5})
	infos := srv.Fragments("front-door")

	client := kvs.New(srv.Config())
	sel := kvs.FragmentSelector{
		FragmentSelectorType: kvs.ProducerTimestampSelector,
		TimestampRange:       kvs.TimestampRange{StartTimestamp: infos[1].ProducerTimestamp, EndTimestamp: infos[3].ProducerTimestamp},
	}
	for f, err := range client.FetchRange(context.Background(), "front-door", sel) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Index, f.Number == "", f.ProducerTimestamp)
	}
	// Output:
	// 0 false 1511852110.513
	// 1 false 1511852112.513
	// 2 false 1511852114.513
}
