package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// source is where the fragments come from.
type source struct {
	// events are each frame as it is read, then its fragment, complete.
	events iter.Seq2[*kvs.Event, error]
	// in is the file or standard input read, or nil for KVS.
	in *input
	// stream says that the input arrives over time, so that each line is
	// written as soon as it is known.
	stream bool
	// empty, for a time range, says that it held no fragment, and where
	// the stream's fragments are when it can tell.
	empty   func(context.Context) string
	closers []func()
}

func (s *source) close() {
	for _, c := range s.closers {
		c()
	}
}

// open opens the source the command line names.
func (c *config) open(ctx context.Context, stdin io.Reader, stderr io.Writer) (*source, error) {
	c.live.readerOpts = []kvs.Option{kvs.WithoutFrameData()}
	if c.out.wanted() || c.media.wanted() || c.audio.wanted() {
		c.live.readerOpts = nil // the outputs, -mkv, -annexb and -audio need the frames' bytes
	}
	c.live.frames = !c.out.wanted() // the folder outputs take whole fragments
	switch {
	case c.emulate:
		return c.openEmulator(ctx, stderr)
	case c.live.stream != "":
		cfg, err := c.live.config(ctx)
		if err != nil {
			return nil, err
		}
		return c.live.source(ctx, cfg)
	}
	in, err := openInput(c.file, stdin, stderr)
	if err != nil {
		return nil, err
	}
	s := &source{in: in, stream: in.ra == nil, closers: []func(){in.close}}
	opts := c.fileOptions()
	if f, ok := in.ra.(*os.File); ok && !c.out.wanted() && mappable(f) {
		// The metadata of a regular file is read in place.
		s.events = in.mappedEvents(f, opts)
		return s, nil
	}
	r := kvs.NewReader(in, opts...)
	if c.out.wanted() {
		s.events = eventsOf(r.All()) // the outputs need whole fragments
	} else {
		s.events = r.Events()
	}
	return s, nil
}

// openEmulator starts an emulator with a demo stream that ends now, and
// reads the time range of -start and -end, by default the last hour, which
// holds all of it.
func (c *config) openEmulator(ctx context.Context, stderr io.Writer) (*source, error) {
	srv := kvstest.NewServer()
	demo := kvstest.StreamConfig{Fragments: 12, Audio: true, Media: true}
	demo.Start = time.Now().Add(-demo.Length())
	srv.AddStream("kvsdump-demo", demo)
	fmt.Fprintf(stderr, "kvsdump: emulator at %s, stream kvsdump-demo\n", srv.URL())
	l := c.live
	l.stream = "kvsdump-demo"
	s, err := l.source(ctx, srv.Config())
	if err != nil {
		srv.Close()
		return nil, err
	}
	s.closers = append(s.closers, srv.Close)
	return s, nil
}

// eventsOf turns whole fragments into the events a Reader's NextEvent
// gives: its start, each frame, then its fragment.
func eventsOf(frags iter.Seq2[*kvs.Fragment, error]) iter.Seq2[*kvs.Event, error] {
	return func(yield func(*kvs.Event, error) bool) {
		for f, err := range frags {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&kvs.Event{Kind: kvs.FragmentStartEvent, Fragment: f}, nil) {
				return
			}
			for i := range f.Frames {
				if !yield(&kvs.Event{Kind: kvs.FrameEvent, Fragment: f, Frame: &f.Frames[i]}, nil) {
					return
				}
			}
			if !yield(&kvs.Event{Kind: kvs.FragmentEvent, Fragment: f}, nil) {
				return
			}
		}
	}
}

const sampleName = "the built-in sample"

// tailSize is how many of the last bytes read of a stream that cannot be
// read again are kept, to quote the header of the element a fault is in.
const tailSize = 1 << 20

// input is a file, standard input or the sample, counted as it is read.
// It keeps what the messages quote: the first bytes, and the header of the
// element a fault is in (read again from a regular file, else from the
// last bytes read).
type input struct {
	name  string
	r     io.Reader
	ra    io.ReaderAt // the regular file, or nil
	close func()

	n      int64
	head   []byte
	tail   []byte
	tailAt int64
}

// openInput opens FILE: a path, "-" for standard input, "" for the sample.
func openInput(name string, stdin io.Reader, stderr io.Writer) (*input, error) {
	switch name {
	case "":
		fmt.Fprintln(stderr, "kvsdump: no input given; dumping the built-in sample stream")
		return &input{name: sampleName, r: bytes.NewReader(sample), ra: bytes.NewReader(sample), close: func() {}}, nil
	case "-":
		in := &input{name: "standard input", r: stdin, close: func() {}}
		if f, ok := stdin.(*os.File); ok && regular(f) {
			in.ra = f
		}
		return in, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	in := &input{name: name, r: f, close: func() { f.Close() }}
	if regular(f) {
		in.ra = f
	}
	return in, nil
}

func regular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

func (in *input) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	if k := min(n, 4-len(in.head)); k > 0 {
		in.head = append(in.head, p[:k]...)
	}
	if in.ra == nil && n > 0 {
		in.tail = append(in.tail, p[:n]...)
		if drop := len(in.tail) - tailSize; drop > tailSize {
			in.tail = append(in.tail[:0], in.tail[drop:]...)
			in.tailAt += int64(drop)
		}
	}
	in.n += int64(n)
	return n, err
}

// at returns up to n bytes of the input from offset off, or nil when they
// are no longer known.
func (in *input) at(off int64, n int) []byte {
	if in.ra != nil {
		b := make([]byte, n)
		k, _ := in.ra.ReadAt(b, off)
		return b[:k]
	}
	if off < in.tailAt || off >= in.tailAt+int64(len(in.tail)) {
		return nil
	}
	return in.tail[off-in.tailAt:][:min(n, len(in.tail)-int(off-in.tailAt))]
}

// live holds the flags of the modes that read KVS.
type live struct {
	stream, start, end, from, endpoint, region string
	checkpoint                                 string
	server, follow                             bool
	count                                      int
	readerOpts                                 []kvs.Option
	// frames follows frame by frame (FollowFrames): each frame is printed
	// or written as soon as it arrives, not with its fragment.
	frames bool
}

// config loads the AWS configuration from the environment, with the region
// and endpoint of the flags, and makes sure it holds credentials.
func (l *live) config(ctx context.Context) (aws.Config, error) {
	// The SDK's log lines (WARN falling back to IMDSv1, ...) would only
	// come before kvsdump's own message of what went wrong.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
	if l.region != "" {
		opts = append(opts, awsconfig.WithRegion(l.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if l.endpoint != "" {
		cfg.BaseEndpoint = aws.String(l.endpoint)
	}
	if cfg.Credentials == nil {
		return aws.Config{}, errNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if p := os.Getenv("AWS_PROFILE"); p != "" {
			return aws.Config{}, fmt.Errorf("%w (AWS_PROFILE=%s gave none)", errNoCredentials, p)
		}
		return aws.Config{}, errNoCredentials
	}
	return cfg, nil
}

var errNoCredentials = errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
	"(and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE to a profile of ~/.aws/config, which `aws configure` writes")

// source returns the fragments the flags ask for: a followed stream, or a
// time range listed and fetched.
func (l *live) source(ctx context.Context, cfg aws.Config) (*source, error) {
	client := l.client(cfg)
	events, err := l.events(ctx, client, l.stream, l.checkpointer())
	if err != nil {
		return nil, err
	}
	s := &source{events: events, stream: true}
	if !l.follow {
		s.empty = func(ctx context.Context) string {
			start, end, _ := l.timeRange() // parsed once already
			return emptyRange(ctx, client, l.stream, l.rangeType(), start, end)
		}
	}
	return s, nil
}

// client is the KVS client of cfg, reading with the flags' reader options.
func (l *live) client(cfg aws.Config) *kvsaws.Client {
	return kvsaws.NewFromConfig(cfg, func(o *kvsaws.Options) { o.ReaderOptions = l.readerOpts })
}

// checkpointer is the Checkpointer of -checkpoint, or nil.
func (l *live) checkpointer() kvsaws.Checkpointer {
	if l.checkpoint == "" {
		return nil
	}
	return kvsaws.NewFileCheckpointer(l.checkpoint)
}

// events returns the events of stream the flags ask for, read with client:
// a follow (whose position cp keeps, when not nil), or a time range listed
// and fetched.
func (l *live) events(ctx context.Context, client *kvsaws.Client, stream string, cp kvsaws.Checkpointer) (iter.Seq2[*kvs.Event, error], error) {
	if l.follow {
		sel, err := selector(l.from)
		if err != nil {
			return nil, err
		}
		opts := func(o *kvsaws.FollowOptions) { o.Checkpointer = cp }
		if l.frames {
			return client.FollowFrames(ctx, stream, sel, opts), nil
		}
		return eventsOf(client.Follow(ctx, stream, sel, opts)), nil
	}
	start, end, err := l.timeRange()
	if err != nil {
		return nil, err
	}
	return eventsOf(client.FetchRange(ctx, stream, kvsaws.Range(l.rangeType(), start, end))), nil
}

// rangeType is the timestamps a time range selects by.
func (l *live) rangeType() kvsaws.FragmentSelectorType {
	if l.server {
		return kvsaws.ServerTimestamp
	}
	return kvsaws.ProducerTimestamp
}

// hintFragments is how many fragments emptyRange lists, at most, to say
// where a stream's fragments are.
const hintFragments = 1000

// emptyRange says that the range of stream from start to end holds no
// fragment, and where its fragments are (kvsaws.Client.DescribeEmpty).
func emptyRange(ctx context.Context, client *kvsaws.Client, stream string, typ kvsaws.FragmentSelectorType, start, end time.Time) string {
	msg, elsewhere := client.DescribeEmpty(ctx, stream, typ, start, end, hintFragments)
	if elsewhere {
		msg += ": give -start and -end"
	}
	return msg
}

// timeRange parses -start and -end, and refuses a range that ends before
// it starts.
func (l *live) timeRange() (start, end time.Time, err error) {
	end = time.Now()
	if l.end != "" {
		if end, err = time.Parse(time.RFC3339Nano, l.end); err != nil {
			return start, end, usagef("-end %q: not an RFC 3339 time", l.end)
		}
	}
	start = end.Add(-time.Hour)
	if l.start != "" {
		if start, err = time.Parse(time.RFC3339Nano, l.start); err != nil {
			return start, end, usagef("-start %q: not an RFC 3339 time", l.start)
		}
	}
	if !start.Before(end) {
		return start, end, usagef("-start %s is not before -end %s", start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
	}
	return start, end, nil
}

// selector parses -from.
func selector(from string) (kvsaws.StartSelector, error) {
	switch {
	case from == "now" || from == "":
		return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}, nil
	case from == "earliest":
		return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}, nil
	case strings.HasPrefix(from, "token:"):
		return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtContinuationToken, ContinuationToken: strings.TrimPrefix(from, "token:")}, nil
	}
	if n, err := tags.ParseFragmentNumber(from); err == nil {
		return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtFragmentNumber, AfterFragmentNumber: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, from)
	if err != nil {
		return kvsaws.StartSelector{}, usagef("-from %q: not now, earliest, a fragment number, token:... or an RFC 3339 time", from)
	}
	return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtProducerTimestamp, StartTimestamp: tags.FromTime(t)}, nil
}
