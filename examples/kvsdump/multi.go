package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"sync"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
)

// streamList is the streams of -stream a,b,c or -streams FILE, read at
// once: every line then starts with a "stream" field naming its stream
// (even when the list holds one name), and a stream that fails is
// reported and left while the others go on.
type streamList struct {
	// file is -streams FILE: one name or ARN a line.
	file string
}

// rangeParallel is how many time ranges of several streams are read at
// once; every stream of a follow is followed at once.
const rangeParallel = 8

// several tells whether the command line names a list of streams.
func (c *config) several() bool {
	return c.streams.file != "" || strings.Contains(c.live.stream, ",")
}

// oneStream returns the flag given of those that take one stream (the
// outputs of a stream's media and files, the table), or "".
func (c *config) oneStream() string {
	switch {
	case c.table:
		return "-table"
	case c.media.annexbOut || c.out.annexbDir != "":
		return "-annexb"
	case c.media.mkvPath != "":
		return "-mkv"
	case c.out.outDir != "":
		return "-out"
	case c.out.keyDir != "":
		return "-keyframes"
	case c.audio.wanted():
		return "-audio"
	case c.tracks.on():
		return "-track"
	case c.while.spec != "":
		return "-while-tag"
	}
	return ""
}

// names returns the streams the command line names, in its order.
func (c *config) names() ([]string, error) {
	var names []string
	if c.streams.file == "" {
		for _, n := range strings.Split(c.live.stream, ",") {
			names = append(names, strings.TrimSpace(n))
		}
	} else {
		data, err := os.ReadFile(c.streams.file)
		if err != nil {
			return nil, fmt.Errorf("-streams: %w", err)
		}
		names = parseStreams(string(data))
		if len(names) == 0 {
			return nil, usagef("-streams %s names no stream", c.streams.file)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "":
			return nil, usagef("-stream %q: an empty name", c.live.stream)
		case seen[n]:
			return nil, usagef("stream %s is named twice", n)
		}
		seen[n] = true
	}
	return names, nil
}

// parseStreams returns the names of a -streams file: one name or ARN a
// line, spaces around it trimmed; blank lines and lines starting with #
// are left out.
func parseStreams(text string) []string {
	var names []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	return names
}

// runSeveral reads every stream of the list with one KVS client (one
// endpoint cache, one HTTP transport), each on a goroutine of its own,
// and writes their lines through one writer, whole. It returns the exit
// status: 1 when a stream failed (once the others have ended or been
// interrupted), 130 when interrupted, 0 when every stream ended.
func runSeveral(ctx context.Context, c *config, stdout, stderr io.Writer) int {
	names, err := c.names()
	if err == nil && c.live.follow {
		_, err = selector(c.live.from)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kvsdump: %v\n", err)
		if errors.As(err, new(*usageError)) {
			return exitUsage
		}
		return exitInput
	}
	cfg, err := c.live.config(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "kvsdump: %v\n", err)
		return exitInput
	}
	c.live.readerOpts, c.live.frames = []kvs.Option{kvs.WithoutFrameData()}, true
	client, cp := c.live.client(cfg), c.live.checkpointer()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := newFleet(c, names, stdout, stderr, cancel)
	if !c.live.follow {
		f.empty = func(ctx context.Context, stream string) string {
			start, end, _ := c.live.timeRange() // checked by checkFlags
			return emptyRange(ctx, client, stream, c.live.rangeType(), start, end)
		}
	}
	for _, s := range f.streams {
		// The events are lazy: the flags were checked above, so no error.
		s.events, _ = c.live.events(ctx, client, s.name, cp)
		if s.html != nil {
			s.events = s.html.wrap(s.events)
		}
	}
	code := f.run(ctx)
	if c.html != "" {
		if err := f.writeHTML(c.html); err != nil {
			fmt.Fprintf(stderr, "kvsdump: -html: %v\n", err)
			if code == exitOK {
				code = exitInput
			}
		}
	}
	return code
}

// fleet prints the events of several streams. Each stream is read on a
// goroutine of its own; mu makes one line at a time go out, whole, and an
// interrupt wait for the line being written.
type fleet struct {
	*dumper
	streams []*followed
	prog    *progress
	cancel  context.CancelFunc
	buf     []byte
	failed  int
	// empty says that a stream's time range held no fragment, and where
	// its fragments are; emptied counts the streams it was said of.
	empty   func(ctx context.Context, stream string) string
	emptied int
}

// followed is one stream of a fleet.
type followed struct {
	name string
	// prefix opens each of its lines: {"stream":NAME,
	prefix    []byte
	events    iter.Seq2[*kvs.Event, error]
	html      *htmlRecorder
	fragments int
	failed    bool
}

func newFleet(c *config, names []string, stdout, stderr io.Writer, cancel context.CancelFunc) *fleet {
	prog := newProgress(stderr)
	prog.streams = len(names)
	d := &dumper{c: c, stderr: stderr, prog: prog, p: quiet{},
		out: &output{w: bufio.NewWriterSize(stdout, 64<<10), stream: true}}
	f := &fleet{dumper: d, prog: prog, cancel: cancel, buf: make([]byte, 0, 4<<10)}
	for _, n := range names {
		q, _ := json.Marshal(n) // a string always marshals
		s := &followed{name: n, prefix: append(append([]byte(`{"stream":`), q...), ',')}
		if c.html != "" {
			s.html = &htmlRecorder{stream: n}
		}
		f.streams = append(f.streams, s)
	}
	return f
}

// run reads every stream until each has ended, or ctx ends, and returns
// the exit status.
func (f *fleet) run(ctx context.Context) int {
	parallel := len(f.streams)
	if !f.c.live.follow {
		parallel = min(parallel, rangeParallel)
	}
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, s := range f.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				f.read(ctx, s)
			case <-ctx.Done():
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	if f.prog.on {
		stop := make(chan struct{})
		defer close(stop)
		go f.tick(stop, f.prog.tick)
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	code := exitOK
	switch {
	case f.failed > 0:
		code = exitInput
	case ctx.Err() != nil && f.out.err == nil:
		code = exitInterrupted
	case f.emptied == len(f.streams):
		code = exitEmpty
	}
	return f.finish(code)
}

// read prints the events of one stream, and says so when its time range
// held no fragment.
func (f *fleet) read(ctx context.Context, s *followed) {
	for ev, err := range s.events {
		if !f.handle(ctx, s, ev, err) {
			return
		}
	}
	if f.c.live.follow || ctx.Err() != nil || s.fragments > 0 || s.failed || f.empty == nil {
		return
	}
	msg := f.empty(ctx, s.name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.prog.clear()
		fmt.Fprintf(f.stderr, "kvsdump: %s\n", msg)
		f.emptied++
	}
}

// handle prints an event of stream s, or the error that ends it, and says
// whether to go on with s.
func (f *fleet) handle(ctx context.Context, s *followed, ev *kvs.Event, err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.stopped || ctx.Err() != nil:
		return false
	case err != nil:
		f.failed++
		s.failed = true
		f.prog.fail(s.name)
		f.out.flush()
		f.prog.done()
		msg := describe(err, nil)
		if errors.As(err, new(*kvsaws.FollowError)) {
			msg = err.Error() // which fragment, and how many times it failed
		}
		fmt.Fprintf(f.stderr, "kvsdump: stream %s: %s\n", s.name, msg)
		return false
	case ev.Kind == kvs.FrameEvent && f.c.frames:
		f.buf = appendTagged(f.buf[:0], s.prefix, func(b []byte) []byte { return appendFrame(b, ev.Fragment, ev.Frame) })
		f.out.Write(f.buf)
		f.out.lineDone()
	case ev.Kind == kvs.FragmentEvent:
		f.buf = appendTagged(f.buf[:0], s.prefix, func(b []byte) []byte { return appendFragment(b, ev.Fragment) })
		f.out.Write(f.buf)
		f.out.lineDone()
		f.prog.fragment(s.name, ev.Fragment)
		f.damage.add(ev.Fragment)
		if s.fragments++; f.c.live.count > 0 && s.fragments == f.c.live.count {
			return false
		}
	}
	if f.out.err != nil {
		f.cancel() // standard output failed: every stream stops
		return false
	}
	return true
}

// appendTagged appends the JSON line that line appends, with the stream
// field of prefix ({"stream":NAME,) first.
func appendTagged(b, prefix []byte, line func([]byte) []byte) []byte {
	b = append(b, prefix...)
	at := len(b)
	b = line(b)
	return append(b[:at], b[at+1:]...) // the line's own '{'
}

// writeHTML writes the -html report: a timeline per stream.
func (f *fleet) writeHTML(path string) error {
	var records []kvsreport.Record
	for _, s := range f.streams {
		s.html.mu.Lock()
		records = append(records, s.html.records...)
		s.html.mu.Unlock()
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("kvsdump %d streams", len(f.streams))
	err = kvsreport.WriteHTML(out, records, kvsreport.Options{Title: title, Gap: htmlGap})
	return errors.Join(err, out.Close())
}
