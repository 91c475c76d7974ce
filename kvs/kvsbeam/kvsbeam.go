package kvsbeam

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Request asks for the fragments of one stream: those whose timestamps are
// in [Start, End] (both included, as ListFragments takes them), or, when
// Fragments is set, those fragment numbers.
type Request struct {
	// Stream is the stream's name, or its ARN ("arn:aws:kinesisvideo:...").
	Stream     string
	Start, End time.Time
	// ServerTimestamps selects by server timestamps instead of producer
	// timestamps.
	ServerTimestamps bool
	// Fragments, when set, are the fragment numbers to read, instead of
	// listing a time range; a number the stream does not have gives a
	// record with an in-band error (ResourceNotFoundException).
	Fragments []string
}

// Options configure the transforms.
type Options struct {
	// Endpoint is the KVS control-plane endpoint URL, such as an
	// emulator's; empty means AWS's. Credentials and region come from the
	// standard AWS configuration of each worker (environment, shared
	// files, instance role), as config.LoadDefaultConfig reads it.
	Endpoint string
	// Region overrides the configuration's region.
	Region string
	// Shards bounds the GetMediaForFragmentList calls open at once on one
	// stream, across all workers (default DefaultShards). KVS allows 5
	// connections per stream: more shards than that, or other readers of
	// the stream, meet ConnectionLimitExceeded, which is retried with
	// backoff.
	Shards int
	// BatchSize is the number of fragments per GetMediaForFragmentList
	// call, at most 1000 (the default).
	BatchSize int
}

// DefaultShards is the default per-stream bound of concurrent calls.
const DefaultShards = 5

// MaxBatch is the most fragments one GetMediaForFragmentList call takes.
const MaxBatch = 1000

func (o Options) withDefaults() Options {
	if o.Shards <= 0 {
		o.Shards = DefaultShards
	}
	if o.BatchSize <= 0 || o.BatchSize > MaxBatch {
		o.BatchSize = MaxBatch
	}
	return o
}

// Listed is a fragment of a Batch: its number and, when it was listed,
// what ListFragments says of it.
type Listed struct {
	Number                             string
	ProducerTimestamp, ServerTimestamp string
	DurationMillis                     int64
}

// Batch is up to BatchSize fragments of one request, fetched with one
// GetMediaForFragmentList call. Index is the position of its first
// fragment in the request's list.
type Batch struct {
	Stream    string
	Index     int
	Fragments []Listed
}

// Metrics of the transforms, in the namespace "kvsbeam".
var (
	listed     = beam.NewCounter("kvsbeam", "fragments_listed")
	batches    = beam.NewCounter("kvsbeam", "batches_fetched")
	fetched    = beam.NewCounter("kvsbeam", "fragments_fetched")
	inBandErrs = beam.NewCounter("kvsbeam", "inband_errors")
)

// ReadFragments reads the fragments of requests, a PCollection<Request>,
// and returns a PCollection<kvsreport.Record>: each fragment of each
// request exactly once, with its number, timestamps, duration, per-track
// frames, bytes and keyframes, in-band error and tags.
//
// Each request is listed (ListFragments, all pages) and its fragments cut
// into batches of at most Options.BatchSize. The batches are keyed by
// stream and shard, at most Options.Shards a stream, and grouped: the
// group-by-key spreads them over the workers, and each group's batches are
// fetched one after the other by one call, so that no more than Shards
// calls are open on a stream whatever the number of workers. A bundle that
// fails is retried by the runner from its input, which the group-by-key
// has checkpointed, and its outputs replace those of the failed attempt:
// retries do not duplicate records. Throttling, connection limits and
// broken bodies are retried with backoff by the kvsaws client.
//
// Requests are read as given: two requests whose ranges overlap read the
// overlap twice.
func ReadFragments(s beam.Scope, opts Options, requests beam.PCollection) beam.PCollection {
	s = s.Scope("kvsbeam.ReadFragments")
	opts = opts.withDefaults()
	grouped := listBatches(s, opts, requests)
	return beam.ParDo(s, &fetchRecordsFn{Endpoint: opts.Endpoint, Region: opts.Region, BatchSize: opts.BatchSize}, grouped)
}

// listBatches lists requests into batches grouped by stream and shard.
func listBatches(s beam.Scope, opts Options, requests beam.PCollection) beam.PCollection {
	keyed := beam.ParDo(s, &listFn{Endpoint: opts.Endpoint, Region: opts.Region, Shards: opts.Shards, BatchSize: opts.BatchSize}, requests)
	return beam.GroupByKey(s, keyed)
}

// newClient makes a kvsaws client from the standard AWS configuration, with
// one call open at once: a shard's batches are fetched one after the other.
func newClient(ctx context.Context, endpoint, region string, batchSize int, readerOpts ...kvs.Option) (*kvsaws.Client, error) {
	var cfgOpts []func(*config.LoadOptions) error
	if endpoint != "" {
		cfgOpts = append(cfgOpts, config.WithBaseEndpoint(endpoint))
	}
	if region != "" {
		cfgOpts = append(cfgOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, cfgOpts...)
	if err != nil {
		return nil, fmt.Errorf("kvsbeam: loading the AWS configuration: %w", err)
	}
	return kvsaws.NewFromConfig(cfg, func(o *kvsaws.Options) {
		o.BatchSize = batchSize
		o.Concurrency = 1
		o.ReaderOptions = append(o.ReaderOptions, readerOpts...)
	}), nil
}

// listFn lists a request and emits its batches keyed by "stream#shard".
type listFn struct {
	Endpoint, Region string
	Shards           int
	BatchSize        int

	client *kvsaws.Client
}

func (f *listFn) Setup(ctx context.Context) error {
	c, err := newClient(ctx, f.Endpoint, f.Region, f.BatchSize)
	f.client = c
	return err
}

func (f *listFn) ProcessElement(ctx context.Context, r Request, emit func(string, Batch)) error {
	var all []Listed
	if len(r.Fragments) > 0 {
		for _, n := range r.Fragments {
			all = append(all, Listed{Number: n})
		}
	} else {
		typ := kvsaws.ProducerTimestamp
		if r.ServerTimestamps {
			typ = kvsaws.ServerTimestamp
		}
		seen := map[tags.FragmentNumber]bool{}
		for fi, err := range f.client.ListFragments(ctx, r.Stream, kvsaws.Range(typ, r.Start, r.End)) {
			if err != nil {
				return fmt.Errorf("kvsbeam: listing %s: %w", r.Stream, err)
			}
			if seen[fi.FragmentNumber] {
				continue // pages that overlap
			}
			seen[fi.FragmentNumber] = true
			all = append(all, Listed{
				Number:            fi.FragmentNumber.String(),
				ProducerTimestamp: format(fi.ProducerTimestamp),
				ServerTimestamp:   format(fi.ServerTimestamp),
				DurationMillis:    fi.FragmentLengthInMilliseconds,
			})
		}
	}
	listed.Inc(ctx, int64(len(all)))
	// Consecutive batches go to consecutive shards, from a shard that
	// depends on the request, so that requests of one stream spread too.
	h := fnv.New32a()
	fmt.Fprintf(h, "%s|%d|%d|%d", r.Stream, r.Start.UnixNano(), r.End.UnixNano(), len(r.Fragments))
	first := int(h.Sum32() % uint32(f.Shards))
	for i, b := 0, 0; i < len(all); i, b = i+f.BatchSize, b+1 {
		j := min(i+f.BatchSize, len(all))
		key := fmt.Sprintf("%s#%d", r.Stream, (first+b)%f.Shards)
		emit(key, Batch{Stream: r.Stream, Index: i, Fragments: all[i:j]})
	}
	return nil
}

func format(t tags.Timestamp) string {
	if t.IsZero() {
		return ""
	}
	return t.Time().UTC().Format(kvsreport.TimeLayout)
}

// fetchBatch fetches a batch and calls use with each fragment and what the
// listing says of it, then with a stand-in for each listed fragment the
// response did not hold.
func fetchBatch(ctx context.Context, c *kvsaws.Client, b Batch, use func(i int, l Listed, f *kvs.Fragment)) error {
	batches.Inc(ctx, 1)
	numbers := make([]tags.FragmentNumber, len(b.Fragments))
	pos := make(map[string]int, len(b.Fragments))
	for i, l := range b.Fragments {
		numbers[i] = tags.FragmentNumber(l.Number)
		pos[l.Number] = i
	}
	done := make([]bool, len(b.Fragments))
	next := 0
	for f, err := range c.GetFragments(ctx, b.Stream, numbers) {
		if err != nil {
			return fmt.Errorf("kvsbeam: fetching %d fragments of %s from %s: %w", len(numbers), b.Stream, numbers[0], err)
		}
		n := f.Number.String()
		if n == "" && f.Err != nil {
			n = f.Err.FragmentNumber.String()
		}
		i, ok := pos[n]
		if !ok || done[i] {
			// A unit without a number (or a repeated one) stands for
			// the next fragment asked for.
			for next < len(done) && done[next] {
				next++
			}
			if next == len(done) {
				continue
			}
			i = next
		}
		done[i] = true
		fetched.Inc(ctx, 1)
		if f.Err != nil {
			inBandErrs.Inc(ctx, 1)
		}
		use(i, b.Fragments[i], f)
	}
	for i, d := range done {
		if !d {
			inBandErrs.Inc(ctx, 1)
			use(i, b.Fragments[i], &kvs.Fragment{Number: tags.FragmentNumber(b.Fragments[i].Number),
				Err: &tags.FragmentError{Code: NotReturned, Message: "the GetMediaForFragmentList response did not hold the fragment"}})
		}
	}
	return nil
}

// NotReturned is the error code of a record of a fragment that was asked
// for and that the response left out without an in-band error.
const NotReturned = "KVSBEAM_NOT_RETURNED"

// recordOf is the record of fragment f, the i-th of batch b, completed with
// what the listing says of it. Its Index is its position in the request;
// its Offset is 0, as a position in a batch's response (which batching and
// retries cut differently each run) would tell nothing.
func recordOf(b Batch, i int, l Listed, f *kvs.Fragment) kvsreport.Record {
	r := kvsreport.FromFragment(b.Stream, f)
	r.Index, r.Offset = b.Index+i, 0
	if r.FragmentNumber == "" {
		r.FragmentNumber = l.Number
	}
	if r.ProducerTimestamp == "" {
		r.ProducerTimestamp = l.ProducerTimestamp
	}
	if r.ServerTimestamp == "" {
		r.ServerTimestamp = l.ServerTimestamp
	}
	if l.DurationMillis > 0 {
		r.DurationMillis = l.DurationMillis
	}
	return r
}

// fetchRecordsFn fetches the batches of one stream#shard group, one after
// the other, and emits a record per fragment.
type fetchRecordsFn struct {
	Endpoint, Region string
	BatchSize        int

	client *kvsaws.Client
}

func (f *fetchRecordsFn) Setup(ctx context.Context) error {
	c, err := newClient(ctx, f.Endpoint, f.Region, f.BatchSize, kvs.WithoutFrameData())
	f.client = c
	return err
}

func (f *fetchRecordsFn) ProcessElement(ctx context.Context, _ string, group func(*Batch) bool, emit func(kvsreport.Record)) error {
	var b Batch
	for group(&b) {
		err := fetchBatch(ctx, f.client, b, func(i int, l Listed, fr *kvs.Fragment) {
			emit(recordOf(b, i, l, fr))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func encodeRecord(r kvsreport.Record) ([]byte, error) { return json.Marshal(r) }

func decodeRecord(b []byte) (kvsreport.Record, error) {
	var r kvsreport.Record
	err := json.Unmarshal(b, &r)
	return r, err
}

func encodeSummary(s kvsreport.Summary) ([]byte, error) { return json.Marshal(s) }

func decodeSummary(b []byte) (kvsreport.Summary, error) {
	var s kvsreport.Summary
	err := json.Unmarshal(b, &s)
	return s, err
}

func init() {
	register.DoFn3x1[context.Context, Request, func(string, Batch), error](&listFn{})
	register.DoFn4x1[context.Context, string, func(*Batch) bool, func(kvsreport.Record), error](&fetchRecordsFn{})
	register.Emitter2[string, Batch]()
	register.Emitter1[kvsreport.Record]()
	register.Iter1[Batch]()
	beam.RegisterType(reflect.TypeFor[Request]())
	beam.RegisterType(reflect.TypeFor[Batch]())
	beam.RegisterType(reflect.TypeFor[Listed]())
	// Records and summaries hold recursive tags, pointers and maps: they
	// travel as their JSON, which is lossless for them.
	beam.RegisterCoder(reflect.TypeFor[kvsreport.Record](), encodeRecord, decodeRecord)
	beam.RegisterCoder(reflect.TypeFor[kvsreport.Summary](), encodeSummary, decodeSummary)
}
