// Command kvsdump prints the fragments of a Kinesis Video Streams media
// response (GetMedia or GetMediaForFragmentList output): numbers, timestamps,
// in-band errors, every tag, and per-track counts, one JSON object per
// fragment, as the bytes arrive.
//
// Usage:
//
//	kvsdump [flags] [FILE|-]
//
// With no FILE it dumps a small sample stream it carries, so that a new user
// sees output at once; "-" reads standard input. It exits with status 0 when
// the input was read to a clean end (fragments with in-band errors included),
// and 1, after printing every good fragment, when the input was cut off or
// malformed, with the error on standard error.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

//go:embed sample.mkv
var sample []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("kvsdump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	frames := fs.Bool("frames", false, "also print one JSON line per frame")
	table := fs.Bool("table", false, "print a human-readable table instead of JSON lines")
	var l live
	fs.StringVar(&l.stream, "stream", "", "read the stream with this name or ARN from KVS, instead of a file")
	fs.StringVar(&l.start, "start", "", "with -stream: start of the time range, RFC 3339 (default: an hour before -end)")
	fs.StringVar(&l.end, "end", "", "with -stream: end of the time range, RFC 3339 (default: now)")
	fs.BoolVar(&l.server, "server-time", false, "with -stream: select the range by server timestamps, not producer timestamps")
	fs.BoolVar(&l.follow, "follow", false, "with -stream: follow the stream live with GetMedia, from -from")
	fs.StringVar(&l.from, "from", "now", "with -follow: now, earliest, a fragment number, token:CONTINUATION_TOKEN or an RFC 3339 time")
	fs.IntVar(&l.count, "n", 0, "with -stream: stop after this many fragments (0: no limit)")
	fs.StringVar(&l.endpoint, "endpoint", "", "with -stream: KVS control-plane endpoint URL, such as an emulator's")
	fs.StringVar(&l.region, "region", "", "with -stream: AWS region (default: from the environment)")
	emulate := fs.Bool("emulate", false, "start a local KVS emulator and dump a time range of its demo stream")
	var o outputs
	fs.StringVar(&o.outDir, "out", "", "write each fragment as a playable MKV file in this folder, named by fragment number")
	fs.BoolVar(&o.merge, "merge", false, "with -out: write runs of consecutive fragments with the same tracks as one file")
	fs.StringVar(&o.annexbDir, "annexb", "", "write each H.264/H.265 track as an Annex-B elementary stream in this folder")
	fs.StringVar(&o.keyDir, "keyframes", "", "write each H.264/H.265 keyframe as its own Annex-B file in this folder")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kvsdump [flags] [FILE|-]\n\nPrints the fragments of a KVS GetMedia or GetMediaForFragmentList response,\nor of a stream read from KVS with -stream. With no FILE, dumps a built-in sample stream.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 || (l.stream != "" || *emulate) && fs.NArg() > 0 {
		fs.Usage()
		return 2
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var p printer
	if *table {
		p = newTablePrinter(out)
	} else {
		p = &jsonPrinter{enc: json.NewEncoder(out), frames: *frames}
	}
	defer p.flush()
	if err := o.open(); err != nil {
		fmt.Fprintf(stderr, "kvsdump: %v\n", err)
		return 1
	}
	readerOpts := []kvs.Option{kvs.WithoutFrameData()}
	if o.wanted() {
		readerOpts = nil // the outputs need the frames' bytes
	}
	l.readerOpts = readerOpts

	var source iter.Seq2[*kvs.Fragment, error]
	var offset func() int64
	switch {
	case *emulate:
		srv := kvstest.NewServer()
		defer srv.Close()
		srv.AddStream("kvsdump-demo", kvstest.StreamConfig{Fragments: 12, Audio: true, Media: true})
		fmt.Fprintf(stderr, "kvsdump: emulator at %s, stream kvsdump-demo\n", srv.URL())
		l.stream, l.start, l.end = "kvsdump-demo", "2017-11-28T00:00:00Z", "2017-11-29T00:00:00Z"
		src, err := l.source(context.Background(), srv.Config())
		if err != nil {
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			return 2
		}
		source = src
	case l.stream != "":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		cfg, err := l.config(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			return 1
		}
		src, err := l.source(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			return 2
		}
		source = src
	default:
		var in io.Reader
		switch name := fs.Arg(0); name {
		case "":
			fmt.Fprintln(stderr, "kvsdump: no input given; dumping the built-in sample stream")
			in = bytes.NewReader(sample)
		case "-":
			in = stdin
		default:
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "kvsdump: %v\n", err)
				return 1
			}
			defer f.Close()
			in = f
		}
		r := kvs.NewReader(bufio.NewReaderSize(in, 1<<16), readerOpts...)
		source, offset = r.All(), r.InputOffset
	}

	defer func() {
		if err := o.close(); err != nil {
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			code = 1
		}
	}()
	prog := newProgress(stderr)
	n := 0
	for f, err := range source {
		if err != nil {
			if errors.Is(err, context.Canceled) && l.follow {
				return 0 // interrupted: the normal end of -follow
			}
			p.flush()
			out.Flush()
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			if errors.Is(err, io.ErrUnexpectedEOF) && offset != nil {
				fmt.Fprintf(stderr, "kvsdump: the input was cut off after %d bytes\n", offset())
			}
			return 1
		}
		p.fragment(f)
		prog.fragment(f)
		if err := o.fragment(f, stderr); err != nil {
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			return 1
		}
		if n++; l.count > 0 && n == l.count {
			break
		}
	}
	return 0
}

// live holds the flags of the modes that read KVS.
type live struct {
	stream, start, end, from, endpoint, region string
	server, follow                             bool
	count                                      int
	readerOpts                                 []kvs.Option
}

// config loads the AWS configuration from the environment, with the
// region and endpoint of the flags.
func (l *live) config(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if l.region != "" {
		opts = append(opts, config.WithRegion(l.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if l.endpoint != "" {
		cfg.BaseEndpoint = aws.String(l.endpoint)
	}
	return cfg, nil
}

// source returns the fragments the flags ask for: a followed stream, or a
// time range listed and fetched.
func (l *live) source(ctx context.Context, cfg aws.Config) (iter.Seq2[*kvs.Fragment, error], error) {
	client := kvsaws.NewFromConfig(cfg, func(o *kvsaws.Options) { o.ReaderOptions = l.readerOpts })
	if l.follow {
		sel, err := selector(l.from)
		if err != nil {
			return nil, err
		}
		return client.Follow(ctx, l.stream, sel), nil
	}
	end := time.Now()
	if l.end != "" {
		t, err := time.Parse(time.RFC3339Nano, l.end)
		if err != nil {
			return nil, fmt.Errorf("-end: %w", err)
		}
		end = t
	}
	start := end.Add(-time.Hour)
	if l.start != "" {
		t, err := time.Parse(time.RFC3339Nano, l.start)
		if err != nil {
			return nil, fmt.Errorf("-start: %w", err)
		}
		start = t
	}
	typ := kvsaws.ProducerTimestamp
	if l.server {
		typ = kvsaws.ServerTimestamp
	}
	sel := kvsaws.Range(typ, start, end)
	return client.FetchRange(ctx, l.stream, sel), nil
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
		return kvsaws.StartSelector{}, fmt.Errorf("-from %q: not now, earliest, a fragment number, token:... or an RFC 3339 time", from)
	}
	return kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtProducerTimestamp, StartTimestamp: tags.FromTime(t)}, nil
}

// progress reports fragments, bytes, rate and lag on stderr, once a second,
// when stderr is a terminal.
type progress struct {
	w                io.Writer
	on               bool
	start, last      time.Time
	fragments, bytes int64
	behind           int64
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) fragment(f *kvs.Fragment) {
	p.fragments++
	p.bytes += f.Size
	if f.HasMillisBehindNow {
		p.behind = f.MillisBehindNow
	}
	if !p.on || time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%d fragments, %.1f MB, %.2f MB/s, %s behind now ", p.fragments, float64(p.bytes)/1e6,
		float64(p.bytes)/1e6/secs, time.Duration(p.behind)*time.Millisecond)
}

type printer interface {
	fragment(*kvs.Fragment)
	flush()
}

// fragmentJSON is the JSON Lines record of a fragment.
type fragmentJSON struct {
	Index             int         `json:"index"`
	Offset            int64       `json:"offset"`
	Size              int64       `json:"size"`
	FragmentNumber    string      `json:"fragmentNumber,omitempty"`
	ServerTimestamp   string      `json:"serverTimestamp,omitempty"`
	ProducerTimestamp string      `json:"producerTimestamp,omitempty"`
	MillisBehindNow   *int64      `json:"millisBehindNow,omitempty"`
	ContinuationToken string      `json:"continuationToken,omitempty"`
	Error             *errorJSON  `json:"error,omitempty"`
	Tags              []tagJSON   `json:"tags,omitempty"`
	Tracks            []trackJSON `json:"tracks,omitempty"`
}

type errorJSON struct {
	Code    string `json:"code,omitempty"`
	ID      int    `json:"id,omitempty"`
	Message string `json:"message,omitempty"`
}

type tagJSON struct {
	Name   string    `json:"name"`
	Value  *string   `json:"value,omitempty"`
	Binary []byte    `json:"binary,omitempty"`
	Tags   []tagJSON `json:"tags,omitempty"`
}

type trackJSON struct {
	Number    uint64 `json:"number"`
	Type      string `json:"type"`
	CodecID   string `json:"codecId,omitempty"`
	Blocks    int    `json:"blocks"`
	Frames    int    `json:"frames"`
	Keyframes int    `json:"keyframes"`
}

type frameJSON struct {
	Fragment  int    `json:"fragment"`
	Track     uint64 `json:"track"`
	Keyframe  bool   `json:"keyframe"`
	Timestamp int64  `json:"timestampNs"`
	Duration  int64  `json:"durationNs,omitempty"`
	WallClock string `json:"wallClock"`
	Size      int    `json:"size"`
	Offset    int64  `json:"offset"`
}

// rfc3339ms formats times as RFC 3339 in UTC with milliseconds.
const rfc3339ms = "2006-01-02T15:04:05.000Z07:00"

func toJSON(f *kvs.Fragment) fragmentJSON {
	j := fragmentJSON{
		Index: f.Index, Offset: f.Offset, Size: f.Size,
		FragmentNumber:    f.Number.String(),
		ContinuationToken: f.ContinuationToken,
		Tags:              topTagsJSON(f.Tags),
	}
	if !f.ServerTimestamp.IsZero() {
		j.ServerTimestamp = f.ServerTimestamp.Time().Format(rfc3339ms)
	}
	if !f.ProducerTimestamp.IsZero() {
		j.ProducerTimestamp = f.ProducerTimestamp.Time().Format(rfc3339ms)
	}
	if f.HasMillisBehindNow {
		j.MillisBehindNow = &f.MillisBehindNow
	}
	if e := f.Err; e != nil {
		j.Error = &errorJSON{Code: e.Code, ID: e.ID, Message: e.Message}
	}
	for _, t := range f.Tracks {
		j.Tracks = append(j.Tracks, trackJSON{t.Number, t.Type.String(), t.CodecID, t.Blocks, t.Frames, t.Keyframes})
	}
	return j
}

func topTagsJSON(ts []kvs.Tag) []tagJSON {
	simple := make([]mkv.SimpleTag, len(ts))
	for i := range ts {
		simple[i] = ts[i].SimpleTag
	}
	return tagsJSON(simple)
}

func tagsJSON(ts []mkv.SimpleTag) []tagJSON {
	var out []tagJSON
	for _, t := range ts {
		j := tagJSON{Name: t.Name, Tags: tagsJSON(t.Tags)}
		if t.Binary != nil {
			j.Binary = t.Binary
		} else {
			v := t.Value
			j.Value = &v
		}
		out = append(out, j)
	}
	return out
}

type jsonPrinter struct {
	enc    *json.Encoder
	frames bool
}

func (p *jsonPrinter) fragment(f *kvs.Fragment) {
	p.enc.Encode(toJSON(f))
	if !p.frames {
		return
	}
	for i := range f.Frames {
		fr := &f.Frames[i]
		p.enc.Encode(frameJSON{
			Fragment: f.Index, Track: fr.Track, Keyframe: fr.Keyframe,
			Timestamp: int64(fr.Timestamp), Duration: int64(fr.Duration),
			WallClock: f.WallClock(fr).Format(rfc3339ms), Size: fr.Size, Offset: fr.Offset,
		})
	}
}

func (p *jsonPrinter) flush() {}

type tablePrinter struct {
	w *tabwriter.Writer
}

func newTablePrinter(w io.Writer) *tablePrinter {
	p := &tablePrinter{tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)}
	fmt.Fprintln(p.w, "INDEX\tOFFSET\tSIZE\tFRAGMENT NUMBER\tPRODUCER TIME\tSERVER TIME\tBEHIND\tFRAMES\tTAGS\tERROR")
	return p
}

func (p *tablePrinter) fragment(f *kvs.Fragment) {
	ts := func(t interface {
		IsZero() bool
		Time() time.Time
	}) string {
		if t.IsZero() {
			return "-"
		}
		return t.Time().Format(rfc3339ms)
	}
	behind := "-"
	if f.HasMillisBehindNow {
		behind = (time.Duration(f.MillisBehindNow) * time.Millisecond).String()
	}
	frames := 0
	for _, t := range f.Tracks {
		frames += t.Frames
	}
	errText := "-"
	if f.Err != nil {
		errText = f.Err.Error()
	}
	number := f.Number.String()
	if number == "" {
		number = "-"
	}
	fmt.Fprintf(p.w, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", f.Index, f.Offset, f.Size, number,
		ts(f.ProducerTimestamp), ts(f.ServerTimestamp), behind, frames, countTags(f.Tags), errText)
}

func countTags(ts []kvs.Tag) int {
	n := len(ts)
	for _, t := range ts {
		n += countSimpleTags(t.Tags)
	}
	return n
}

func countSimpleTags(ts []mkv.SimpleTag) int {
	n := len(ts)
	for _, t := range ts {
		n += countSimpleTags(t.Tags)
	}
	return n
}

func (p *tablePrinter) flush() { p.w.Flush() }
