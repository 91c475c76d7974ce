package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/mkv"
)

type printer interface {
	frame(*kvs.Fragment, *kvs.Frame)
	fragment(*kvs.Fragment)
	flush()
}

// A fragment's JSON line is its kvsreport.Record (RecordOf), written by
// Record.AppendJSON; a frame's line is appended here, field by field, as
// encoding/json writes it (print_test.go checks both against it):
//
//	{"fragment", "track", "keyframe", "timestampNs", "durationNs"?,
//	 "wallClock", "size", "offset"}
//
// (? marks a field left out when empty).

// appendFragment appends the JSON Lines record of f, newline included.
func appendFragment(b []byte, f *kvs.Fragment) []byte {
	r := kvsreport.RecordOf(f)
	return append(r.AppendJSON(b), '\n')
}

// appendFrame appends the JSON Lines record of a frame of f, newline
// included.
func appendFrame(b []byte, f *kvs.Fragment, fr *kvs.Frame) []byte {
	b = strconv.AppendInt(append(b, `{"fragment":`...), int64(f.Index), 10)
	b = strconv.AppendUint(append(b, `,"track":`...), fr.Track, 10)
	b = strconv.AppendBool(append(b, `,"keyframe":`...), fr.Keyframe)
	b = strconv.AppendInt(append(b, `,"timestampNs":`...), int64(fr.Timestamp), 10)
	if fr.Duration != 0 {
		b = strconv.AppendInt(append(b, `,"durationNs":`...), int64(fr.Duration), 10)
	}
	b = appendTime(append(b, `,"wallClock":`...), f.WallClock(fr))
	b = strconv.AppendInt(append(b, `,"size":`...), int64(fr.Size), 10)
	b = strconv.AppendInt(append(b, `,"offset":`...), fr.Offset, 10)
	return append(b, "}\n"...)
}

// appendTime appends t in RFC 3339 with milliseconds, quoted: digits and
// punctuation that need no escaping.
func appendTime(b []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(b, '"'), kvsreport.TimeLayout), '"')
}

// jsonPrinter prints JSON Lines: with -frames a line per frame as it is
// read, and a line per fragment when it is complete. Each line is
// appended to buf and written whole.
type jsonPrinter struct {
	out    *output
	buf    []byte
	frames bool
}

func newJSONPrinter(out *output, frames bool) *jsonPrinter {
	return &jsonPrinter{out: out, buf: make([]byte, 0, 4<<10), frames: frames}
}

func (p *jsonPrinter) frame(f *kvs.Fragment, fr *kvs.Frame) {
	if !p.frames {
		return
	}
	p.buf = appendFrame(p.buf[:0], f, fr)
	p.out.Write(p.buf)
	p.out.lineDone()
}

func (p *jsonPrinter) fragment(f *kvs.Fragment) {
	p.buf = appendFragment(p.buf[:0], f)
	p.out.Write(p.buf)
	p.out.lineDone()
}

func (p *jsonPrinter) flush() {}

// tablePrinter prints a row per fragment in columns of fixed widths, so
// that each row can be written as soon as its fragment is complete; a
// wider value pushes the rest of its row to the right.
type tablePrinter struct {
	out *output
}

// tableWidths are the widths of the columns but the last; a fragment
// number has 47 digits.
var tableWidths = []int{5, 10, 9, 47, 24, 24, 8, 6, 4}

func newTablePrinter(out *output) *tablePrinter {
	p := &tablePrinter{out}
	p.row("INDEX", "OFFSET", "SIZE", "FRAGMENT NUMBER", "PRODUCER TIME", "SERVER TIME", "BEHIND", "FRAMES", "TAGS", "ERROR")
	return p
}

func (p *tablePrinter) row(cells ...string) {
	var b strings.Builder
	for i, c := range cells {
		if i < len(tableWidths) {
			fmt.Fprintf(&b, "%-*s  ", tableWidths[i], c)
		} else {
			b.WriteString(c)
		}
	}
	fmt.Fprintln(p.out, b.String())
	p.out.lineDone()
}

func (p *tablePrinter) frame(*kvs.Fragment, *kvs.Frame) {}

func (p *tablePrinter) fragment(f *kvs.Fragment) {
	behind := "-"
	if f.HasMillisBehindNow {
		behind = (time.Duration(f.MillisBehindNow) * time.Millisecond).String()
	}
	frames := 0
	for _, t := range f.Tracks {
		frames += t.Frames
	}
	p.row(fmt.Sprint(f.Index), fmt.Sprint(f.Offset), fmt.Sprint(f.Size), orDash(f.Number.String()),
		timeCell(f.ProducerTimestamp), timeCell(f.ServerTimestamp), behind, fmt.Sprint(frames),
		fmt.Sprint(countTags(f.Tags)), errorCell(f))
}

func (p *tablePrinter) flush() {}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeCell(t interface {
	IsZero() bool
	Time() time.Time
}) string {
	if t.IsZero() {
		return "-"
	}
	return t.Time().Format(kvsreport.TimeLayout)
}

// errorCell is the ERROR column: the in-band error, and "partial" for a
// fragment that was cut off.
func errorCell(f *kvs.Fragment) string {
	var parts []string
	if f.Partial {
		parts = append(parts, "partial")
	}
	if f.Err != nil {
		parts = append(parts, f.Err.Error())
	}
	return orDash(strings.Join(parts, "; "))
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

// progress reports fragments, bytes, rate and lag on stderr, once a second,
// when stderr is a terminal, on one line it rewrites; done ends the line.
type progress struct {
	w                io.Writer
	on, shown        bool
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
	p.shown = true
}

// done ends the progress line, if one was shown, so that what follows on
// the terminal starts on a line of its own.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
