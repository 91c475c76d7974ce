package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
)

// dumper prints a source's events and writes the outputs. It reads on a
// goroutine of its own so that a signal ends it even while a read blocks;
// mu makes an interrupt wait for the line being written, never cut it.
type dumper struct {
	c      *config
	src    *source
	out    *output
	p      printer
	prog   *progress
	stderr io.Writer

	mu        sync.Mutex
	stopped   bool
	fragments int
	// clearRows clears the progress line before each line printed, as
	// both go to the same terminal.
	clearRows bool
	damage    damageCount
	// junk is the damaged fragment of what the input starts with when
	// that is not an EBML stream, held back: with no unit after it, the
	// input is not a KVS stream at all, and is said so.
	junk *kvs.Fragment
}

func newDumper(c *config, src *source, stdout, stderr io.Writer) *dumper {
	d := &dumper{c: c, src: src, stderr: stderr, prog: newProgress(stderr),
		out: &output{w: bufio.NewWriterSize(stdout, 64<<10), stream: src.stream}}
	switch {
	case c.media.toStdout() || c.audio.toStdout():
		d.p = quiet{}
	case c.table:
		d.p = newTablePrinter(d.out)
	default:
		d.p = newJSONPrinter(d.out, c.frames)
	}
	c.media.stdout, c.media.warn = d.out, stderr
	c.audio.stdout, c.media.keep = d.out, c.tracks.keeps
	if d.clearRows = d.prog.on && !c.media.toStdout() && !c.audio.toStdout() && isTerminal(stdout); d.clearRows {
		d.out.stream = true // each row written whole, before the progress line comes back
	}
	return d
}

// quiet prints nothing: standard output carries media.
type quiet struct{}

func (quiet) frame(*kvs.Fragment, *kvs.Frame) {}
func (quiet) fragment(*kvs.Fragment)          {}
func (quiet) flush()                          {}

// run dumps the source until its end, an error or the end of ctx, and
// returns the exit status.
func (d *dumper) run(ctx context.Context) int {
	if err := errors.Join(d.c.out.open(), d.c.audio.open()); err != nil {
		fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
		return exitInput
	}
	done := make(chan int, 1)
	go func() { done <- d.read(ctx) }()
	if d.prog.on {
		stop := make(chan struct{})
		defer close(stop)
		go d.tick(stop, d.prog.tick)
	}
	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		code = exitInterrupted
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	return d.finish(code)
}

// tick calls draw with the time once a second, to update the progress
// line, until stop is closed.
func (d *dumper) tick(stop <-chan struct{}, draw func(time.Time)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			d.mu.Lock()
			if !d.stopped {
				draw(now)
			}
			d.mu.Unlock()
		}
	}
}

// read handles every event of the source and returns the exit status.
func (d *dumper) read(ctx context.Context) int {
	for ev, err := range d.src.events {
		if code, more := d.handle(ctx, ev, err); !more {
			return code
		}
	}
	if ctx.Err() != nil {
		return exitInterrupted // a follow ends without an error when interrupted
	}
	if in := d.src.in; in != nil && in.n == 0 {
		fmt.Fprintf(d.stderr, "kvsdump: %s is empty (0 bytes): no fragment to print\n", in.name)
		return exitEmpty
	}
	if d.junk != nil {
		fmt.Fprintf(d.stderr, "kvsdump: %s\n", describe(nil, d.src.in))
		return exitInput
	}
	if d.fragments == 0 && d.src.empty != nil {
		d.prog.done()
		fmt.Fprintf(d.stderr, "kvsdump: %s\n", d.src.empty(ctx))
		return exitEmpty
	}
	return exitOK
}

// handle prints an event, or the error that ends the source, and says
// whether to go on.
func (d *dumper) handle(ctx context.Context, ev *kvs.Event, err error) (code int, more bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.stopped || ctx.Err() != nil:
		return exitInterrupted, false
	case err != nil:
		d.p.flush()
		d.out.flush()
		d.prog.done()
		fmt.Fprintf(d.stderr, "kvsdump: %s\n", describe(err, d.src.in))
		return exitInput, false
	case ev.Kind == kvs.FragmentStartEvent:
		if code, more := d.flushJunk(); !more {
			return code, false
		}
		return d.start(ev.Fragment)
	case ev.Kind == kvs.FrameEvent && !d.c.tracks.keeps(ev.Frame.Track):
		// Not a -track: no output takes it.
	case ev.Kind == kvs.FrameEvent:
		if d.clearRows && d.c.frames {
			d.prog.clear()
		}
		d.p.frame(ev.Fragment, ev.Frame)
		if d.c.audio.wanted() {
			if err := d.c.audio.frame(ev.Fragment, ev.Frame); err != nil {
				fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
				return exitInput, false
			}
			d.out.lineDone()
		}
		if d.c.media.wanted() {
			if err := d.c.media.frame(ev.Fragment, ev.Frame); err != nil {
				fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
				return exitInput, false
			}
			d.out.lineDone()
		}
	case ev.Kind == kvs.FragmentEvent && d.leadingJunk(ev.Fragment):
		d.junk = ev.Fragment // printed if a unit follows it
	case ev.Kind == kvs.FragmentEvent:
		if code, more := d.flushJunk(); !more {
			return code, false
		}
		return d.fragment(ev.Fragment)
	}
	return exitOK, d.out.err == nil
}

// fragment prints a fragment and writes it to the outputs, and says
// whether to go on.
func (d *dumper) fragment(f *kvs.Fragment) (code int, more bool) {
	if d.clearRows {
		d.prog.clear()
	}
	d.p.fragment(f)
	d.prog.fragment("", f)
	d.damage.add(f)
	if err := d.c.out.fragment(d.c.tracks.restrict(f), d.stderr); err != nil {
		fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
		return exitInput, false
	}
	if d.fragments++; d.c.live.count > 0 && d.fragments == d.c.live.count {
		return exitOK, false
	}
	return exitOK, d.out.err == nil
}

// finish writes out what is buffered, counts the damaged fragments, closes
// the outputs and returns the exit status: code, or what damage or a
// failure to write makes it.
func (d *dumper) finish(code int) int {
	d.p.flush()
	d.out.flush()
	d.prog.done()
	if d.damage.report(d.stderr, d.sourceName) && code == exitOK {
		code = exitInput
	}
	err := errors.Join(d.c.out.close(), d.c.media.close(), d.c.audio.close())
	if code == exitOK {
		err = errors.Join(err, d.c.audio.written())
	}
	if err != nil {
		fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
		if code == exitOK {
			code = exitInput
		}
	}
	switch err := d.out.err; {
	case errors.Is(err, syscall.EPIPE):
		return exitInterrupted // the reader of standard output went away
	case err != nil:
		fmt.Fprintf(d.stderr, "kvsdump: writing standard output: %v\n", err)
		return exitInput
	}
	return code
}

// output is standard output through a buffer that is flushed after every
// line when the input arrives over time, and when full or at the end when
// it is a regular file read to its end, where holding lines back delays
// nothing. Its first error is kept, and ends the dump.
type output struct {
	w      *bufio.Writer
	stream bool
	err    error
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.err = err
	return n, err
}

// lineDone is called after each whole line.
func (o *output) lineDone() {
	if o.stream {
		o.flush()
	}
}

func (o *output) flush() {
	if err := o.w.Flush(); err != nil && o.err == nil {
		o.err = err
	}
}

// start handles a fragment's start, before any of its frames: -while-tag
// may end the dump there, -track finds its tracks, and -audio fails for a
// fragment without an audio track it takes.
func (d *dumper) start(f *kvs.Fragment) (code int, more bool) {
	if d.c.while.stops(f) {
		d.p.flush()
		d.out.flush()
		d.prog.done()
		v, _ := f.Tag(d.c.while.name)
		fmt.Fprintf(d.stderr, "kvsdump: fragment %d (%s) has %s=%s, not %s: stopping before it\n", f.Index, fragmentName(f), d.c.while.name, v, d.c.while.value)
		return exitOK, false
	}
	d.c.audio.saw(f)
	err := d.c.tracks.resolve(f)
	if err == nil {
		err = d.c.audio.check(f, &d.c.tracks)
	}
	if err != nil {
		d.p.flush()
		d.out.flush()
		d.prog.done()
		fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
		return exitInput, false
	}
	return exitOK, true
}
