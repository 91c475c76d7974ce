package kvsreport

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/kvsmkv/kvsmkv/tags"
)

// Summary is what the records of one stream add up to: how many fragments,
// how much media, the spans of time the media covers without a gap longer
// than GapThresholdMillis, the in-band errors by code, and the fragments
// cut off or damaged.
//
// Summaries are built with Add and combined with Merge in any order and
// any grouping, with the same result: that is what lets a distributed
// engine (kvsbeam) sum a stream's records on many workers. Its state is
// its exported fields; its JSON also holds the Gaps, which are derived.
type Summary struct {
	Stream    string `json:"stream"`
	Fragments int    `json:"fragments"`
	// DurationMillis is the sum of the fragments' durations.
	DurationMillis int64 `json:"durationMs"`
	// GapThresholdMillis is the longest space between two fragments that
	// is not a gap.
	GapThresholdMillis int64 `json:"gapThresholdMs"`
	// Spans are the stretches of producer time covered by fragments
	// without an in-band error, in order, each more than the threshold
	// apart from the next.
	Spans []Span `json:"spans,omitempty"`
	// Errors counts the fragments with an in-band error by Error.Key.
	Errors map[string]int `json:"errors,omitempty"`
	// Partial counts the fragments that were cut off.
	Partial int `json:"partial,omitempty"`
	// Damaged counts the fragments with damage (Record.Damaged), and
	// SkippedBytes the bytes skipped past their faults.
	Damaged      int   `json:"damaged,omitempty"`
	SkippedBytes int64 `json:"skippedBytes,omitempty"`
}

// Span is a stretch of producer time covered by fragments, from the start
// of its first to the end of its last.
type Span struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	First     string    `json:"first"`
	Last      string    `json:"last"`
	Fragments int       `json:"fragments"`
}

// Gap is a space between two spans: no media from Start to End. After and
// Before are the fragment numbers on its two sides.
type Gap struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	DurationMillis int64     `json:"durationMs"`
	After          string    `json:"after"`
	Before         string    `json:"before"`
}

// Duration returns the gap's length.
func (g Gap) Duration() time.Duration { return g.End.Sub(g.Start) }

// NewSummary returns the empty Summary of stream, where spaces longer than
// gap between fragments are gaps.
func NewSummary(stream string, gap time.Duration) Summary {
	return Summary{Stream: stream, GapThresholdMillis: gap.Milliseconds()}
}

// Add counts a record. A record with a producer timestamp and no in-band
// error covers producer time from that timestamp for its duration.
func (s *Summary) Add(r Record) {
	s.Fragments++
	if r.Partial {
		s.Partial++
	}
	if len(r.Damaged) > 0 {
		s.Damaged++
		for _, d := range r.Damaged {
			s.SkippedBytes += d.Skipped
		}
	}
	if r.Error != nil {
		if s.Errors == nil {
			s.Errors = map[string]int{}
		}
		s.Errors[r.Error.Key()]++
		return
	}
	s.DurationMillis += r.DurationMillis
	start := r.Producer()
	if start.IsZero() {
		return
	}
	s.insert(Span{Start: start, End: start.Add(r.Duration()), First: r.FragmentNumber, Last: r.FragmentNumber, Fragments: 1})
}

// Merge adds the counts and spans of o, a Summary of the same stream with
// the same threshold.
func (s *Summary) Merge(o Summary) {
	s.Fragments += o.Fragments
	s.Partial += o.Partial
	s.Damaged += o.Damaged
	s.SkippedBytes += o.SkippedBytes
	s.DurationMillis += o.DurationMillis
	for k, n := range o.Errors {
		if s.Errors == nil {
			s.Errors = map[string]int{}
		}
		s.Errors[k] += n
	}
	for _, sp := range o.Spans {
		s.insert(sp)
	}
}

// insert puts sp among the spans, joining it with those it is within the
// threshold of. Records mostly come in order, so this is mostly an append.
func (s *Summary) insert(sp Span) {
	i := sort.Search(len(s.Spans), func(i int) bool { return s.Spans[i].Start.After(sp.Start) })
	s.Spans = append(s.Spans, Span{})
	copy(s.Spans[i+1:], s.Spans[i:])
	s.Spans[i] = sp
	if i > 0 && s.near(s.Spans[i-1], s.Spans[i]) {
		i--
		s.join(i)
	}
	for i+1 < len(s.Spans) && s.near(s.Spans[i], s.Spans[i+1]) {
		s.join(i)
	}
}

// near reports whether b, which starts no earlier than a, starts within the
// threshold of a's end.
func (s *Summary) near(a, b Span) bool {
	return b.Start.Sub(a.End) <= time.Duration(s.GapThresholdMillis)*time.Millisecond
}

// join makes spans i and i+1 one. Ties are broken by fragment number, so
// that the result does not depend on the order of Adds and Merges.
func (s *Summary) join(i int) {
	a, b := s.Spans[i], s.Spans[i+1]
	j := Span{Start: a.Start, End: a.End, First: a.First, Last: a.Last, Fragments: a.Fragments + b.Fragments}
	if b.Start.Before(j.Start) || b.Start.Equal(j.Start) && numberLess(b.First, j.First) {
		j.Start, j.First = b.Start, b.First
	}
	if b.End.After(j.End) || b.End.Equal(j.End) && numberLess(j.Last, b.Last) {
		j.End, j.Last = b.End, b.Last
	}
	s.Spans[i] = j
	s.Spans = append(s.Spans[:i+1], s.Spans[i+2:]...)
}

func numberLess(a, b string) bool {
	return tags.FragmentNumber(a).Compare(tags.FragmentNumber(b)) < 0
}

// Gaps returns the spaces between the spans, in order.
func (s *Summary) Gaps() []Gap {
	var gaps []Gap
	for i := 1; i < len(s.Spans); i++ {
		a, b := s.Spans[i-1], s.Spans[i]
		gaps = append(gaps, Gap{Start: a.End, End: b.Start, DurationMillis: b.Start.Sub(a.End).Milliseconds(), After: a.Last, Before: b.First})
	}
	return gaps
}

// Start returns the start of the first span (zero when there is none).
func (s *Summary) Start() time.Time {
	if len(s.Spans) == 0 {
		return time.Time{}
	}
	return s.Spans[0].Start
}

// End returns the end of the last span (zero when there is none).
func (s *Summary) End() time.Time {
	if len(s.Spans) == 0 {
		return time.Time{}
	}
	return s.Spans[len(s.Spans)-1].End
}

// MarshalJSON writes the Summary's fields and its Gaps.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		Gaps []Gap `json:"gaps,omitempty"`
	}{plain(s), s.Gaps()})
}

// Summarize returns the Summary of each stream of records, ordered by
// stream.
func Summarize(records []Record, gap time.Duration) []Summary {
	byStream := map[string]*Summary{}
	var streams []string
	for _, r := range records {
		s := byStream[r.Stream]
		if s == nil {
			n := NewSummary(r.Stream, gap)
			s = &n
			byStream[r.Stream] = s
			streams = append(streams, r.Stream)
		}
		s.Add(r)
	}
	sort.Strings(streams)
	out := make([]Summary, len(streams))
	for i, name := range streams {
		out[i] = *byStream[name]
	}
	return out
}
