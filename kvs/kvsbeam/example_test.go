package kvsbeam_test

import (
	"fmt"
	"log"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/kvsmkv/kvsmkv/kvs/kvsbeam"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

func printSummary(s kvsreport.Summary) {
	fmt.Printf("%s: %d fragments, %v of media, %d gaps, errors %v\n",
		s.Stream, s.Fragments, time.Duration(s.DurationMillis)*time.Millisecond, len(s.Gaps()), s.Errors)
}

func init() { register.Function1x0(printSummary) }

// Read a day of a stream's fragment metadata and sum it up. The stream is
// the emulator's; workers take credentials from the AWS configuration
// (here the environment holds the emulator's test keys, set in TestMain).
func ExampleReadFragments() {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("front-door", kvstest.StreamConfig{Fragments: 30})

	p, s := beam.NewPipelineWithRoot()
	day := time.Date(2017, 11, 28, 0, 0, 0, 0, time.UTC)
	reqs := beam.Create(s, kvsbeam.Request{Stream: "front-door", Start: day, End: day.Add(24 * time.Hour)})
	records := kvsbeam.ReadFragments(s, kvsbeam.Options{Endpoint: srv.URL()}, reqs)
	beam.ParDo0(s, printSummary, kvsbeam.Summarize(s, time.Second, records))
	if err := ptest.Run(p); err != nil {
		log.Fatal(err)
	}
	// Output:
	// front-door: 30 fragments, 1m0s of media, 0 gaps, errors map[]
}
