// Command kvsaudit audits Kinesis Video Streams with Apache Beam: it lists
// and reads the fragments of streams over a time range, and writes a JSON
// line per fragment (kvsdump's field names), a summary per stream
// (fragments, media, gaps longer than -gap with their start and end,
// in-band errors by code, damaged fragments) and, with -html, a report with a timeline per
// stream.
//
//	kvsaudit -streams a,b,c -start 2026-11-01T00:00:00Z -end 2026-12-01T00:00:00Z -out audit/nov [-html nov.html] [-gap 3s] [-kvs-endpoint URL]
//
// It writes PREFIX-fragments.jsonl and PREFIX-summary.jsonl. It runs on
// Beam's local runner, prism, unless told otherwise with Beam's own flags:
//
//	--runner=dataflow --project=P --region=us-central1 --temp_location=gs://B/tmp --staging_location=gs://B/staging
//	--runner=flink --endpoint=localhost:8099 --environment_type=DOCKER
//
// (Beam's --endpoint is the job service; -endpoint, with one dash or two,
// would be taken by Beam, so kvsaudit's KVS endpoint flag is -kvs-endpoint.)
// Credentials and region come from each worker's AWS configuration.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/kvsmkv/kvsmkv/kvs/kvsbeam"
)

var (
	streams    = flag.String("streams", "", "comma-separated stream names or ARNs (required)")
	startFlag  = flag.String("start", "", "start of the time range, RFC 3339 (default: a day before -end)")
	endFlag    = flag.String("end", "", "end of the time range, RFC 3339 (default: now)")
	serverTime = flag.Bool("server-time", false, "select the range by server timestamps, not producer timestamps")
	out        = flag.String("out", "kvsaudit", "output prefix: PREFIX-fragments.jsonl and PREFIX-summary.jsonl (a local path or gs://...)")
	htmlFile   = flag.String("html", "", "also write the HTML report to this file")
	gap        = flag.Duration("gap", time.Second, "spaces between fragments longer than this are gaps")
	kvsURL     = flag.String("kvs-endpoint", "", "KVS control-plane endpoint URL, such as an emulator's (default: AWS's)")
	region     = flag.String("kvs-region", "", "AWS region of the streams (default: from the AWS configuration; Beam has --region for Dataflow)")
	shards     = flag.Int("shards", kvsbeam.DefaultShards, "GetMediaForFragmentList calls open at once per stream, across workers")
	title      = flag.String("title", "", "title of the HTML report")
)

func main() {
	flag.Parse()
	beam.Init() // on a worker, this runs the worker and never returns
	ctx := context.Background()
	reqs, err := requests()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvsaudit: %v\nusage: kvsaudit -streams a,b -start T1 -end T2 -out PREFIX [-html FILE] (kvsaudit -h lists the flags)\n", err)
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	opts := kvsbeam.AuditOptions{
		Options: kvsbeam.Options{Endpoint: *kvsURL, Region: *region, Shards: *shards},
		Gap:     *gap, Out: *out, HTML: *htmlFile, Title: *title,
	}
	kvsbeam.Audit(s, opts, beam.CreateList(s, reqs))
	if err := beamx.Run(ctx, p); err != nil {
		log.Exitf(ctx, "kvsaudit: %v", err)
	}
}

// requests turns the flags into a request per stream.
func requests() ([]kvsbeam.Request, error) {
	if *streams == "" {
		return nil, fmt.Errorf("-streams is required")
	}
	end := time.Now().UTC()
	if *endFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *endFlag)
		if err != nil {
			return nil, fmt.Errorf("-end: %v", err)
		}
		end = t
	}
	start := end.Add(-24 * time.Hour)
	if *startFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *startFlag)
		if err != nil {
			return nil, fmt.Errorf("-start: %v", err)
		}
		start = t
	}
	if !start.Before(end) {
		return nil, fmt.Errorf("-start %s is not before -end %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	var reqs []kvsbeam.Request
	for _, name := range strings.Split(*streams, ",") {
		if name = strings.TrimSpace(name); name != "" {
			reqs = append(reqs, kvsbeam.Request{Stream: name, Start: start, End: end, ServerTimestamps: *serverTime})
		}
	}
	return reqs, nil
}
