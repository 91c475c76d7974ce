package kvsbeam

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// TestMain runs the pipelines on prism, Beam's local runner (ptest's
// default; -args -runner=... picks another), with workers in this process
// that take the emulator's credentials from the environment, as workers
// take AWS's.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           kvstest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       kvstest.SecretAccessKey,
		"AWS_REGION":                  kvstest.Region,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		os.Setenv(k, v)
	}
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_PROFILE")
	ptest.Main(m)
}

var start = time.Date(2017, 11, 28, 0, 0, 0, 0, time.UTC)

// smallStream is a stream of n short fragments of a few bytes a frame.
func smallStream(n int) kvstest.StreamConfig {
	return kvstest.StreamConfig{Fragments: n, FragmentDuration: time.Second, FPS: 2, VideoBitrate: 4000}
}

// expected reads what the kvsaws client reads for the requests, as records
// numbered by their position in their request's list, with the listing's
// durations.
func expected(t *testing.T, client *kvsaws.Client, reqs []Request) []kvsreport.Record {
	t.Helper()
	ctx := context.Background()
	var out []kvsreport.Record
	for _, r := range reqs {
		var numbers []tags.FragmentNumber
		durations := map[string]int64{}
		if len(r.Fragments) > 0 {
			for _, n := range r.Fragments {
				numbers = append(numbers, tags.FragmentNumber(n))
			}
		} else {
			for fi, err := range client.ListFragments(ctx, r.Stream, kvsaws.Range(kvsaws.ProducerTimestamp, r.Start, r.End)) {
				if err != nil {
					t.Fatal(err)
				}
				numbers = append(numbers, fi.FragmentNumber)
				durations[fi.FragmentNumber.String()] = fi.FragmentLengthInMilliseconds
			}
		}
		i := 0
		for f, err := range client.GetFragments(ctx, r.Stream, numbers) {
			if err != nil {
				t.Fatal(err)
			}
			rec := kvsreport.FromFragment(r.Stream, f)
			rec.Index, rec.Offset = i, 0
			if rec.FragmentNumber == "" {
				rec.FragmentNumber = numbers[i].String()
			}
			if d := durations[rec.FragmentNumber]; d > 0 {
				rec.DurationMillis = d
			}
			out = append(out, rec)
			i++
		}
		if i != len(numbers) {
			t.Fatalf("kvsaws read %d fragments of %d", i, len(numbers))
		}
	}
	return out
}

func counter(pr beam.PipelineResult, name string) int64 {
	var n int64
	for _, c := range pr.Metrics().Query(func(r metrics.SingleResult) bool {
		return r.Namespace() == "kvsbeam" && r.Name() == name
	}).Counters() {
		n += c.Result()
	}
	return n
}

// TestReadFragments reads 2,550 fragments of three streams, and some by
// number (one the stream does not have), through throttling and cut
// bodies, and checks the records against what the kvsaws client reads:
// the same fragments, none twice.
func TestReadFragments(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	a := srv.AddStream("a", smallStream(1300))
	srv.AddStream("b", smallStream(1200))
	c := srv.AddStream("c", smallStream(50))
	srv.LimitConnections(kvstest.GetMediaForFragmentList, 0) // count every call: none may fail for the limit
	end := start.Add(24 * time.Hour)
	reqs := []Request{
		{Stream: "a", Start: start, End: end},
		{Stream: "b", Start: start, End: end},
		{Stream: "c", Start: start, End: end},
		{Stream: "a", Fragments: []string{a[5].String(), c[3].String() + "1", a[1299].String()}}, // the middle one is missing
	}
	want := expected(t, kvsaws.NewFromConfig(srv.Config()), reqs)
	if len(want) != 2553 {
		t.Fatalf("expected %d records, want 2553", len(want))
	}
	if e := want[2551].Error; e == nil || !(&tags.FragmentError{Code: e.Code}).IsNotFound() && e.Code != "ResourceNotFoundException" {
		t.Fatalf("the missing fragment reads as %+v, want not found", want[2551])
	}
	calls := srv.Requests(kvstest.GetMediaForFragmentList)
	srv.Inject(kvstest.Throttled(kvstest.ListFragments, 2))
	srv.Inject(kvstest.Throttled(kvstest.GetMediaForFragmentList, 2))
	srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 3000}, kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 20000})

	p, s := beam.NewPipelineWithRoot()
	opts := Options{Endpoint: srv.URL(), Shards: 2, BatchSize: 250}
	records := ReadFragments(s, opts, beam.CreateList(s, reqs))
	passert.EqualsList(s, records, want) // a record missing, changed or twice fails
	pr := ptest.RunAndValidate(t, p)

	batches := int64(6 + 5 + 1 + 1)
	if got := counter(pr, "batches_fetched"); got != batches {
		t.Errorf("batches_fetched = %d, want %d", got, batches)
	}
	if got := counter(pr, "fragments_listed"); got != 2553 {
		t.Errorf("fragments_listed = %d, want 2553", got)
	}
	// Each batch is one call, plus one per throttle and per cut: no call
	// was repeated otherwise (a retried bundle, a connection limit).
	if got := srv.Requests(kvstest.GetMediaForFragmentList) - calls; got != int(batches)+2+2 {
		t.Errorf("%d GetMediaForFragmentList calls, want %d (batches, throttles, cuts)", got, batches+4)
	}
}

// TestShardsBound checks that a stream never has more GetMediaForFragmentList
// calls open than Options.Shards, even when the runner could run more.
func TestShardsBound(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			srv := kvstest.NewServer()
			defer srv.Close()
			srv.AddStream("s", smallStream(600))
			srv.LimitConnections(kvstest.GetMediaForFragmentList, 0)
			// Bodies last, so that calls would overlap.
			srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, Chunk: 2048, Delay: time.Millisecond})
			first := time.Date(2017, 11, 28, 6, 55, 8, 513e6, time.UTC) // the stream's first fragment
			reqs := []Request{
				{Stream: "s", Start: start, End: first.Add(300500 * time.Millisecond)},
				{Stream: "s", Start: first.Add(300600 * time.Millisecond), End: start.Add(24 * time.Hour)},
			}
			p, s := beam.NewPipelineWithRoot()
			records := ReadFragments(s, Options{Endpoint: srv.URL(), Shards: shards, BatchSize: 50}, beam.CreateList(s, reqs))
			passert.Count(s, records, "records", 600)
			ptest.RunAndValidate(t, p)
			if peak := srv.PeakConnections(kvstest.GetMediaForFragmentList); peak > shards {
				t.Errorf("%d GetMediaForFragmentList calls open at once, want at most %d", peak, shards)
			}
		})
	}
}

// frameLine describes a frame for comparison: the fragment, track, flag,
// wall clock, and whether it starts with a start code and an SPS.
func frameLine(f Frame) string {
	sps := len(f.Data) > 4 && bytes.HasPrefix(f.Data, []byte{0, 0, 0, 1}) && f.Data[4]&0x1f == 7
	return fmt.Sprintf("%s %d %t %s %t", f.FragmentNumber, f.Track, f.Keyframe, f.WallClock.Format(time.RFC3339Nano), sps)
}

func init() {
	register.Function1x1(frameLine)
}

// TestReadFrames reads the keyframes of a stream of decodable H.264 and
// checks that each is Annex-B with its parameter sets, at its wall clock.
func TestReadFrames(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 12, Media: true, Audio: true, FPS: 10})
	reqs := []Request{{Stream: "cam", Start: start, End: start.Add(24 * time.Hour)}}

	var want []string
	var keyframes, all int
	for f, err := range kvsaws.NewFromConfig(srv.Config()).FetchRange(context.Background(), "cam", kvsaws.Range(kvsaws.ProducerTimestamp, reqs[0].Start, reqs[0].End)) {
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Frames {
			fr := &f.Frames[i]
			all++
			if fr.Track != kvsgen.VideoTrackNumber {
				continue
			}
			if fr.Keyframe {
				keyframes++
				want = append(want, fmt.Sprintf("%s %d true %s true", f.Number, fr.Track, f.WallClock(fr).UTC().Format(time.RFC3339Nano)))
			}
		}
	}
	if keyframes != 12 {
		t.Fatalf("the stream has %d keyframes, want 12", keyframes)
	}
	p, s := beam.NewPipelineWithRoot()
	keys := ReadFrames(s, Options{Endpoint: srv.URL(), BatchSize: 5}, FrameSelector{}, beam.CreateList(s, reqs))
	passert.EqualsList(s, beam.ParDo(s, frameLine, keys), want)
	every := ReadFrames(s, Options{Endpoint: srv.URL()}, FrameSelector{Tracks: []uint64{kvsgen.VideoTrackNumber, kvsgen.AudioTrackNumber}, AllFrames: true}, beam.CreateList(s, reqs))
	passert.Count(s, every, "all frames", all)
	ptest.RunAndValidate(t, p)
}
