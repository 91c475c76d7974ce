package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

type printer interface {
	frame(*kvs.Fragment, *kvs.Frame)
	fragment(*kvs.Fragment)
	flush()
}

// fragmentJSON is the JSON Lines record of a fragment.
type fragmentJSON struct {
	Index             int         `json:"index"`
	Offset            int64       `json:"offset"`
	Size              int64       `json:"size"`
	Partial           bool        `json:"partial,omitempty"`
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
		Index: f.Index, Offset: f.Offset, Size: f.Size, Partial: f.Partial,
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

// jsonPrinter prints JSON Lines: with -frames a line per frame as it is
// read, and a line per fragment when it is complete.
type jsonPrinter struct {
	out    *output
	enc    *json.Encoder
	frames bool
}

func newJSONPrinter(out *output, frames bool) *jsonPrinter {
	return &jsonPrinter{out: out, enc: json.NewEncoder(out), frames: frames}
}

func (p *jsonPrinter) frame(f *kvs.Fragment, fr *kvs.Frame) {
	if !p.frames {
		return
	}
	p.enc.Encode(frameJSON{
		Fragment: f.Index, Track: fr.Track, Keyframe: fr.Keyframe,
		Timestamp: int64(fr.Timestamp), Duration: int64(fr.Duration),
		WallClock: f.WallClock(fr).Format(rfc3339ms), Size: fr.Size, Offset: fr.Offset,
	})
	p.out.lineDone()
}

func (p *jsonPrinter) fragment(f *kvs.Fragment) {
	p.enc.Encode(toJSON(f))
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
	return t.Time().Format(rfc3339ms)
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
