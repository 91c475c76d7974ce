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
//
// Before the pipeline runs, kvsaudit lists each stream's range once: a
// stream it cannot read (ResourceNotFoundException, no credentials, ...)
// ends it with that error on one line, exit 1, and a range that holds no
// fragment of any stream is said on standard error, with where the
// streams' fragments are, exit 3. When the pipeline fails, its first real
// error is printed on one line at the end, exit 1. -h lists kvsaudit's own
// flags; -help-beam lists Beam's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsbeam"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // a stream could not be read, or the pipeline failed
	exitUsage = 2
	exitEmpty = 3 // the range holds no fragment of any stream
)

// ownFlags are kvsaudit's flags, which -h lists; the rest of the command
// line's flags are Beam's, which -help-beam lists.
var ownFlags = map[string]bool{}

func own[T any](f *T, name string) *T { ownFlags[name] = true; return f }

var (
	streams    = own(flag.String("streams", "", "comma-separated stream names or ARNs (required)"), "streams")
	startFlag  = own(flag.String("start", "", "start of the time range, RFC 3339 (default: a day before -end)"), "start")
	endFlag    = own(flag.String("end", "", "end of the time range, RFC 3339 (default: now)"), "end")
	serverTime = own(flag.Bool("server-time", false, "select the range by server timestamps, not producer timestamps"), "server-time")
	out        = own(flag.String("out", "kvsaudit", "output prefix: PREFIX-fragments.jsonl and PREFIX-summary.jsonl (a local path or gs://...)"), "out")
	htmlFile   = own(flag.String("html", "", "also write the HTML report to this file"), "html")
	gap        = own(flag.Duration("gap", time.Second, "spaces between fragments longer than this are gaps"), "gap")
	kvsURL     = own(flag.String("kvs-endpoint", "", "KVS control-plane endpoint URL, such as an emulator's (default: AWS's)"), "kvs-endpoint")
	region     = own(flag.String("kvs-region", "", "AWS region of the streams (default: from the AWS configuration; Beam has --region for Dataflow)"), "kvs-region")
	shards     = own(flag.Int("shards", kvsbeam.DefaultShards, "GetMediaForFragmentList calls open at once per stream, across workers"), "shards")
	title      = own(flag.String("title", "", "title of the HTML report"), "title")
	helpBeam   = own(flag.Bool("help-beam", false, "list Beam's own flags (--runner, --project, ...) and exit"), "help-beam")
)

const usageText = `usage: kvsaudit -streams a,b -start T1 -end T2 -out PREFIX [-html FILE] [Beam's flags]

Audits KVS streams over a time range with Apache Beam (prism, the local
runner, unless Beam's --runner says otherwise). Exit status: 0 done, 1 a
stream could not be read or the pipeline failed, 2 usage, 3 no fragment
in the range.

Flags of kvsaudit:
`

func main() {
	flag.Usage = func() { usage(os.Stderr, flag.CommandLine) }
	flag.Parse()
	if *helpBeam {
		beamUsage(os.Stdout, flag.CommandLine)
		os.Exit(exitOK)
	}
	beam.Init() // on a worker, this runs the worker and never returns
	os.Exit(run(context.Background(), os.Stderr))
}

// usage lists kvsaudit's own flags, and points to Beam's.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageText)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if !ownFlags[f.Name] {
			n++
		}
	})
	own := flag.NewFlagSet("kvsaudit", flag.ContinueOnError)
	own.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if ownFlags[f.Name] {
			own.Var(f.Value, f.Name, f.Usage)
		}
	})
	own.PrintDefaults()
	fmt.Fprintf(w, "\nBeam's own flags (%d of them: --runner, --project, --region, --temp_location, ...) are listed by kvsaudit -help-beam.\n", n)
}

// beamUsage lists the flags that are Beam's.
func beamUsage(w io.Writer, fs *flag.FlagSet) {
	beamFlags := flag.NewFlagSet("beam", flag.ContinueOnError)
	beamFlags.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if !ownFlags[f.Name] {
			beamFlags.Var(f.Value, f.Name, f.Usage)
		}
	})
	fmt.Fprintln(w, "Beam's flags, which kvsaudit passes to Beam:")
	beamFlags.PrintDefaults()
}

// run checks the streams, runs the audit and returns the exit status.
func run(ctx context.Context, stderr io.Writer) int {
	reqs, err := requests()
	if err != nil {
		fmt.Fprintf(stderr, "kvsaudit: %v\nusage: kvsaudit -streams a,b -start T1 -end T2 -out PREFIX [-html FILE] (kvsaudit -h lists the flags)\n", err)
		return exitUsage
	}
	client, err := newClient(ctx)
	if err == nil {
		err = check(ctx, client, reqs, stderr)
	}
	switch {
	case errors.Is(err, errEmpty):
		return exitEmpty
	case err != nil:
		fmt.Fprintf(stderr, "kvsaudit: %v\n", err)
		return exitFail
	}
	p, s := beam.NewPipelineWithRoot()
	opts := kvsbeam.AuditOptions{
		Options: kvsbeam.Options{Endpoint: *kvsURL, Region: *region, Shards: *shards},
		Gap:     *gap, Out: *out, HTML: *htmlFile, Title: *title,
	}
	kvsbeam.Audit(s, opts, beam.CreateList(s, reqs))
	if err := beamx.Run(ctx, p); err != nil {
		fmt.Fprintf(stderr, "kvsaudit: %s\n", firstError(err))
		return exitFail
	}
	return exitOK
}

// newClient makes a kvsaws client from the AWS configuration and the
// flags, as the workers make theirs, with the SDK's log lines left out.
func newClient(ctx context.Context) (*kvsaws.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if *kvsURL != "" {
		opts = append(opts, config.WithBaseEndpoint(*kvsURL))
	}
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return kvsaws.NewFromConfig(cfg), nil
}

// errEmpty is check's error when no stream has a fragment in its range;
// check has said so.
var errEmpty = errors.New("no fragment in the range")

// check lists the start of each request's range: the first stream that
// cannot be listed ends the audit with its error, and a range that holds
// no fragment of any stream with errEmpty, after saying where the
// streams' fragments are. A stream with no fragment among others that
// have some is noted and audited.
func check(ctx context.Context, c *kvsaws.Client, reqs []kvsbeam.Request, stderr io.Writer) error {
	var empty []string
	for _, r := range reqs {
		typ := rangeType(r)
		has := false
		for _, err := range c.ListFragments(ctx, r.Stream, kvsaws.Range(typ, r.Start, r.End)) {
			if err != nil {
				return fmt.Errorf("stream %s: %w", r.Stream, err)
			}
			has = true
			break
		}
		if !has {
			empty = append(empty, whereFragments(ctx, c, r))
		}
	}
	for _, msg := range empty {
		fmt.Fprintf(stderr, "kvsaudit: %s\n", msg)
	}
	if len(empty) == len(reqs) {
		return errEmpty
	}
	return nil
}

func rangeType(r kvsbeam.Request) kvsaws.FragmentSelectorType {
	if r.ServerTimestamps {
		return kvsaws.ServerTimestamp
	}
	return kvsaws.ProducerTimestamp
}

// hintFragments is how many fragments whereFragments lists, at most.
const hintFragments = 1000

// whereFragments says that r's range holds no fragment, and where the
// stream's fragments are (kvsaws.Client.DescribeEmpty).
func whereFragments(ctx context.Context, c *kvsaws.Client, r kvsbeam.Request) string {
	msg, elsewhere := c.DescribeEmpty(ctx, r.Stream, rangeType(r), r.Start, r.End, hintFragments)
	if elsewhere {
		msg += ": give -start and -end"
	}
	return msg
}

// firstError picks, out of the error a runner returns (its plan, logs and
// causes, often with escaped newlines), the first line this module's
// packages wrote, or else the last line.
func firstError(err error) string {
	text := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\"`, `"`).Replace(err.Error())
	var last string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		for _, prefix := range []string{"kvsbeam: ", "kvsaws: ", "kvs: ", "kvsreport: "} {
			if i := strings.Index(line, prefix); i >= 0 {
				return strings.TrimRight(line[i:], `"`)
			}
		}
		if line != "" {
			last = line
		}
	}
	return last
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
