package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/mkv"
)

type printer interface {
	frame(*kvs.Fragment, *kvs.Frame)
	fragment(*kvs.Fragment)
	flush()
}

// The JSON Lines records are appended by hand, field by field, in the
// order and with the escaping encoding/json gives (print_test.go checks
// them against it): a fragment line is
//
//	{"index", "offset", "size", "partial"?, "fragmentNumber"?,
//	 "serverTimestamp"?, "producerTimestamp"?, "millisBehindNow"?,
//	 "continuationToken"?, "error"?: {"code"?, "id"?, "message"?},
//	 "tags"?: [{"name", "value"?, "binary"? (base64), "tags"?}],
//	 "tracks"?: [{"number", "type", "codecId"?, "blocks", "frames", "keyframes"}]}
//
// (? marks a field left out when empty), a frame line
//
//	{"fragment", "track", "keyframe", "timestampNs", "durationNs"?,
//	 "wallClock", "size", "offset"}

// appendFragment appends the JSON Lines record of f, newline included.
func appendFragment(b []byte, f *kvs.Fragment) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(f.Index), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, f.Offset, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, f.Size, 10)
	if f.Partial {
		b = append(b, `,"partial":true`...)
	}
	if n := f.Number.String(); n != "" {
		b = appendString(append(b, `,"fragmentNumber":`...), n)
	}
	if !f.ServerTimestamp.IsZero() {
		b = appendTime(append(b, `,"serverTimestamp":`...), f.ServerTimestamp.Time())
	}
	if !f.ProducerTimestamp.IsZero() {
		b = appendTime(append(b, `,"producerTimestamp":`...), f.ProducerTimestamp.Time())
	}
	if f.HasMillisBehindNow {
		b = strconv.AppendInt(append(b, `,"millisBehindNow":`...), f.MillisBehindNow, 10)
	}
	if f.ContinuationToken != "" {
		b = appendString(append(b, `,"continuationToken":`...), f.ContinuationToken)
	}
	if e := f.Err; e != nil {
		b = append(b, `,"error":{`...)
		sep := ""
		if e.Code != "" {
			b = appendString(append(b, `"code":`...), e.Code)
			sep = ","
		}
		if e.ID != 0 {
			b = strconv.AppendInt(append(append(b, sep...), `"id":`...), int64(e.ID), 10)
			sep = ","
		}
		if e.Message != "" {
			b = appendString(append(append(b, sep...), `"message":`...), e.Message)
		}
		b = append(b, '}')
	}
	if len(f.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i := range f.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTag(b, &f.Tags[i].SimpleTag)
		}
		b = append(b, ']')
	}
	if len(f.Tracks) > 0 {
		b = append(b, `,"tracks":[`...)
		for i := range f.Tracks {
			t := &f.Tracks[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(append(b, `{"number":`...), t.Number, 10)
			b = appendString(append(b, `,"type":`...), t.Type.String())
			if t.CodecID != "" {
				b = appendString(append(b, `,"codecId":`...), t.CodecID)
			}
			b = strconv.AppendInt(append(b, `,"blocks":`...), int64(t.Blocks), 10)
			b = strconv.AppendInt(append(b, `,"frames":`...), int64(t.Frames), 10)
			b = strconv.AppendInt(append(b, `,"keyframes":`...), int64(t.Keyframes), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendTag appends a SimpleTag and the tags nested in it: its value, or
// its binary value in base64 when it has one.
func appendTag(b []byte, t *mkv.SimpleTag) []byte {
	b = appendString(append(b, `{"name":`...), t.Name)
	if t.Binary == nil {
		b = appendString(append(b, `,"value":`...), t.Value)
	} else if len(t.Binary) > 0 {
		b = append(b, `,"binary":"`...)
		b = base64.StdEncoding.AppendEncode(b, t.Binary)
		b = append(b, '"')
	}
	if len(t.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i := range t.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTag(b, &t.Tags[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
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

// appendString appends s as a JSON string, escaped as encoding/json does
// by default: quotes, backslashes and control characters, <, > and & for
// HTML, U+2028 and U+2029 for JavaScript, and each byte of invalid UTF-8
// as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
