package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

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
}

func newDumper(c *config, src *source, stdout, stderr io.Writer) *dumper {
	d := &dumper{c: c, src: src, stderr: stderr, prog: newProgress(stderr),
		out: &output{w: bufio.NewWriterSize(stdout, 64<<10), stream: src.stream}}
	switch {
	case c.media.toStdout():
		d.p = quiet{}
	case c.table:
		d.p = newTablePrinter(d.out)
	default:
		d.p = newJSONPrinter(d.out, c.frames)
	}
	c.media.stdout, c.media.warn = d.out, stderr
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
	if err := d.c.out.open(); err != nil {
		fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
		return exitInput
	}
	done := make(chan int, 1)
	go func() { done <- d.read(ctx) }()
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
	case ev.Kind == kvs.FrameEvent:
		d.p.frame(ev.Fragment, ev.Frame)
		if d.c.media.wanted() {
			if err := d.c.media.frame(ev.Fragment, ev.Frame); err != nil {
				fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
				return exitInput, false
			}
			d.out.lineDone()
		}
	case ev.Kind == kvs.FragmentEvent:
		d.p.fragment(ev.Fragment)
		d.prog.fragment(ev.Fragment)
		if err := d.c.out.fragment(ev.Fragment, d.stderr); err != nil {
			fmt.Fprintf(d.stderr, "kvsdump: %v\n", err)
			return exitInput, false
		}
		if d.fragments++; d.c.live.count > 0 && d.fragments == d.c.live.count {
			return exitOK, false
		}
	}
	return exitOK, d.out.err == nil
}

// finish writes out what is buffered, closes the outputs and returns the
// exit status: code, or what a failure to write makes it.
func (d *dumper) finish(code int) int {
	d.p.flush()
	d.out.flush()
	d.prog.done()
	if err := errors.Join(d.c.out.close(), d.c.media.close()); err != nil {
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
