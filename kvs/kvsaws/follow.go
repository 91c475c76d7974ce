package kvsaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// FollowOptions configure one Follow or FollowFrames.
type FollowOptions struct {
	// Checkpointer, when set, gives the Position to start from (the start
	// selector is used only when it has none) and is given the Position
	// after each fragment the caller has handled. See Checkpointer for
	// the at-least-once boundary.
	Checkpointer Checkpointer
	// MaxFailures is how many GetMedia sessions in a row may fail at the
	// same place of the same fragment (the same fault offset) before the
	// follow gives up on it (default 5). A fragment malformed every time
	// it is served fails at the same place; a flaky link cuts at a
	// different place each time and is retried for as long as it lasts.
	// A damaged fragment (a CRC-32 mismatch: kvs.Damage) counts as a
	// failure at the damaged element: it is not delivered but asked for
	// again, and one damaged the same way MaxFailures times in a row is
	// given up on like a fault, the FollowError wrapping its *kvs.Damage
	// (errors.Is(err, mkv.ErrChecksum)), or, with SkipFailing, delivered
	// with its Damage. FollowFrames hands out a fragment's frames before
	// its Cluster ends, when the CRC-32 is checked: the frames of a
	// damaged Cluster were delivered unverified and are not sent again.
	MaxFailures int
	// SkipFailing makes a follow go on past a fragment that failed
	// MaxFailures times: the fragment, as far as it could be read, is
	// delivered marked Partial, or Damaged (a FragmentEvent of such a
	// fragment in FollowFrames), and the follow resumes after it. By
	// default the follow ends with a
	// *FollowError.
	SkipFailing bool
}

// FollowError ends a follow that could not get past a fragment: its
// GetMedia sessions failed Failures times in a row at the same place.
type FollowError struct {
	Stream string
	// Fragment is the fragment that fails (empty if its number was not
	// read), and Offset the fault's position in it.
	Fragment tags.FragmentNumber
	Offset   int64
	Failures int
	// Err is the fault, a *mkv.SyntaxError, or a *kvs.Damage for a
	// fragment served damaged every time.
	Err error
}

func (e *FollowError) Error() string {
	return fmt.Sprintf("kvsaws: following %s: fragment %s fails at offset %d of it, %d times in a row: %v",
		e.Stream, e.Fragment, e.Offset, e.Failures, e.Err)
}

// Unwrap returns the fault.
func (e *FollowError) Unwrap() error { return e.Err }

// Follow reads stream with GetMedia from start and yields its fragments as
// they come, for as long as ctx lasts. When a GetMedia body ends, idles past
// Options.ReadTimeout or breaks off, Follow calls GetMedia again from the
// last continuation token (or from start, before the first), so that no
// fragment is lost; a fragment is never delivered twice, nor one that was
// cut off. Throttling, connection limits and server errors are retried with
// backoff for as long as they last; an error that is not retryable
// (ErrResourceNotFound, ErrNotAuthorized, ...) ends the iteration, and so
// does a fragment that fails to decode the same way FollowOptions.MaxFailures
// times (a *FollowError). The end of ctx (the caller's cancel on Ctrl-C, a
// deadline) ends the iteration without an error: the loop ends after the
// last whole fragment, the one being read is dropped, and ctx.Err() says
// why. Sessions that bring
// nothing are repeated ever more slowly (Options.FollowIdleWait), and
// GetMedia is never called more often than Options.FollowInterval allows.
// In-band errors arrive as fragments with Err set. Fragments are numbered by
// Index from 0 across sessions; Offset and Size are those in their session's
// response. Each fragment's frame bytes are lent, valid until the loop body
// returns: keep f.Clone() to keep them (see kvs, "Frame bytes").
func (c *Client) Follow(ctx context.Context, stream string, start StartSelector, optFns ...func(*FollowOptions)) iter.Seq2[*kvs.Fragment, error] {
	return func(yield func(*kvs.Fragment, error) bool) {
		f, err := c.newFollower(ctx, stream, start, optFns)
		if err != nil {
			yield(nil, err)
			return
		}
		for {
			var partial *kvs.Fragment
			err := f.session(ctx, func(body io.Reader) error {
				r := kvs.NewReader(body, append(followReaderOptions, c.opts.ReaderOptions...)...)
				for {
					fr, err := r.Next()
					if err != nil {
						return err
					}
					if fr.State() == kvs.Damaged {
						// Retried like a fault: the session ends
						// here, the next serves the fragment again.
						partial = fr
						return fr.Damage[0]
					}
					if fr.Partial {
						partial = fr // the error that cut it comes next
						continue
					}
					if !f.fresh(fr) {
						continue
					}
					if ctx.Err() != nil {
						return ctx.Err() // ended by the caller: nothing more
					}
					f.progress = true
					fr.Index = f.index
					f.index++
					if !yield(fr, nil) {
						return errStopped
					}
					if err := f.done(ctx, fr); err != nil {
						return err
					}
				}
			})
			if err == io.EOF {
				err = nil
			}
			if skip, stop := f.after(ctx, err, partial, func(err error) bool { return yield(nil, err) }); stop {
				return
			} else if skip != nil {
				skip.Index = f.index
				f.index++
				if !yield(skip, nil) {
					return
				}
			}
		}
	}
}

// follower is the state of one Follow or FollowFrames across its GetMedia
// sessions.
type follower struct {
	c      *Client
	stream string
	opts   FollowOptions
	in     GetMediaInput

	last     tags.FragmentNumber // the last fragment delivered whole
	index    int
	progress bool // the session being read delivered something new

	failAt   string // where the last failed session failed
	failures int
	idle     int       // sessions in a row that brought nothing
	lastCall time.Time // the last GetMedia call

	// What every session uses again: the body's idle timeout and its
	// timer, the buffer of its first bytes, the timer of the waits
	// between sessions.
	body   idleReader
	first  []byte
	prefix bytes.Reader
	rest   prefixed
	timer  *time.Timer
}

func (c *Client) newFollower(ctx context.Context, stream string, start StartSelector, optFns []func(*FollowOptions)) (*follower, error) {
	f := &follower{c: c, stream: stream, opts: FollowOptions{MaxFailures: 5}}
	f.body.timeout = c.opts.ReadTimeout
	for _, fn := range optFns {
		fn(&f.opts)
	}
	f.opts.MaxFailures = max(f.opts.MaxFailures, 1)
	if err := validStream(stream); err != nil {
		return nil, err
	}
	name, arn := streamInput(stream)
	f.in = GetMediaInput{StreamName: name, StreamARN: arn, StartSelector: start}
	if cp := f.opts.Checkpointer; cp != nil {
		p, err := cp.Load(ctx, stream)
		if err != nil {
			return nil, err
		}
		if !p.IsZero() {
			f.in.StartSelector = p.StartSelector()
			f.last = p.FragmentNumber
		}
	}
	if err := f.in.StartSelector.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// fresh tells whether a fragment read whole was not delivered before, and
// moves the resume point past it.
func (f *follower) fresh(fr *kvs.Fragment) bool {
	if fr.Number != "" && f.last != "" && fr.Number.Compare(f.last) <= 0 {
		return false // delivered by an earlier session
	}
	if fr.Number != "" {
		f.last = fr.Number
	}
	if fr.ContinuationToken != "" {
		f.in.StartSelector = StartSelector{StartSelectorType: StartAtContinuationToken, ContinuationToken: fr.ContinuationToken}
	} else if fr.Number != "" {
		f.in.StartSelector = StartSelector{StartSelectorType: StartAtFragmentNumber, AfterFragmentNumber: fr.Number}
	}
	return true
}

// done saves the position after a fragment the caller has handled.
func (f *follower) done(ctx context.Context, fr *kvs.Fragment) error {
	cp := f.opts.Checkpointer
	if cp == nil || fr.Number == "" {
		return nil
	}
	return cp.Save(ctx, Position{
		Stream: f.stream, FragmentNumber: fr.Number, ContinuationToken: fr.ContinuationToken,
		ProducerTimestamp: fr.ProducerTimestamp, ServerTimestamp: fr.ServerTimestamp,
	})
}

// session runs one GetMedia call, paced by Options.FollowInterval, and
// reads its body with read. It returns nil or io.EOF when the body ended,
// the fault that ended it otherwise. The reader (and its decoder's buffer)
// is made when the body's first bytes arrive: a session waiting at the live
// edge of an idle stream holds a few hundred bytes, not a buffer.
func (f *follower) session(ctx context.Context, read func(io.Reader) error) error {
	if wait := f.c.opts.FollowInterval - time.Since(f.lastCall); wait > 0 {
		if err := f.sleep(ctx, wait); err != nil {
			return err
		}
	}
	f.lastCall = time.Now()
	f.progress = false
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out *MediaOutput
	err := f.c.call(ctx, f.stream, APIGetMedia, func(ep string) error {
		var err error
		out, err = f.c.opts.DataPlane.GetMedia(ctx, ep, &f.in)
		return err
	})
	if err != nil {
		return &sessionError{err}
	}
	body := &f.body
	body.start(out.Payload)
	defer body.Close()
	if f.first == nil {
		f.first = make([]byte, firstRead)
	}
	n, err := io.ReadAtLeast(body, f.first, 1)
	if n > 0 {
		f.prefix.Reset(f.first[:n])
		f.rest.prefix, f.rest.body = &f.prefix, body
		err = read(&f.rest)
	}
	if err != nil && err != errStopped && body.timedOut() {
		err = ErrReadTimeout
	}
	return err
}

// followBufferSize is the decoder buffer of a follow's reader
// (mkv.WithBufferSize; Options.ReaderOptions may set another). At the live
// edge a read brings a frame or two, so the buffer never needs the
// default's size, which reading a backlog would grow it to in each of a
// fleet's follows; a follow catching up reads 32 KiB at a time, which
// the network, not the decoder, limits.
const followBufferSize = 32 << 10

// followReaderOptions come before Options.ReaderOptions in a follow's
// reader.
var followReaderOptions = []kvs.Option{kvs.WithDecoderOptions(mkv.WithBufferSize(followBufferSize))}

// firstRead is the most a session reads before it makes its reader.
const firstRead = 512

// prefixed reads a session's first bytes, then the rest of its body.
type prefixed struct {
	prefix *bytes.Reader
	body   io.Reader
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.prefix.Len() > 0 {
		return p.prefix.Read(b)
	}
	return p.body.Read(b)
}

// after decides what follows a session that ended with err (nil at a clean
// end), partial being the fragment a fault cut short, if any. It returns
// stop when the follow must end (having yielded the error with fail), and
// a fragment to deliver when a failing fragment is skipped.
func (f *follower) after(ctx context.Context, err error, partial *kvs.Fragment, fail func(error) bool) (skip *kvs.Fragment, stop bool) {
	switch {
	case err == errStopped:
		return nil, true
	case ctx.Err() != nil:
		return nil, true // the caller ended the follow: not an error
	case f.c.isFatal(err):
		fail(err)
		return nil, true
	}
	if f.progress {
		f.idle = 0
	} else {
		f.idle++
	}
	if err != nil && partial != nil && !errors.Is(err, ErrReadTimeout) {
		off := syntaxOffset(err)
		if off >= 0 {
			off -= partial.Offset
		}
		at := fmt.Sprintf("%s@%d", partial.Number, off)
		if at == f.failAt && !f.progress {
			f.failures++
		} else {
			f.failAt, f.failures = at, 1
		}
		if f.failures >= f.opts.MaxFailures {
			if !f.opts.SkipFailing || partial.Number == "" {
				fail(&FollowError{Stream: f.stream, Fragment: partial.Number, Offset: off, Failures: f.failures, Err: err})
				return nil, true
			}
			f.failAt, f.failures = "", 0
			f.fresh(partial)
			f.in.StartSelector = StartSelector{StartSelectorType: StartAtFragmentNumber, AfterFragmentNumber: partial.Number}
			return partial, false
		}
	} else if err == nil || !f.progress {
		f.failAt, f.failures = "", 0
	}
	if f.idle > 0 {
		if f.sleep(ctx, f.idleWait()) != nil {
			return nil, true
		}
	}
	return nil, false
}

// idleWait is the wait before the next session after f.idle sessions that
// brought nothing: Options.FollowIdleWait, doubling up to
// Options.FollowMaxIdleWait.
func (f *follower) idleWait() time.Duration {
	d := f.c.opts.FollowIdleWait
	for i := 1; i < f.idle && d < f.c.opts.FollowMaxIdleWait; i++ {
		d *= 2
	}
	return min(d, f.c.opts.FollowMaxIdleWait)
}

// sleep waits d, or until ctx ends, on the follow's one timer.
func (f *follower) sleep(ctx context.Context, d time.Duration) error {
	if f.timer == nil {
		f.timer = time.NewTimer(d)
	} else {
		f.timer.Reset(d)
	}
	select {
	case <-f.timer.C:
		return nil
	case <-ctx.Done():
		f.timer.Stop()
		return ctx.Err()
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
	return errors.As(err, &se) && !c.opts.Retryer.IsErrorRetryable(se.err) && !isInvalidEndpoint(se.err)
}

// ErrMediaEnded is the Err of a ReconnectEvent after a GetMedia body that
// ended cleanly: KVS ends a GetMedia response after a while, or when the
// stream has nothing more for it.
var ErrMediaEnded = errors.New("kvsaws: GetMedia response ended")

// FollowFrames follows stream with GetMedia as Follow does, frame by
// frame, in kvs.Reader's events: each frame is yielded (kvs.FrameEvent) as
// soon as its block is read, not when its fragment completes; a fragment
// opens with a kvs.FragmentStartEvent (its tags before the Cluster and its
// tracks) and ends with a kvs.FragmentEvent (all its tags, or its in-band
// error in Fragment.Err). Across reconnects, each reported with a
// kvs.ReconnectEvent whose Err says why, every frame is delivered exactly
// once, in order: a fragment that was cut off and is sent again by the
// next session continues where it stopped (the frames already delivered
// are skipped by their position), and one that is not sent again ends
// with a FragmentEvent whose Fragment is Partial. Fragments are numbered
// by Index across sessions; the Fragment of the events of one fragment is
// the same pointer within a session. The Event and the Frame it holds are
// lent, valid until the loop body returns; the Fragment is the caller's
// (it holds no frames). The follow ends as Follow's does: without an
// error when ctx ends.
func (c *Client) FollowFrames(ctx context.Context, stream string, start StartSelector, optFns ...func(*FollowOptions)) iter.Seq2[*kvs.Event, error] {
	return func(yield func(*kvs.Event, error) bool) {
		f, err := c.newFollower(ctx, stream, start, optFns)
		if err != nil {
			yield(nil, err)
			return
		}
		ff := &frameFollower{follower: f, ctx: ctx, yield: yield}
		for {
			err := f.session(ctx, ff.read)
			if err == io.EOF {
				err = nil
			}
			var partial *kvs.Fragment
			if ff.open != nil && ff.open.Partial {
				partial = ff.open
			}
			skip, stop := f.after(ctx, err, partial, func(err error) bool { return yield(nil, err) })
			if stop {
				return
			}
			if skip != nil {
				ff.cut, ff.open = "", nil
				if !ff.emit(kvs.FragmentEvent, skip, nil) {
					return
				}
			}
			if err == nil {
				err = ErrMediaEnded
			}
			ff.ev = kvs.Event{Kind: kvs.ReconnectEvent, Err: err}
			if !yield(&ff.ev, nil) {
				return
			}
		}
	}
}

// frameFollower carries a frame-level follow across sessions.
type frameFollower struct {
	*follower
	ctx   context.Context
	yield func(*kvs.Event, error) bool
	ev    kvs.Event

	cur     *kvs.Fragment // the fragment being delivered, as this session reads it
	open    *kvs.Fragment // the last fragment started and not ended
	skip    int           // frames of cur already delivered by an earlier session
	sent    int           // frames of cur delivered
	cut     tags.FragmentNumber
	cutSent int // frames of the cut fragment delivered before the cut
}

// emit yields an event, unless the caller has ended the follow. It returns
// false when the follow must stop.
func (ff *frameFollower) emit(kind kvs.EventKind, fr *kvs.Fragment, frame *kvs.Frame) bool {
	if ff.ctx.Err() != nil {
		return false // ended by the caller: nothing more
	}
	ff.ev = kvs.Event{Kind: kind, Fragment: fr, Frame: frame}
	return ff.yield(&ff.ev, nil)
}

// read reads one session's body event by event.
func (ff *frameFollower) read(body io.Reader) error {
	ff.cur, ff.skip, ff.sent = nil, 0, 0
	r := kvs.NewReader(body, append(followReaderOptions, ff.c.opts.ReaderOptions...)...)
	for {
		ev, err := r.NextEvent()
		if err != nil {
			if ff.open != nil && ff.cur == ff.open {
				// Cut off: remember how far it was delivered, so that
				// the next session skips what was sent.
				ff.open.Partial = true
				ff.cut, ff.cutSent = ff.open.Number, ff.sent
			}
			return err
		}
		fr := ev.Fragment
		if fr != ff.cur {
			if !ff.begin(fr) {
				return errStopped
			}
		}
		if ff.cur == nil {
			continue // a fragment delivered before: skipped
		}
		switch ev.Kind {
		case kvs.FrameEvent:
			if ff.skip > 0 {
				ff.skip--
				continue
			}
			ff.sent++
			ff.progress = true
			if !ff.emit(kvs.FrameEvent, fr, ev.Frame) {
				return errStopped
			}
		case kvs.FragmentEvent:
			if fr.State() == kvs.Damaged {
				// Retried like a cut: the next session serves it
				// again, and its frames already delivered are skipped.
				fr.Partial = true
				ff.cut, ff.cutSent = fr.Number, ff.sent
				return fr.Damage[0]
			}
			if fr.Partial {
				continue // the error comes next
			}
			ff.fresh(fr)
			ff.progress = true
			ff.open, ff.cur = nil, nil
			if !ff.emit(kvs.FragmentEvent, fr, nil) {
				return errStopped
			}
			if err := ff.done(ff.ctx, fr); err != nil {
				return err
			}
		}
	}
}

// begin starts delivering fragment fr of this session, or marks it as one
// to skip (ff.cur nil) when an earlier session delivered it whole. A
// fragment cut off earlier continues after its delivered frames; one cut
// off and not sent again is reported.
func (ff *frameFollower) begin(fr *kvs.Fragment) bool {
	ff.cur, ff.skip, ff.sent = nil, 0, 0
	if fr.Number != "" && ff.last != "" && fr.Number.Compare(ff.last) <= 0 {
		return true
	}
	if ff.cut != "" {
		if fr.Number == ff.cut {
			ff.cur, ff.skip, ff.sent = fr, ff.cutSent, ff.cutSent
			fr.Index = ff.open.Index
			ff.cut, ff.open = "", fr
			return true
		}
		lost := ff.open
		ff.cut, ff.open = "", nil
		if !ff.emit(kvs.FragmentEvent, lost, nil) {
			return false
		}
	}
	ff.cur, ff.open = fr, fr
	fr.Index = ff.index
	ff.index++
	return ff.emit(kvs.FragmentStartEvent, fr, nil)
}

// syntaxOffset returns the stream offset a *mkv.SyntaxError or a
// *kvs.Damage names, or -1.
func syntaxOffset(err error) int64 {
	var se *mkv.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	var d *kvs.Damage
	if errors.As(err, &d) {
		return d.Offset
	}
	return -1
}
