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
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
)

//go:embed sample.mkv
var sample []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kvsdump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	frames := fs.Bool("frames", false, "also print one JSON line per frame")
	table := fs.Bool("table", false, "print a human-readable table instead of JSON lines")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kvsdump [flags] [FILE|-]\n\nPrints the fragments of a KVS GetMedia or GetMediaForFragmentList response.\nWith no FILE, dumps a built-in sample stream.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}

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

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var p printer
	if *table {
		p = newTablePrinter(out)
	} else {
		p = &jsonPrinter{enc: json.NewEncoder(out), frames: *frames}
	}
	r := kvs.NewReader(bufio.NewReaderSize(in, 1<<16), kvs.WithoutFrameData())
	for {
		f, err := r.Next()
		if err == io.EOF {
			p.flush()
			return 0
		}
		if err != nil {
			p.flush()
			out.Flush()
			fmt.Fprintf(stderr, "kvsdump: %v\n", err)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				fmt.Fprintf(stderr, "kvsdump: the input was cut off after %d bytes\n", r.InputOffset())
			}
			return 1
		}
		p.fragment(f)
	}
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
		Tags:              tagsJSON(f.Tags),
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

func tagsJSON(ts []kvs.Tag) []tagJSON {
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
		n += countTags(t.Tags)
	}
	return n
}

func (p *tablePrinter) flush() { p.w.Flush() }
