package kvs

import (
	"context"
	"errors"
	"io"
	"iter"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	kvtypes "github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"

	"github.com/kvsmkv/kvsmkv/tags"
)

// ControlPlane resolves data endpoints. *kinesisvideo.Client implements it.
type ControlPlane interface {
	GetDataEndpoint(ctx context.Context, in *kinesisvideo.GetDataEndpointInput, optFns ...func(*kinesisvideo.Options)) (*kinesisvideo.GetDataEndpointOutput, error)
}

// Options configure a Client.
type Options struct {
	// ControlPlane resolves data endpoints; by default a kinesisvideo
	// client made from the aws.Config.
	ControlPlane ControlPlane
	// DataPlane makes the media calls; by default an HTTPDataPlane made
	// from the aws.Config.
	DataPlane DataPlane
	// EndpointTTL is how long a data endpoint is used before it is
	// resolved again (default 30 minutes). An endpoint that fails is
	// resolved again at once.
	EndpointTTL time.Duration
	// BatchSize is the number of fragments per GetMediaForFragmentList
	// call: at most 1000, the API's limit (default 1000).
	BatchSize int
	// Concurrency is the number of GetMediaForFragmentList calls open at
	// once (default 3; KVS allows 5 connections and 5 calls a second per
	// stream). Bodies are read one after the other, in request order.
	Concurrency int
	// Retryer decides which errors are retried, how often and after what
	// delay. The default is the SDK's standard retryer (capped exponential
	// backoff with jitter, no client-side rate limit) that also retries
	// ClientLimitExceeded and ConnectionLimitExceeded; it never retries
	// ResourceNotFound, InvalidArgument or NotAuthorized.
	Retryer aws.Retryer
	// ReadTimeout ends a GetMedia or GetMediaForFragmentList body that
	// brings no byte for that long (default 20 seconds); GetMedia then
	// resumes.
	ReadTimeout time.Duration
	// ReaderOptions are passed to the Reader of every response body.
	ReaderOptions []Option
}

// Client reads KVS streams: data endpoints resolved and cached per stream
// and API, ListFragments paged and ordered, GetMediaForFragmentList batched,
// GetMedia followed and resumed, errors retried as they should be.
type Client struct {
	opts Options

	mu        sync.Mutex
	resolving sync.Mutex
	endpoints map[endpointKey]endpoint
}

type endpointKey struct{ stream, api string }

type endpoint struct {
	url     string
	fetched time.Time
}

// New returns a Client built from an aws.Config (credentials, region, HTTP
// client), as the SDK's clients are.
func New(cfg aws.Config, optFns ...func(*Options)) *Client {
	o := Options{EndpointTTL: 30 * time.Minute, BatchSize: 1000, Concurrency: 3, ReadTimeout: 20 * time.Second}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.ControlPlane == nil {
		o.ControlPlane = kinesisvideo.NewFromConfig(cfg)
	}
	if o.DataPlane == nil {
		o.DataPlane = NewHTTPDataPlane(cfg)
	}
	if o.BatchSize <= 0 || o.BatchSize > 1000 {
		o.BatchSize = 1000
	}
	o.Concurrency = max(o.Concurrency, 1)
	if o.Retryer == nil {
		o.Retryer = DefaultRetryer()
	}
	return &Client{opts: o, endpoints: map[endpointKey]endpoint{}}
}

// DefaultRetryer returns the retryer a Client uses by default.
func DefaultRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 8
		o.MaxBackoff = 20 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{
			ErrClientLimitExceeded: {}, ErrConnectionLimitExceeded: {},
		}})
	})
}

// streamInput splits a stream's identifier into a name or an ARN.
func streamInput(stream string) (name, arn string) {
	if strings.HasPrefix(stream, "arn:") {
		return "", stream
	}
	return stream, ""
}

// DataEndpoint returns the data endpoint of stream for api (APIGetMedia,
// ...), from the cache when it is fresh.
func (c *Client) DataEndpoint(ctx context.Context, stream, api string) (string, error) {
	key := endpointKey{stream, api}
	if url, ok := c.cached(key); ok {
		return url, nil
	}
	// One resolution at a time, so that concurrent calls for the same
	// stream and API make one GetDataEndpoint call, not several.
	c.resolving.Lock()
	defer c.resolving.Unlock()
	if url, ok := c.cached(key); ok {
		return url, nil
	}
	name, arn := streamInput(stream)
	in := &kinesisvideo.GetDataEndpointInput{APIName: kvtypes.APIName(api)}
	if name != "" {
		in.StreamName = &name
	} else {
		in.StreamARN = &arn
	}
	out, err := c.opts.ControlPlane.GetDataEndpoint(ctx, in)
	if err != nil {
		return "", err
	}
	if out.DataEndpoint == nil || *out.DataEndpoint == "" {
		return "", errors.New("kvs: GetDataEndpoint returned no endpoint")
	}
	c.mu.Lock()
	c.endpoints[key] = endpoint{*out.DataEndpoint, time.Now()}
	c.mu.Unlock()
	return *out.DataEndpoint, nil
}

func (c *Client) cached(key endpointKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.endpoints[key]
	return e.url, ok && time.Since(e.fetched) < c.opts.EndpointTTL
}

// forget drops a cached endpoint that failed.
func (c *Client) forget(stream, api string) {
	c.mu.Lock()
	delete(c.endpoints, endpointKey{stream, api})
	c.mu.Unlock()
}

// call runs fn on the data endpoint of stream for api, retrying what the
// retryer says is retryable, after the delay it says.
func (c *Client) call(ctx context.Context, stream, api string, fn func(endpoint string) error) error {
	for attempt := 1; ; attempt++ {
		ep, err := c.DataEndpoint(ctx, stream, api)
		if err == nil {
			err = fn(ep)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if endpointFailed(err) {
			c.forget(stream, api)
		}
		if attempt >= c.opts.Retryer.MaxAttempts() || !c.opts.Retryer.IsErrorRetryable(err) {
			return err
		}
		if err := c.wait(ctx, attempt, err); err != nil {
			return err
		}
	}
}

// wait sleeps the retryer's delay after a failed attempt, or until ctx ends.
func (c *Client) wait(ctx context.Context, attempt int, cause error) error {
	d, err := c.opts.Retryer.RetryDelay(attempt, cause)
	if err != nil {
		return cause
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endpointFailed tells whether an error may come from a stale endpoint: a
// connection failure, a server error or InvalidEndpoint.
func endpointFailed(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.StatusCode >= 500 || api.Code == ErrInvalidEndpoint
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// ListFragments lists the fragments of stream in a time range, all pages,
// ordered by producer timestamp and then by fragment number compared
// numerically (KVS returns them in no particular order).
func (c *Client) ListFragments(ctx context.Context, stream string, sel FragmentSelector) iter.Seq2[FragmentInfo, error] {
	return func(yield func(FragmentInfo, error) bool) {
		var all []FragmentInfo
		name, arn := streamInput(stream)
		in := ListFragmentsInput{StreamName: name, StreamARN: arn, MaxResults: 1000, FragmentSelector: &sel}
		for {
			var out *ListFragmentsOutput
			err := c.call(ctx, stream, APIListFragments, func(ep string) error {
				var err error
				out, err = c.opts.DataPlane.ListFragments(ctx, ep, &in)
				return err
			})
			if err != nil {
				yield(FragmentInfo{}, err)
				return
			}
			all = append(all, out.Fragments...)
			if out.NextToken == "" {
				break
			}
			in.NextToken = out.NextToken
		}
		SortFragments(all)
		for _, f := range all {
			if !yield(f, nil) {
				return
			}
		}
	}
}

// SortFragments orders fragments by producer timestamp, then by fragment
// number compared numerically.
func SortFragments(fs []FragmentInfo) {
	slices.SortStableFunc(fs, func(a, b FragmentInfo) int {
		if c := a.ProducerTimestamp.Compare(b.ProducerTimestamp.Time); c != 0 {
			return c
		}
		return tags.FragmentNumber(a.FragmentNumber).Compare(tags.FragmentNumber(b.FragmentNumber))
	})
}

// FetchRange lists the fragments of stream in a time range and fetches
// them, in order: ListFragments then GetFragments.
func (c *Client) FetchRange(ctx context.Context, stream string, sel FragmentSelector) iter.Seq2[*Fragment, error] {
	return func(yield func(*Fragment, error) bool) {
		var numbers []string
		for f, err := range c.ListFragments(ctx, stream, sel) {
			if err != nil {
				yield(nil, err)
				return
			}
			numbers = append(numbers, f.FragmentNumber)
		}
		for f, err := range c.GetFragments(ctx, stream, numbers) {
			if !yield(f, err) || err != nil {
				return
			}
		}
	}
}
