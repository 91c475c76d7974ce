package kvsaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	kvtypes "github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"

	"github.com/aws/smithy-go"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/tags"
)

// EndpointResolver resolves the data endpoint of a stream and API with
// GetDataEndpoint. *kinesisvideo.Client implements it.
type EndpointResolver interface {
	GetDataEndpoint(ctx context.Context, in *kinesisvideo.GetDataEndpointInput, optFns ...func(*kinesisvideo.Options)) (*kinesisvideo.GetDataEndpointOutput, error)
}

// Options configure a Client. NewFromConfig fills them from an aws.Config;
// the functions given to it may change any of them.
type Options struct {
	// Region, Credentials and HTTPClient are the aws.Config's.
	Region      string
	Credentials aws.CredentialsProvider
	HTTPClient  aws.HTTPClient
	// BaseEndpoint overrides the control-plane endpoint GetDataEndpoint is
	// called on (the aws.Config's BaseEndpoint, as AWS_ENDPOINT_URL sets
	// it), for an emulator.
	BaseEndpoint *string
	// EndpointResolver resolves data endpoints; by default a kinesisvideo
	// client made from the options above.
	EndpointResolver EndpointResolver
	// DataPlane makes the media calls; by default an HTTPDataPlane made
	// from the options above.
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
	// FollowInterval is the least time between two GetMedia calls of one
	// follow (default 250 ms), under KVS's limit of 5 calls a second per
	// stream with a margin.
	FollowInterval time.Duration
	// FollowIdleWait is the wait after a GetMedia session that brought
	// nothing new (default 500 ms); it doubles with every such session in
	// a row, up to FollowMaxIdleWait (default 5 s).
	FollowIdleWait, FollowMaxIdleWait time.Duration
	// ReaderOptions are passed to the kvs.Reader of every response body.
	ReaderOptions []kvs.Option
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

type endpointKey struct {
	stream string
	api    APIName
}

type endpoint struct {
	url     string
	fetched time.Time
}

// NewFromConfig returns a Client built from an aws.Config (credentials,
// region, HTTP client, base endpoint), as the SDK's clients are.
func NewFromConfig(cfg aws.Config, optFns ...func(*Options)) *Client {
	o := Options{
		Region: cfg.Region, Credentials: cfg.Credentials, HTTPClient: cfg.HTTPClient, BaseEndpoint: cfg.BaseEndpoint,
		EndpointTTL: 30 * time.Minute, BatchSize: 1000, Concurrency: 3, ReadTimeout: 20 * time.Second,
		FollowInterval: 250 * time.Millisecond, FollowIdleWait: 500 * time.Millisecond, FollowMaxIdleWait: 5 * time.Second,
	}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.EndpointResolver == nil {
		o.EndpointResolver = kinesisvideo.NewFromConfig(cfg, func(k *kinesisvideo.Options) {
			k.Region, k.Credentials, k.HTTPClient, k.BaseEndpoint = o.Region, o.Credentials, o.HTTPClient, o.BaseEndpoint
		})
	}
	if o.DataPlane == nil {
		o.DataPlane = NewHTTPDataPlane(aws.Config{Region: o.Region, Credentials: o.Credentials, HTTPClient: o.HTTPClient})
	}
	if o.BatchSize <= 0 || o.BatchSize > 1000 {
		o.BatchSize = 1000
	}
	o.Concurrency = max(o.Concurrency, 1)
	o.FollowIdleWait = max(o.FollowIdleWait, time.Millisecond)
	o.FollowMaxIdleWait = max(o.FollowMaxIdleWait, o.FollowIdleWait)
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
			CodeClientLimitExceeded: {}, CodeConnectionLimitExceeded: {},
		}})
	})
}

// validStream refuses an empty stream identifier.
func validStream(stream string) error {
	if stream == "" {
		return fmt.Errorf("%w: no stream name or ARN", ErrInvalidInput)
	}
	return nil
}

// streamInput splits a stream's identifier into a name or an ARN.
func streamInput(stream string) (name, arn string) {
	if strings.HasPrefix(stream, "arn:") {
		return "", stream
	}
	return stream, ""
}

// DataEndpoint returns the data endpoint of stream for api, from the cache
// when it is fresh.
func (c *Client) DataEndpoint(ctx context.Context, stream string, api APIName) (string, error) {
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
	out, err := c.opts.EndpointResolver.GetDataEndpoint(ctx, in)
	if err != nil {
		return "", asAPIError("GetDataEndpoint", err)
	}
	if out.DataEndpoint == nil || *out.DataEndpoint == "" {
		return "", errors.New("kvsaws: GetDataEndpoint returned no endpoint")
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
func (c *Client) forget(stream string, api APIName) {
	c.mu.Lock()
	delete(c.endpoints, endpointKey{stream, api})
	c.mu.Unlock()
}

// call runs fn on the data endpoint of stream for api, retrying what the
// retryer says is retryable, after the delay it says. An endpoint that
// fails is resolved again; InvalidEndpointException, which the service
// documents as "call GetDataEndpoint again", is retried at once with a
// fresh endpoint, within the same number of attempts.
func (c *Client) call(ctx context.Context, stream string, api APIName, fn func(endpoint string) error) error {
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
		if attempt >= c.opts.Retryer.MaxAttempts() {
			return err
		}
		if isInvalidEndpoint(err) {
			continue
		}
		if !c.opts.Retryer.IsErrorRetryable(err) {
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
	return sleep(ctx, d)
}

// asAPIError wraps an error response the SDK's client returned in an
// *APIError, so that the ErrResourceNotFound... values match it as they
// match the data plane's; the SDK's own error stays reachable through
// Unwrap (errors.As to *types.ResourceNotFoundException still works).
func asAPIError(op string, err error) error {
	var api *APIError
	var se smithy.APIError
	if errors.As(err, &api) || !errors.As(err, &se) {
		return err
	}
	e := &APIError{Operation: op, Code: se.ErrorCode(), Message: se.ErrorMessage(), Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.StatusCode, e.RequestID = re.HTTPStatusCode(), re.ServiceRequestID()
	}
	return e
}

// endpointFailed tells whether an error may come from a stale endpoint: a
// connection failure, a server error or InvalidEndpoint.
func endpointFailed(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.StatusCode >= 500 || api.Code == CodeInvalidEndpoint
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isInvalidEndpoint tells whether err is InvalidEndpointException.
func isInvalidEndpoint(err error) bool {
	var api *APIError
	return errors.As(err, &api) && api.Code == CodeInvalidEndpoint
}

// ListFragments lists the fragments of stream in a time range, all pages,
// ordered by producer timestamp and then by fragment number compared
// numerically (KVS returns them in no particular order). A selector
// without a type or a time range fails with ErrInvalidInput.
func (c *Client) ListFragments(ctx context.Context, stream string, sel FragmentSelector) iter.Seq2[FragmentInfo, error] {
	return func(yield func(FragmentInfo, error) bool) {
		if err := validStream(stream); err != nil {
			yield(FragmentInfo{}, err)
			return
		}
		if err := sel.validate(); err != nil {
			yield(FragmentInfo{}, err)
			return
		}
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
		if c := a.ProducerTimestamp.Compare(b.ProducerTimestamp); c != 0 {
			return c
		}
		return a.FragmentNumber.Compare(b.FragmentNumber)
	})
}

// FetchRange lists the fragments of stream in a time range and fetches
// them, in order: ListFragments then GetFragments. Frame bytes are lent,
// as GetFragments lends them.
func (c *Client) FetchRange(ctx context.Context, stream string, sel FragmentSelector) iter.Seq2[*kvs.Fragment, error] {
	return func(yield func(*kvs.Fragment, error) bool) {
		var numbers []tags.FragmentNumber
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
