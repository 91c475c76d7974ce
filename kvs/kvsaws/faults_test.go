package kvsaws_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// The tests of this file check the client against the emulator's faults:
// what a flaky link or a broken fragment does to a real KVS consumer.

var earliest = kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}

// TestFollowCorruptEveryTime serves fragment 5 with a corrupt Cluster ID
// every time: the follow delivers 0-4 and ends with a *FollowError after
// MaxFailures GetMedia calls; with SkipFailing it delivers fragment 5 cut
// short, marked Partial, and goes on to the end.
func TestFollowCorruptEveryTime(t *testing.T) {
	srv, numbers := emulator(t, 8)
	srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, Scope: kvstest.Scope{API: kvstest.GetMedia, Stream: "cam", Fragment: numbers[5]}, At: awstest.ClusterOffset(t, srv.Config(), srv.URL(), "cam", numbers[4]), EveryTime: true})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	calls := srv.Requests(kvstest.GetMedia)
	n := 0
	var ferr *kvsaws.FollowError
	for f, err := range c.Follow(context.Background(), "cam", earliest, func(o *kvsaws.FollowOptions) { o.MaxFailures = 3 }) {
		if err != nil {
			if !errors.As(err, &ferr) {
				t.Fatalf("after %d fragments: %v, want a *FollowError", n, err)
			}
			break
		}
		if f.Number != numbers[n] || f.Partial {
			t.Fatalf("fragment %d: %s, partial %v", n, f.Number, f.Partial)
		}
		n++
	}
	var se *mkv.SyntaxError
	if n != 5 || ferr == nil || ferr.Fragment != numbers[5] || ferr.Failures != 3 || !errors.As(ferr, &se) {
		t.Fatalf("%d fragments, error %+v", n, ferr)
	}
	if calls = srv.Requests(kvstest.GetMedia) - calls; calls != 3 {
		t.Errorf("%d GetMedia calls, want 3 (MaxFailures)", calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	for f, err := range c.Follow(ctx, "cam", earliest, func(o *kvsaws.FollowOptions) { o.MaxFailures, o.SkipFailing = 2, true }) {
		if err != nil {
			t.Fatalf("after %d fragments: %v", n, err)
		}
		if f.Number != numbers[n] || f.Partial != (n == 5) || f.Index != n {
			t.Fatalf("fragment %d: %s, partial %v, index %d", n, f.Number, f.Partial, f.Index)
		}
		if n++; n == len(numbers) {
			break
		}
	}
}

// TestGetFragmentsManyCuts cuts the body of one 1,000-fragment batch 50
// times at random offsets: every fragment arrives, in order, once, and
// every cut was served.
func TestGetFragmentsManyCuts(t *testing.T) {
	srv, numbers := emulator(t, 1000)
	var size int64
	for _, f := range srv.Fragments("cam") {
		size += f.FragmentSizeInBytes
	}
	// Cuts that add up to less than the batch, so that each falls inside
	// the rest of the batch that its retry asks for.
	rng := rand.New(rand.NewPCG(18, 50))
	var cuts []int64
	for range 50 {
		cuts = append(cuts, 1+rng.Int64N(size/60))
	}
	for _, at := range cuts {
		srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: at})
	}
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	i := 0
	for f, err := range c.GetFragments(context.Background(), "cam", numbers) {
		if err != nil {
			t.Fatalf("after %d fragments: %v", i, err)
		}
		if i >= len(numbers) || f.Number != numbers[i] || f.Partial {
			t.Fatalf("fragment %d: %s, partial %v", i, f.Number, f.Partial)
		}
		i++
	}
	if i != len(numbers) {
		t.Fatalf("%d fragments, want %d", i, len(numbers))
	}
	if n := srv.Requests(kvstest.GetMediaForFragmentList); n != 51 {
		t.Errorf("%d GetMediaForFragmentList calls, want 51: one, and one after each cut", n)
	}
}

// TestFollowErrorUnit serves fragment 2 of GetMedia as an in-band error
// unit: the follow delivers it as a fragment with Err set, and goes on.
func TestFollowErrorUnit(t *testing.T) {
	srv, numbers := emulator(t, 6)
	srv.Inject(kvstest.Fault{Kind: kvstest.InBandError, Scope: kvstest.Scope{Stream: "cam", Fragment: numbers[2]}, Unit: kvsgen.ErrorUnit{Code: "KMS_KEY_DISABLED", ID: 4501}})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for f, err := range c.Follow(ctx, "cam", earliest) {
		if err != nil {
			t.Fatalf("after %d fragments: %v", n, err)
		}
		if f.Number != numbers[n] || (f.Err != nil) != (n == 2) {
			t.Fatalf("fragment %d: %s, error %v", n, f.Number, f.Err)
		}
		if n == 2 && (f.Err.ID != 4501 || f.Err.Code != "KMS_KEY_DISABLED") {
			t.Errorf("error unit: %+v", f.Err)
		}
		if n++; n == len(numbers) {
			break
		}
	}
}

// unitEnds returns the offsets at which the units of a clean media body
// end.
func unitEnds(t *testing.T, body io.ReadCloser) []int64 {
	t.Helper()
	defer body.Close()
	var ends []int64
	for f, err := range kvs.NewReader(body).All() {
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, f.Offset+f.Size)
	}
	return ends
}

// TestEndsEarly ends bodies cleanly but early, at a unit's end and inside
// the next unit: the follow and the batch read resume where the body
// ended, losing nothing and repeating nothing.
func TestEndsEarly(t *testing.T) {
	srv, numbers := emulator(t, 8)
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	list, err := dp.GetMediaForFragmentList(context.Background(), srv.URL(), &kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: numbers})
	if err != nil {
		t.Fatal(err)
	}
	media, err := dp.GetMedia(context.Background(), srv.URL(), &kvsaws.GetMediaInput{StreamName: "cam", StartSelector: earliest})
	if err != nil {
		t.Fatal(err)
	}
	listEnd, mediaEnd := unitEnds(t, list.Payload)[1], unitEnds(t, media.Payload)[1]
	tests := []struct {
		name           string
		list, getMedia int64
	}{
		{"at a unit's end", listEnd, mediaEnd},
		{"inside a unit", listEnd + 40, mediaEnd + 40},
	}
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	check := func(t *testing.T, what string, frags func(yield func(*kvs.Fragment, error) bool)) {
		n := 0
		for f, err := range frags {
			if err != nil {
				t.Fatalf("%s, after %d fragments: %v", what, n, err)
			}
			if f.Number != numbers[n] || f.Partial {
				t.Fatalf("%s, fragment %d: %s, partial %v", what, n, f.Number, f.Partial)
			}
			if n++; n == len(numbers) {
				break
			}
		}
		if n != len(numbers) {
			t.Errorf("%s: %d fragments, want %d", what, n, len(numbers))
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := srv.Requests(kvstest.GetMediaForFragmentList)
			srv.Inject(kvstest.Fault{Kind: kvstest.EndBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: tt.list})
			check(t, "GetFragments", c.GetFragments(context.Background(), "cam", numbers))
			if calls = srv.Requests(kvstest.GetMediaForFragmentList) - calls; calls != 2 {
				t.Errorf("%d GetMediaForFragmentList calls, want 2", calls)
			}
			calls = srv.Requests(kvstest.GetMedia)
			srv.Inject(kvstest.Fault{Kind: kvstest.EndBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, At: tt.getMedia})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			check(t, "Follow", c.Follow(ctx, "cam", earliest))
			if calls = srv.Requests(kvstest.GetMedia) - calls; calls != 2 {
				t.Errorf("%d GetMedia calls, want 2", calls)
			}
		})
	}
}

// TestIdleFollowUnderLimit follows a static stream with the default
// options while the emulator enforces KVS's limits: once the stream's
// fragments are delivered, the follow calls GetMedia fewer than 5 times a
// second.
func TestIdleFollowUnderLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s")
	}
	srv, numbers := emulator(t, 3)
	srv.EnforceKVSLimits()
	c := kvsaws.NewFromConfig(srv.Config())
	const window = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	began := time.Now()
	n := 0
	for f, err := range c.Follow(ctx, "cam", earliest) {
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("idle follow: %v", err)
			}
			break
		}
		if f.Number != numbers[n] {
			t.Fatalf("fragment %d: %s", n, f.Number)
		}
		n++
	}
	elapsed := time.Since(began)
	calls := srv.Requests(kvstest.GetMedia)
	t.Logf("%d GetMedia calls in %v", calls, elapsed)
	if n != len(numbers) {
		t.Errorf("%d fragments, want %d", n, len(numbers))
	}
	if rate := float64(calls) / elapsed.Seconds(); rate >= 5 {
		t.Errorf("%d GetMedia calls in %v: %.1f a second, want under 5", calls, elapsed, rate)
	}
}
