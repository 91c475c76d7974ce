package kvsaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/tags"
)

// GetFragments fetches fragments by number with GetMediaForFragmentList, in
// batches of Options.BatchSize, and yields them in the order asked for,
// numbered by Index from 0 across batches (Offset and Size stay those in
// their batch's response).
// Up to Options.Concurrency calls are open at once, but their bodies are
// read one after the other, as they stream, so memory is bounded by the
// concurrency, not by the number of fragments. A number the service does
// not have arrives as a fragment whose Err reports it. A body that breaks
// off is asked for again from the first fragment not yet delivered, for as
// long as each retry brings a new fragment; a batch that cannot be read
// ends the iteration with a *BatchError. Each fragment's frame bytes are
// lent, valid until the loop body returns: keep f.Clone() to keep them
// (see kvs, "Frame bytes").
func (c *Client) GetFragments(ctx context.Context, stream string, numbers []tags.FragmentNumber) iter.Seq2[*kvs.Fragment, error] {
	return func(yield func(*kvs.Fragment, error) bool) {
		if err := validStream(stream); err != nil {
			yield(nil, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			out *MediaOutput
			err error
		}
		var batches [][]tags.FragmentNumber
		for len(numbers) > 0 {
			n := min(len(numbers), c.opts.BatchSize)
			batches = append(batches, numbers[:n])
			numbers = numbers[n:]
		}
		results := make([]chan result, len(batches))
		open := func(i int) {
			results[i] = make(chan result, 1)
			go func() {
				out, err := c.fragmentList(ctx, stream, batches[i])
				results[i] <- result{out, err}
			}()
		}
		index := 0
		numbered := func(f *kvs.Fragment, err error) bool {
			if f != nil {
				f.Index = index
				index++
			}
			return yield(f, err)
		}
		started := 0
		for ; started < min(len(batches), c.opts.Concurrency); started++ {
			open(started)
		}
		// On any return, close what was opened and not read, so that no
		// goroutine or connection is left behind.
		defer func() {
			cancel()
			for i := range started {
				if r, ok := <-results[i]; ok && r.out != nil {
					r.out.Payload.Close()
				}
			}
		}()
		for i, batch := range batches {
			r := <-results[i]
			close(results[i])
			if r.err != nil {
				yield(nil, &BatchError{Batch: i, Fragment: batch[0], Err: r.err})
				return
			}
			if !c.readBatch(ctx, stream, i, batch, r.out, numbered) {
				return
			}
			if started < len(batches) {
				open(started)
				started++
			}
		}
	}
}

// fragmentList opens one GetMediaForFragmentList body, with retries.
func (c *Client) fragmentList(ctx context.Context, stream string, batch []tags.FragmentNumber) (*MediaOutput, error) {
	name, arn := streamInput(stream)
	var out *MediaOutput
	err := c.call(ctx, stream, APIGetMediaForFragmentList, func(ep string) error {
		var err error
		out, err = c.opts.DataPlane.GetMediaForFragmentList(ctx, ep, &GetMediaForFragmentListInput{StreamName: name, StreamARN: arn, Fragments: batch})
		return err
	})
	return out, err
}

// BatchError reports a GetMediaForFragmentList batch that could not be
// read to its end: the body kept breaking without bringing a new fragment
// for as many retries as the retryer allows, or failed otherwise.
type BatchError struct {
	// Batch is the batch's position among the batches of the call, from 0.
	Batch int
	// Fragment is the first fragment of the batch not delivered.
	Fragment tags.FragmentNumber
	// Retries is the number of times the rest of the batch was asked for
	// again; NoProgress of them brought no new fragment.
	Retries, NoProgress int
	// Err is the last failure.
	Err error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("kvsaws: GetMediaForFragmentList batch %d stopped at fragment %s after %d retries (%d without progress): %v",
		e.Batch, e.Fragment, e.Retries, e.NoProgress, e.Err)
}

// Unwrap returns the last failure.
func (e *BatchError) Unwrap() error { return e.Err }

// readBatch yields the fragments of one batch's body, asking again for the
// rest of the batch when the body breaks off, for as long as each retry
// brings at least one new fragment: only retries that bring none spend the
// retryer's attempts. It returns false when the iteration must stop (the
// consumer stopped, or an error was yielded).
func (c *Client) readBatch(ctx context.Context, stream string, index int, batch []tags.FragmentNumber, out *MediaOutput, yield func(*kvs.Fragment, error) bool) bool {
	delivered, retries, stalled := 0, 0, 0
	fail := func(err error) bool {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if delivered < len(batch) {
			err = &BatchError{Batch: index, Fragment: batch[delivered], Retries: retries, NoProgress: stalled, Err: err}
		}
		yield(nil, err)
		return false
	}
	for {
		before := delivered
		err := c.readBody(ctx, out, func(f *kvs.Fragment) bool {
			if f.Continued {
				return true // nothing KVS sends; never counted as a fragment
			}
			delivered++
			return yield(f, nil)
		})
		if err == errStopped {
			return false
		}
		if err == nil && delivered >= len(batch) {
			return true
		}
		if err == nil {
			err = io.ErrUnexpectedEOF // the body ended before the batch did
		}
		if ctx.Err() != nil {
			return fail(err)
		}
		if delivered == before {
			stalled++
		} else {
			stalled = 0
		}
		if stalled >= c.opts.Retryer.MaxAttempts() {
			return fail(err)
		}
		retries++
		if stalled > 0 {
			if werr := c.wait(ctx, stalled, err); werr != nil {
				return fail(werr)
			}
		}
		if out, err = c.fragmentList(ctx, stream, batch[delivered:]); err != nil {
			return fail(err)
		}
	}
}

// errStopped says the consumer stopped the iteration.
var errStopped = errors.New("kvsaws: iteration stopped")

// readBody reads the fragments of a media body and closes it. Fragments
// cut off by a fault are not delivered; the fault is returned. Damaged
// fragments (a CRC-32 mismatch, or with kvs.WithResync a unit cut short)
// are data: delivered, with their Damage. An idle body
// is abandoned after Options.ReadTimeout.
func (c *Client) readBody(ctx context.Context, out *MediaOutput, deliver func(*kvs.Fragment) bool) error {
	body := newIdleReader(out.Payload, c.opts.ReadTimeout)
	defer body.Close()
	r := kvs.NewReader(body, c.opts.ReaderOptions...)
	for {
		f, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if body.timedOut() {
				return ErrReadTimeout
			}
			return err
		}
		if f.Partial && f.State() != kvs.Damaged {
			continue // the error that cut it comes next
		}
		if !deliver(f) {
			return errStopped
		}
	}
}

// ErrReadTimeout says a media body brought no byte for Options.ReadTimeout.
var ErrReadTimeout = errors.New("kvsaws: response body idle past the read timeout")

// idleReader closes its body when a Read waits longer than the timeout,
// which makes the Read fail. It starts no goroutine of its own, and a Read
// costs no timer operation: it notes when it began, and the one timer,
// when it fires, closes the body only if the Read it finds has waited the
// whole timeout (otherwise it sets itself for the rest). A follow keeps one
// idleReader for all its GetMedia sessions (start, then stop).
type idleReader struct {
	timeout time.Duration
	timer   *time.Timer
	// began is when the last Read began, in nanoseconds since epoch on
	// the monotonic clock.
	began atomic.Int64

	fired atomic.Bool

	mu   sync.Mutex
	body io.ReadCloser // nil between sessions
}

// epoch is the origin of idleReader's monotonic times.
var epoch = time.Now()

// newIdleReader starts reading body with an idle timeout (none if 0).
func newIdleReader(body io.ReadCloser, timeout time.Duration) *idleReader {
	r := &idleReader{timeout: timeout}
	r.start(body)
	return r
}

// start reads a new body, with the timeout counted from now.
func (r *idleReader) start(body io.ReadCloser) {
	r.began.Store(int64(time.Since(epoch)))
	r.mu.Lock()
	r.body = body
	r.fired.Store(false)
	r.mu.Unlock()
	if r.timeout <= 0 {
		return
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(r.timeout, r.expire)
	} else {
		r.timer.Reset(r.timeout)
	}
}

// expire runs when the timer fires: it closes the body if the Read in
// progress has waited the timeout, or sets the timer for the rest.
func (r *idleReader) expire() {
	r.mu.Lock()
	if r.body == nil || r.fired.Load() {
		r.mu.Unlock()
		return
	}
	if rest := r.timeout - (time.Since(epoch) - time.Duration(r.began.Load())); rest > 0 {
		r.timer.Reset(rest)
		r.mu.Unlock()
		return
	}
	r.fired.Store(true)
	body := r.body
	r.mu.Unlock()
	body.Close()
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.timedOut() {
		return 0, ErrReadTimeout
	}
	r.began.Store(int64(time.Since(epoch)))
	return r.body.Read(p)
}

// timedOut tells whether the timeout closed the body.
func (r *idleReader) timedOut() bool { return r.fired.Load() }

// Close stops the timer and closes the body; start may follow.
func (r *idleReader) Close() error {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Lock()
	body := r.body
	r.body = nil
	r.mu.Unlock()
	if body == nil {
		return nil
	}
	return body.Close()
}
