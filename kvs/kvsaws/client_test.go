package kvsaws_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kvtypes "github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// tiny fragments keep the emulator's streams small and quick to generate.
var tiny = kvstest.StreamConfig{FragmentDuration: 200 * time.Millisecond, FPS: 10, VideoBitrate: 8000}

// fastRetries is the default retry policy with short delays, for tests.
func fastRetries(o *kvsaws.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 6
		so.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
		so.RateLimiter = ratelimit.None
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{
			kvsaws.CodeClientLimitExceeded: {}, kvsaws.CodeConnectionLimitExceeded: {},
		}})
	})
	o.FollowInterval, o.FollowIdleWait, o.FollowMaxIdleWait = time.Millisecond, 5*time.Millisecond, 20*time.Millisecond
}

func emulator(t *testing.T, fragments int) (*kvstest.Server, []tags.FragmentNumber) {
	t.Helper()
	srv := kvstest.NewServer()
	t.Cleanup(srv.Close)
	c := tiny
	c.Fragments = fragments
	return srv, srv.AddStream("cam", c)
}

func allRange() kvsaws.FragmentSelector {
	return kvsaws.Range(kvsaws.ProducerTimestamp, time.Unix(0, 0), time.Now())
}

// TestListFragments pages through a range in shuffled pages and gets it
// back in order, with the endpoint resolved once.
func TestListFragments(t *testing.T) {
	srv, numbers := emulator(t, 250)
	srv.SetMaxResults(40)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	var got []tags.FragmentNumber
	for f, err := range c.ListFragments(context.Background(), "cam", allRange()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.FragmentNumber)
	}
	if len(got) != len(numbers) {
		t.Fatalf("%d fragments, want %d", len(got), len(numbers))
	}
	for i := range got {
		if got[i] != numbers[i] {
			t.Fatalf("fragment %d is %s, want %s", i, got[i], numbers[i])
		}
	}
	if n := srv.Requests(kvstest.ListFragments); n != 7 {
		t.Errorf("%d ListFragments calls for 250 fragments in pages of 40, want 7", n)
	}
	// A server-timestamp range in the middle.
	infos := srv.Fragments("cam")
	sel := kvsaws.FragmentSelector{FragmentSelectorType: kvsaws.ServerTimestamp, TimestampRange: kvsaws.TimestampRange{
		StartTimestamp: infos[10].ServerTimestamp, EndTimestamp: infos[19].ServerTimestamp,
	}}
	n := 0
	for f, err := range c.ListFragments(context.Background(), "cam", sel) {
		if err != nil || f.FragmentNumber != numbers[10+n] {
			t.Fatalf("fragment %d: %v %v", n, f.FragmentNumber, err)
		}
		n++
	}
	if n != 10 {
		t.Errorf("%d fragments in the server-timestamp range, want 10", n)
	}
	if n := srv.Requests(kvstest.GetDataEndpoint); n != 1 {
		t.Errorf("%d GetDataEndpoint calls, want 1 (cached)", n)
	}
}

// TestFetchRange fetches 2,500 fragments: three GetMediaForFragmentList
// batches, everything in order, no more connections than the concurrency,
// and a live heap that does not grow with the range.
func TestFetchRange(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, numbers := emulator(t, 2500)
	defer srv.Close() // before the leak check; Cleanup would run after it
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.Concurrency = 2 })
	i := 0
	var peak uint64
	for f, err := range c.FetchRange(context.Background(), "cam", allRange()) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Number != numbers[i] || f.Index != i || f.Err != nil || len(f.Frames) == 0 {
			t.Fatalf("fragment %d: number %s (want %s), err %v, %d frames", i, f.Number, numbers[i], f.Err, len(f.Frames))
		}
		if i%250 == 0 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		i++
	}
	if i != len(numbers) {
		t.Fatalf("%d fragments, want %d", i, len(numbers))
	}
	if n := srv.Requests(kvstest.GetMediaForFragmentList); n != 3 {
		t.Errorf("%d GetMediaForFragmentList calls, want 3 batches", n)
	}
	if n := srv.PeakConnections(kvstest.GetMediaForFragmentList); n > 2 {
		t.Errorf("%d bodies at once, concurrency 2", n)
	}
	if peak > 64<<20 {
		t.Errorf("live heap reached %d MiB while iterating", peak>>20)
	}
}

// TestMissingFragments asks for numbers the stream does not have: they
// arrive as error fragments, in place, and the rest as usual.
func TestMissingFragments(t *testing.T) {
	srv, numbers := emulator(t, 5)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ask := []tags.FragmentNumber{numbers[0], "12345", numbers[3], "99999999999999999999999999999999999999999999999"}
	i := 0
	for f, err := range c.GetFragments(context.Background(), "cam", ask) {
		if err != nil {
			t.Fatal(err)
		}
		missing := i == 1 || i == 3
		if f.Number != ask[i] || (f.Err != nil) != missing {
			t.Fatalf("fragment %d: %s err %v, asked %s", i, f.Number, f.Err, ask[i])
		}
		if missing && (f.Err.Code != "ResourceNotFoundException" || f.Err.FragmentNumber != f.Number) {
			t.Errorf("fragment %d: error %+v", i, f.Err)
		}
		i++
	}
	if i != len(ask) {
		t.Errorf("%d fragments, want %d", i, len(ask))
	}
}

// TestRetries checks that throttling and connection limits are retried
// until they pass, and a cut body is asked for again from where it broke.
func TestRetries(t *testing.T) {
	srv, numbers := emulator(t, 12)
	srv.Inject(kvstest.Throttled(kvstest.GetMediaForFragmentList, 2))
	srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.ListFragments}, Status: http.StatusInternalServerError, Type: "InternalFailure"})
	srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 3000})
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, Chunk: 501, Delay: 0})
	// One call at a time, so that the injected faults meet the calls in order.
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.BatchSize, o.Concurrency = 5, 1 })
	i := 0
	for f, err := range c.FetchRange(context.Background(), "cam", allRange()) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Number != numbers[i] {
			t.Fatalf("fragment %d is %s, want %s", i, f.Number, numbers[i])
		}
		i++
	}
	if i != len(numbers) {
		t.Fatalf("%d fragments, want %d", i, len(numbers))
	}
	// 3 batches, 2 throttled calls, 1 call again after the cut.
	if n := srv.Requests(kvstest.GetMediaForFragmentList); n != 6 {
		t.Errorf("%d GetMediaForFragmentList calls, want 6", n)
	}
	if n := srv.Requests(kvstest.GetDataEndpoint); n != 3 {
		t.Errorf("%d GetDataEndpoint calls, want 3 (one per API, then one after the server error)", n)
	}
}

// TestNotRetried checks that errors that are not retryable fail at once,
// typed, with the error type and the request id.
func TestNotRetried(t *testing.T) {
	srv, numbers := emulator(t, 3)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)

	// An unknown stream fails at GetDataEndpoint, in the SDK's client.
	// It matches ErrResourceNotFound as the data plane's errors do, and
	// stays the SDK's typed exception too.
	var api smithy.APIError
	for _, err := range c.GetFragments(context.Background(), "nope", numbers) {
		if !errors.As(err, &api) || api.ErrorCode() != kvsaws.CodeResourceNotFound {
			t.Fatalf("unknown stream: %v", err)
		}
		var e *kvsaws.APIError
		if !errors.As(err, &e) || e.Operation != "GetDataEndpoint" || e.StatusCode != http.StatusNotFound || e.RequestID == "" {
			t.Errorf("unknown stream: errors.As(*APIError) gives %#v", e)
		}
		var typed *kvtypes.ResourceNotFoundException
		if !errors.As(err, &typed) {
			t.Errorf("unknown stream: %v is not a *types.ResourceNotFoundException", err)
		}
		if !errors.Is(err, kvsaws.ErrResourceNotFound) || errors.Is(err, kvsaws.ErrNotAuthorized) {
			t.Errorf("unknown stream: errors.Is(ErrResourceNotFound) = %v, errors.Is(ErrNotAuthorized) = %v",
				errors.Is(err, kvsaws.ErrResourceNotFound), errors.Is(err, kvsaws.ErrNotAuthorized))
		}
	}
	sentinels := map[string]error{
		kvsaws.CodeResourceNotFound: kvsaws.ErrResourceNotFound,
		kvsaws.CodeNotAuthorized:    kvsaws.ErrNotAuthorized,
		kvsaws.CodeInvalidArgument:  kvsaws.ErrInvalidArgument,
	}
	for _, code := range []string{kvsaws.CodeResourceNotFound, kvsaws.CodeNotAuthorized, kvsaws.CodeInvalidArgument} {
		before := srv.Requests(kvstest.GetMediaForFragmentList)
		srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, Status: http.StatusBadRequest, Type: code})
		var got error
		for _, err := range c.GetFragments(context.Background(), "cam", numbers) {
			got = err
			break
		}
		var e *kvsaws.APIError
		if !errors.As(got, &e) || e.Code != code || e.RequestID == "" || e.Operation != "GetMediaForFragmentList" {
			t.Fatalf("%s: got %v", code, got)
		}
		for c, sentinel := range sentinels {
			if errors.Is(got, sentinel) != (c == code) {
				t.Errorf("%s: errors.Is(err, %v) = %v", code, sentinel, !(c == code))
			}
		}
		if !errors.Is(got, &kvsaws.CodeError{Code: code}) {
			t.Errorf("%s: errors.Is(err, &CodeError{%q}) = false", code, code)
		}
		if n := srv.Requests(kvstest.GetMediaForFragmentList) - before; n != 1 {
			t.Errorf("%s: %d calls, want 1", code, n)
		}
	}
}

// TestSignature checks that the emulator refuses requests signed with
// the wrong secret, as KVS does, and that the error is typed.
func TestSignature(t *testing.T) {
	srv, numbers := emulator(t, 2)
	cfg := srv.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(kvstest.AccessKeyID, "wrong", "")
	good := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ep, err := good.DataEndpoint(context.Background(), "cam", kvsaws.APIGetMediaForFragmentList)
	if err != nil {
		t.Fatal(err)
	}
	dp := kvsaws.NewHTTPDataPlane(cfg)
	_, err = dp.GetMediaForFragmentList(context.Background(), ep, &kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: numbers})
	var e *kvsaws.APIError
	if !errors.As(err, &e) || e.Code != "InvalidSignatureException" || e.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong secret: %v", err)
	}
	anon := kvsaws.NewHTTPDataPlane(aws.Config{Region: kvstest.Region, Credentials: aws.AnonymousCredentials{}})
	anon.HTTPClient = http.DefaultClient
	if _, err := anon.GetMedia(context.Background(), ep, &kvsaws.GetMediaInput{StreamName: "cam"}); err == nil {
		t.Error("an unsigned request passed")
	}
}

// TestFollowResumes follows a stream whose first GetMedia calls are
// throttled and whose bodies break off five times at random bytes: every
// fragment arrives exactly once, in order.
func TestFollowResumes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, numbers := emulator(t, 40)
	defer srv.Close() // before the leak check; Cleanup would run after it
	rng := rand.New(rand.NewPCG(7, 8))
	var cuts []int64
	for range 5 {
		cuts = append(cuts, 200+rng.Int64N(20000))
	}
	for _, at := range cuts {
		srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, At: at})
	}
	srv.Inject(kvstest.Throttled(kvstest.GetMedia, 2))
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	i := 0
	for f, err := range c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}) {
		if err != nil {
			t.Fatalf("after %d fragments: %v", i, err)
		}
		if f.Number != numbers[i] || f.Index != i || f.Partial || f.ContinuationToken != string(numbers[i]) {
			t.Fatalf("fragment %d: %s (want %s), partial %v, token %q", i, f.Number, numbers[i], f.Partial, f.ContinuationToken)
		}
		i++
		if i == len(numbers) {
			break
		}
	}
	if i != len(numbers) {
		t.Fatalf("%d fragments, want %d", i, len(numbers))
	}
	if n := srv.Requests(kvstest.GetMedia); n < 6 {
		t.Errorf("%d GetMedia calls, want at least 6 (five cuts)", n)
	}
}

// TestFollowCancel cancels a follow in the middle of a slow body, as
// Ctrl-C does: Follow and FollowFrames must end promptly, without an error
// and without yielding anything more, and leave no goroutine behind.
func TestFollowCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _ := emulator(t, 20)
	defer srv.Close() // before the leak check; Cleanup would run after it
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, Chunk: 64, Delay: 5 * time.Millisecond})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	follows := []struct {
		name   string
		follow func(context.Context) iter.Seq2[any, error]
	}{
		{"Follow", func(ctx context.Context) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				for f, err := range c.Follow(ctx, "cam", start) {
					if !yield(f, err) {
						return
					}
				}
			}
		}},
		{"FollowFrames", func(ctx context.Context) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				for ev, err := range c.FollowFrames(ctx, "cam", start) {
					if !yield(ev, err) {
						return
					}
				}
			}
		}},
	}
	for _, tt := range follows {
		ctx, cancel := context.WithCancel(context.Background())
		var at time.Time
		n := 0
		for _, err := range tt.follow(ctx) {
			if err != nil {
				t.Fatalf("%s: error %v after the cancel", tt.name, err)
			}
			if n++; n == 2 {
				t.Fatalf("%s: yielded after the cancel", tt.name)
			}
			at = time.Now()
			cancel()
		}
		cancel()
		if n != 1 {
			t.Fatalf("%s: %d items, want 1", tt.name, n)
		}
		if d := time.Since(at); d > 2*time.Second {
			t.Errorf("%s: returned %v after the cancel", tt.name, d)
		}
	}
}

// TestFollowStartSelectors starts GetMedia at each kind of selector.
func TestFollowStartSelectors(t *testing.T) {
	srv, numbers := emulator(t, 8)
	infos := srv.Fragments("cam")
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	tests := []struct {
		sel   kvsaws.StartSelector
		first int
	}{
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}, 0},
		// "AfterFragmentNumber: Specifies the fragment number from where you
		// want the GetMedia API to start returning the fragments": the
		// chunk after it, as AWS's ContinuousGetMediaWorker resumes.
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtFragmentNumber, AfterFragmentNumber: numbers[3]}, 4},
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtContinuationToken, ContinuationToken: string(numbers[3])}, 4},
		// "If you choose the PRODUCER_TIMESTAMP or the SERVER_TIMESTAMP as
		// the startSelectorType, you provide the start timestamp ... the
		// API starts with the chunk containing the fragment that has the
		// specified timestamp."
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtProducerTimestamp, StartTimestamp: infos[5].ProducerTimestamp}, 5},
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtProducerTimestamp, StartTimestamp: tags.FromTime(infos[5].ProducerTimestamp.Time().Add(50 * time.Millisecond))}, 5},
		{kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtServerTimestamp, StartTimestamp: infos[6].ServerTimestamp}, 6},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithCancel(context.Background())
		for f, err := range c.Follow(ctx, "cam", tt.sel) {
			if err != nil || f.Number != numbers[tt.first] {
				t.Errorf("%s: first fragment %s, %v; want %s", tt.sel.StartSelectorType, f.Number, err, numbers[tt.first])
			}
			break
		}
		cancel()
	}
}

// TestEndpointRefresh checks that an endpoint older than EndpointTTL is
// resolved again.
func TestEndpointRefresh(t *testing.T) {
	srv, _ := emulator(t, 1)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.EndpointTTL = 30 * time.Millisecond })
	for range 2 {
		if _, err := c.DataEndpoint(context.Background(), "cam", kvsaws.APIGetMedia); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := c.DataEndpoint(context.Background(), "cam", kvsaws.APIGetMedia); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(kvstest.GetDataEndpoint); n != 2 {
		t.Errorf("%d GetDataEndpoint calls, want 2 (cached, then expired)", n)
	}
}

// TestFollowReadTimeout follows a stream whose bodies stall: each stalled
// body is given up after ReadTimeout and GetMedia resumes after the last
// fragment delivered.
func TestFollowReadTimeout(t *testing.T) {
	srv, numbers := emulator(t, 6)
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, Chunk: 3000, Delay: 400 * time.Millisecond})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.ReadTimeout = 100 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	i := 0
	for f, err := range c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}) {
		if err != nil {
			t.Fatalf("after %d fragments: %v", i, err)
		}
		if f.Number != numbers[i] {
			t.Fatalf("fragment %d is %s, want %s", i, f.Number, numbers[i])
		}
		if i++; i == len(numbers) {
			break
		}
	}
	if n := srv.Requests(kvstest.GetMedia); n < 2 {
		t.Errorf("%d GetMedia calls: no stalled body was given up", n)
	}
}

// TestStopEarly stops iterating while batches are open: their bodies are
// closed and no goroutine is left.
func TestStopEarly(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, numbers := emulator(t, 40)
	defer srv.Close() // before the leak check
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.BatchSize, o.Concurrency = 5, 3 })
	n := 0
	for _, err := range c.GetFragments(context.Background(), "cam", numbers) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 7 {
			break
		}
	}
}

// TestFragmentLimit checks the emulator's 1000-fragment limit and the
// client's batching under it.
func TestFragmentLimit(t *testing.T) {
	srv, numbers := emulator(t, 3)
	ep := srv.URL()
	many := make([]tags.FragmentNumber, 1001)
	for i := range many {
		many[i] = numbers[i%len(numbers)]
	}
	_, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMediaForFragmentList(context.Background(), ep, &kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: many})
	var e *kvsaws.APIError
	if !errors.As(err, &e) || e.Code != kvsaws.CodeInvalidArgument {
		t.Fatalf("1001 fragments: %v", err)
	}
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	got := 0
	for _, err := range c.GetFragments(context.Background(), "cam", many) {
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != len(many) || srv.Requests(kvstest.GetMediaForFragmentList) != 3 {
		t.Errorf("%d fragments in %d calls, want 1001 in 2 (and the refused one)", got, srv.Requests(kvstest.GetMediaForFragmentList))
	}
}
