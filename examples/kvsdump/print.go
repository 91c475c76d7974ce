package main

import (
	"fmt"
	"io"
	"os"
	"slices"
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
// wider value pushes the rest of its row to the right. The header comes
// with the first row, so that a dump that fails before any fragment (a
// stream not found) prints no table at all.
type tablePrinter struct {
	out    *output
	header bool // printed
}

// tableWidths are the widths of the columns but the last; a fragment
// number has 47 digits.
var tableWidths = []int{5, 10, 9, 47, 24, 24, 12, 6, 4}

func newTablePrinter(out *output) *tablePrinter {
	return &tablePrinter{out: out}
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
		behind = behindCell(f.MillisBehindNow)
	}
	frames := 0
	for _, t := range f.Tracks {
		frames += t.Frames
	}
	if !p.header {
		p.row("INDEX", "OFFSET", "SIZE", "FRAGMENT NUMBER", "PRODUCER TIME", "SERVER TIME", "BEHIND", "FRAMES", "TAGS", "ERROR")
		p.header = true
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

// errorCell is the ERROR column: the in-band error, "partial" for a
// fragment that was cut off, and its damage.
func errorCell(f *kvs.Fragment) string {
	var parts []string
	if f.Partial {
		parts = append(parts, "partial")
	}
	if f.Err != nil {
		parts = append(parts, f.Err.Error())
	}
	parts = append(parts, damageTexts(f)...)
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

// behindCell writes a lag behind now in a fixed width, 12 characters up
// to 999 hours, so that a table's columns stay in line: "  0h00m01.1s",
// " 26h02m17.5s".
func behindCell(ms int64) string {
	tenths := (max(ms, 0) + 50) / 100
	return fmt.Sprintf("%3dh%02dm%02d.%ds", tenths/36000, tenths/600%60, tenths/10%60, tenths%10)
}

// progress reports on stderr, when it is a terminal, on one line it
// rewrites: fragments, bytes, rate and lag while fragments come, and a
// waiting line with the time since the last one when none came for a
// second. done ends the line. With several streams it sums them, counts
// the failed ones and names the one furthest behind now.
type progress struct {
	w         io.Writer
	on, shown bool
	// start is when reading began, last when the last fragment came, and
	// drawn when the line was last written.
	start, last, drawn time.Time
	fragments, bytes   int64
	// streams is how many streams are read when several are, else 0;
	// failed counts those that failed.
	streams, failed int
	// behind is each stream's last MillisBehindNow (one stream's under "").
	behind map[string]int64
}

func newProgress(w io.Writer) *progress {
	now := time.Now()
	return &progress{w: w, start: now, last: now, on: isTerminal(w), behind: map[string]int64{}}
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// fragment counts f, of stream (the one stream: ""), and rewrites the
// line when a second has passed since it was last written.
func (p *progress) fragment(stream string, f *kvs.Fragment) {
	p.fragments++
	p.bytes += f.Size
	if f.HasMillisBehindNow {
		p.behind[stream] = f.MillisBehindNow
	}
	p.last = time.Now()
	if p.on && p.last.Sub(p.drawn) >= time.Second {
		p.draw(p.last)
	}
}

// fail counts a stream that failed; its lag is no longer shown.
func (p *progress) fail(stream string) {
	p.failed++
	delete(p.behind, stream)
}

// tick is called once a second: it rewrites the line, which says how long
// kvsdump has been waiting when no fragment came in the last second.
func (p *progress) tick(now time.Time) {
	if p.on {
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(now))
	p.shown, p.drawn = true, now
}

// line is the text of the progress line at now: "120 fragments, 14.2 MB,
// 0.47 MB/s, 1.5s behind now", or with several streams "3 streams (1
// failed), 120 fragments, 14.2 MB, 0.47 MB/s, slowest cam-2 1.5s behind
// now".
func (p *progress) line(now time.Time) string {
	idle := now.Sub(p.last).Truncate(time.Second)
	switch {
	case idle >= time.Second && p.fragments == 0:
		return fmt.Sprintf("waiting for the first fragment: %v", idle)
	case idle >= time.Second:
		return fmt.Sprintf("waiting: %v since the last fragment (%d so far, %.1f MB)", idle, p.fragments, float64(p.bytes)/1e6)
	}
	var b strings.Builder
	if p.streams > 0 {
		fmt.Fprintf(&b, "%d streams", p.streams)
		if p.failed > 0 {
			fmt.Fprintf(&b, " (%d failed)", p.failed)
		}
		b.WriteString(", ")
	}
	mb := float64(p.bytes) / 1e6
	fmt.Fprintf(&b, "%d fragments, %.1f MB, %.2f MB/s", p.fragments, mb, mb/max(now.Sub(p.start).Seconds(), 1e-3))
	if name, lag, ok := p.slowest(); ok && p.streams > 0 {
		fmt.Fprintf(&b, ", slowest %s %s behind now", name, strings.TrimLeft(behindCell(lag), " "))
	} else if ok {
		fmt.Fprintf(&b, ", %s behind now", strings.TrimLeft(behindCell(lag), " "))
	}
	return b.String()
}

// slowest returns the stream furthest behind now, the first by name of
// those equally far.
func (p *progress) slowest() (name string, lag int64, ok bool) {
	names := make([]string, 0, len(p.behind))
	for n := range p.behind {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !ok || p.behind[n] > lag {
			name, lag, ok = n, p.behind[n], true
		}
	}
	return name, lag, ok
}

// clear removes the line, if one is shown, so that a table row written to
// the same terminal starts at the left margin; the next tick writes it
// again.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// done ends the progress line, if one was shown, so that what follows on
// the terminal starts on a line of its own.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
