package kvsreport_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// Read a time range of a stream, summarize it and write the HTML report.
// Without ListFragments, a fragment's duration is the span of its frames.
func Example() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 6})

	ctx := context.Background()
	client := kvsaws.NewFromConfig(srv.Config())
	start := time.Date(2017, 11, 28, 6, 55, 0, 0, time.UTC)
	sel := kvsaws.Range(kvsaws.ProducerTimestamp, start, start.Add(time.Hour))
	var records []kvsreport.Record
	for f, err := range client.FetchRange(ctx, "front-door", sel) {
		if err != nil {
			log.Fatal(err)
		}
		records = append(records, kvsreport.FromFragment("front-door", f))
	}
	for _, s := range kvsreport.Summarize(records, time.Second) {
		fmt.Printf("%s: %d fragments, %v of media from %s, %d gaps\n",
			s.Stream, s.Fragments, time.Duration(s.DurationMillis)*time.Millisecond,
			s.Start().Format(time.RFC3339), len(s.Gaps()))
	}

	file, err := os.Create(filepath.Join(os.TempDir(), "kvsreport-example.html"))
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(file.Name())
	if err := kvsreport.WriteHTML(file, records, kvsreport.Options{Title: "front door", Gap: time.Second}); err != nil {
		log.Fatal(err)
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// front-door: 6 fragments, 11.994s of media from 2017-11-28T06:55:08Z, 0 gaps
}
