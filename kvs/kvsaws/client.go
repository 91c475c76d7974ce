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
	// Region, Credentials and HTTPClient are the aws.Config's. With no
	// HTTPClient, or the SDK's own (*awshttp.BuildableClient, which
	// config.LoadDefaultConfig gives), the Client uses a transport made
	// for many long-lived streams to the same data endpoint: every
	// follow's connection is kept for its next GetMedia session (up to
	// MaxIdleConnsPerHost, see FleetTransport), and the number of
	// connections to a host is not capped. Another client is used as it
	// is.
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
	endpoints map[endpointKey]endpoint
	// resolving holds the GetDataEndpoint calls in flight, one per
	// stream and API: concurrent calls for the same key wait for it,
	// calls for other streams do not.
	resolving map[endpointKey]*resolution
}

// resolution is a GetDataEndpoint call in flight; done is closed when
// url and err are set.
type resolution struct {
	done chan struct{}
	url  string
	err  error
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
	o.HTTPClient = fleetClient(o.HTTPClient)
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
	return &Client{opts: o, endpoints: map[endpointKey]endpoint{}, resolving: map[endpointKey]*resolution{}}
}

// MaxIdleConnsPerHost is the number of idle connections per host the
// Client's HTTP transport keeps (see Options.HTTPClient). A follow holds one
// connection and gives it back between GetMedia sessions; with net/http's
// default of 2 (the SDK's: 10), a fleet of follows to one data endpoint
// would close almost every connection a session ends and open a new one
// (a TLS handshake) for the next.
const MaxIdleConnsPerHost = 1 << 14

// FleetTransport sets t up for many long-lived streams to one host: up to
// MaxIdleConnsPerHost idle connections per host and in all, no cap on the
// connections to a host (the SDK's default, 2,048, would make the follows
// past it wait for a connection for as long as the others last), and a
// write buffer of 1 KiB per connection, which holds a signed KVS request
// (net/http's default is 4 KiB: a connection writes a request per GetMedia
// session and reads the rest of its life).
func FleetTransport(t *http.Transport) {
	t.MaxIdleConns = max(t.MaxIdleConns, MaxIdleConnsPerHost)
	t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, MaxIdleConnsPerHost)
	t.MaxConnsPerHost = 0
	t.WriteBufferSize = 1 << 10
}

// defaultHTTPClient is the HTTP client of Clients given none: one for the
// process, so that their connections are shared.
var defaultHTTPClient = sync.OnceValue(func() aws.HTTPClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	FleetTransport(t)
	return &http.Client{Transport: t}
})

// fleetClient returns the HTTP client a Client uses for c (see
// Options.HTTPClient).
func fleetClient(c aws.HTTPClient) aws.HTTPClient {
	switch c := c.(type) {
	case nil:
		return defaultHTTPClient()
	case *awshttp.BuildableClient:
		return c.WithTransportOptions(FleetTransport)
	}
	return c
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
	// One resolution per stream and API at a time, so that concurrent
	// calls for the same stream make one GetDataEndpoint call, and a
	// fleet of streams resolves its endpoints side by side.
	for {
		c.mu.Lock()
		if e, ok := c.endpoints[key]; ok && time.Since(e.fetched) < c.opts.EndpointTTL {
			c.mu.Unlock()
			return e.url, nil
		}
		r, waiting := c.resolving[key]
		if !waiting {
			r = &resolution{done: make(chan struct{})}
			c.resolving[key] = r
		}
		c.mu.Unlock()
		if !waiting {
			r.url, r.err = c.resolve(ctx, stream, api)
			c.mu.Lock()
			if r.err == nil {
				c.endpoints[key] = endpoint{r.url, time.Now()}
			}
			delete(c.resolving, key)
			c.mu.Unlock()
			close(r.done)
			return r.url, r.err
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		// A resolution that the end of its caller's context stopped is
		// no answer for another caller: that one resolves again.
		if r.err == nil || !errors.Is(r.err, context.Canceled) && !errors.Is(r.err, context.DeadlineExceeded) {
			return r.url, r.err
		}
	}
}

// resolve calls GetDataEndpoint.
func (c *Client) resolve(ctx context.Context, stream string, api APIName) (string, error) {
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
	return *out.DataEndpoint, nil
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
