package kvsaws_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// gate is an EndpointResolver whose calls wait until every stream in want
// has called: calls for different streams must be in flight together.
type gate struct {
	mu     sync.Mutex
	calls  map[string]int
	all    chan struct{}
	want   int
	closed bool
}

func (g *gate) GetDataEndpoint(ctx context.Context, in *kinesisvideo.GetDataEndpointInput, _ ...func(*kinesisvideo.Options)) (*kinesisvideo.GetDataEndpointOutput, error) {
	g.mu.Lock()
	g.calls[*in.StreamName]++
	if len(g.calls) == g.want && !g.closed {
		close(g.all)
		g.closed = true
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &kinesisvideo.GetDataEndpointOutput{DataEndpoint: aws.String("https://" + *in.StreamName)}, nil
}

// TestDataEndpointPerStream resolves the endpoints of many streams at once,
// each asked for by several callers: the streams' GetDataEndpoint calls are
// in flight together (the resolver lets none return before all have
// begun), and each stream is resolved once.
func TestDataEndpointPerStream(t *testing.T) {
	const streams, callers = 20, 3
	g := &gate{calls: map[string]int{}, all: make(chan struct{}), want: streams}
	c := kvsaws.NewFromConfig(aws.Config{}, fastRetries, func(o *kvsaws.Options) { o.EndpointResolver = g })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, streams*callers)
	for i := range streams * callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := "cam-" + string(rune('a'+i%streams))
			url, err := c.DataEndpoint(ctx, stream, kvsaws.APIGetMedia)
			if err == nil && url != "https://"+stream {
				t.Errorf("DataEndpoint(%s) = %s", stream, url)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("DataEndpoint: %v (one stream's resolution waited for another's)", err)
		}
	}
	for stream, n := range g.calls {
		if n != 1 {
			t.Errorf("%s resolved %d times, want once", stream, n)
		}
	}
}

// TestFleetTransport sets a transport up for a fleet of follows.
func TestFleetTransport(t *testing.T) {
	var tuned http.Transport
	kvsaws.FleetTransport(&tuned)
	if tuned.MaxIdleConnsPerHost != kvsaws.MaxIdleConnsPerHost || tuned.MaxIdleConns < kvsaws.MaxIdleConnsPerHost || tuned.MaxConnsPerHost != 0 {
		t.Errorf("FleetTransport: MaxIdleConnsPerHost %d, MaxIdleConns %d, MaxConnsPerHost %d; want %d, at least that, 0",
			tuned.MaxIdleConnsPerHost, tuned.MaxIdleConns, tuned.MaxConnsPerHost, kvsaws.MaxIdleConnsPerHost)
	}
}

// TestFollowReadTimeoutPerRead follows a body that never stalls for long
// but lasts many read timeouts: the timeout counts from each read, so the
// one session reads it all.
func TestFollowReadTimeoutPerRead(t *testing.T) {
	srv, numbers := emulator(t, 30)
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia}, Chunk: 200, Delay: 10 * time.Millisecond})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries, func(o *kvsaws.Options) { o.ReadTimeout = 500 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	began, i := time.Now(), 0
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
	if took := time.Since(began); took < time.Second {
		t.Skipf("the body took %v, not several read timeouts: nothing to check", took)
	}
	if n := srv.Requests(kvstest.GetMedia); n != 1 {
		t.Errorf("%d GetMedia calls, want 1: a body read every 10 ms was given up", n)
	}
}
