package kvsaws

import (
	"context"
	"errors"
	"iter"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Follow reads stream with GetMedia from start and yields its fragments as
// they come, for as long as ctx lasts. When a GetMedia body ends, idles past
// Options.ReadTimeout or breaks off, Follow calls GetMedia again from the
// last continuation token (or from start, before the first), so that no
// fragment is lost; a fragment is never delivered twice, nor one that was
// cut off. Throttling, connection limits and server errors are retried with
// backoff for as long as they last; an error that is not retryable
// (ResourceNotFound, NotAuthorized, ...) ends the iteration, and so does the
// end of ctx, with ctx's error. In-band
// errors arrive as fragments with Err set. Fragments are numbered by Index
// from 0 across sessions; Offset and Size are those in their session's
// response.
func (c *Client) Follow(ctx context.Context, stream string, start StartSelector) iter.Seq2[*kvs.Fragment, error] {
	return func(yield func(*kvs.Fragment, error) bool) {
		if err := validStream(stream); err != nil {
			yield(nil, err)
			return
		}
		if err := start.validate(); err != nil {
			yield(nil, err)
			return
		}
		name, arn := streamInput(stream)
		in := GetMediaInput{StreamName: name, StreamARN: arn, StartSelector: start}
		var last tags.FragmentNumber
		idle, index := 0, 0
		for {
			progress := false
			err := c.session(ctx, stream, &in, func(f *kvs.Fragment) bool {
				if f.Number != "" && last != "" && f.Number.Compare(last) <= 0 {
					return true // delivered by an earlier session
				}
				progress = true
				if f.Number != "" {
					last = f.Number
				}
				if f.ContinuationToken != "" {
					in.StartSelector = StartSelector{StartSelectorType: StartAtContinuationToken, ContinuationToken: f.ContinuationToken}
				}
				f.Index = index
				index++
				return yield(f, nil)
			})
			switch {
			case err == errStopped:
				return
			case ctx.Err() != nil:
				yield(nil, ctx.Err())
				return
			case c.isFatal(err):
				yield(nil, err)
				return
			}
			if progress {
				idle = 0
			} else {
				idle++
			}
			// GetMedia allows 5 calls a second per stream: a session
			// that brought nothing waits before the next.
			if idle > 0 {
				cause := err
				if cause == nil {
					cause = errNoData
				}
				if c.wait(ctx, min(idle, 4), cause) != nil {
					yield(nil, ctx.Err())
					return
				}
			}
		}
	}
}

// errNoData stands for a GetMedia session that brought no new fragment.
var errNoData = errors.New("kvsaws: GetMedia brought no new fragment")

// session runs one GetMedia call and reads its body. It returns nil when
// the body ended, the fault that ended it otherwise.
func (c *Client) session(ctx context.Context, stream string, in *GetMediaInput, deliver func(*kvs.Fragment) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out *MediaOutput
	err := c.call(ctx, stream, APIGetMedia, func(ep string) error {
		var err error
		out, err = c.opts.DataPlane.GetMedia(ctx, ep, in)
		return err
	})
	if err != nil {
		return &sessionError{err}
	}
	return c.readBody(ctx, out, deliver)
}

// sessionError marks an error of the GetMedia call itself, after retries.
type sessionError struct{ err error }

func (e *sessionError) Error() string { return e.err.Error() }
func (e *sessionError) Unwrap() error { return e.err }

// isFatal tells whether a session's error ends Follow: a GetMedia call that
// failed with an error that is not retryable. A retryable one (throttling,
// connection limits, 5xx) that outlasted the retries is waited out, as are
// faults while reading a body: a follow is meant to last.
func (c *Client) isFatal(err error) bool {
	var se *sessionError
	return errors.As(err, &se) && !c.opts.Retryer.IsErrorRetryable(se.err)
}
