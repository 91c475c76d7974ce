package kvsreport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// TimeLayout is how a Record writes its timestamps: RFC 3339 in UTC with
// milliseconds, as kvsdump writes them.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Record is the metadata of one fragment: where it is, when it was produced
// and received, how long it lasts, what each track holds, its in-band error
// and its tags. It is kvsdump's JSON line of a fragment (RecordOf, written
// by AppendJSON), and kvsbeam's and the reports' row (FromFragment, which
// adds Stream, DurationMillis and each track's Bytes).
type Record struct {
	// Stream is the stream's name or ARN, as it was asked for.
	Stream string `json:"stream,omitempty"`
	// Index is the fragment's position in what was read: the response for
	// kvsdump, the request's list of fragments for kvsbeam.
	Index int `json:"index"`
	// Offset is the position of the fragment's unit in the response (0 in
	// kvsbeam's records, whose responses are batches).
	Offset int64 `json:"offset"`
	// Size is the length in bytes of the fragment's unit in the response.
	Size int64 `json:"size"`
	// Partial marks a fragment the input ended or broke inside.
	Partial bool `json:"partial,omitempty"`
	// Damaged lists the faults found in the fragment's unit (its
	// kvs.Damage records), in stream order; a fragment with any is
	// damaged.
	Damaged           []Damage `json:"damaged,omitempty"`
	FragmentNumber    string   `json:"fragmentNumber,omitempty"`
	ServerTimestamp   string   `json:"serverTimestamp,omitempty"`
	ProducerTimestamp string   `json:"producerTimestamp,omitempty"`
	// DurationMillis is the fragment's length: ListFragments' when the
	// fragment was listed, otherwise the span of its frames.
	DurationMillis    int64  `json:"durationMs,omitempty"`
	MillisBehindNow   *int64 `json:"millisBehindNow,omitempty"`
	ContinuationToken string `json:"continuationToken,omitempty"`
	// Error is the in-band error the fragment's unit reports.
	Error *Error `json:"error,omitempty"`
	// Tags are all the fragment's top-level SimpleTags, the KVS tags
	// included, in document order; CustomTags leaves the KVS tags out.
	Tags   []Tag   `json:"tags,omitempty"`
	Tracks []Track `json:"tracks,omitempty"`
}

// Error is an in-band error of a fragment (tags.FragmentError).
type Error struct {
	Code    string `json:"code,omitempty"`
	ID      int    `json:"id,omitempty"`
	Message string `json:"message,omitempty"`
}

// Damage is a fault in a fragment's unit that reading went on past (a
// kvs.Damage): a CRC-32 that does not match, or an element that could not
// be decoded and the bytes skipped to the next unit.
type Damage struct {
	// Offset is the position in the response of the damaged element.
	Offset int64 `json:"offset"`
	// Element names the damaged element ("Cluster"), empty when the
	// fault is in its ID.
	Element string `json:"element,omitempty"`
	// Cause says what is wrong: "CRC-32 mismatch", "invalid element
	// size", ...
	Cause string `json:"cause"`
	// Stored and Computed are, for a CRC-32 mismatch, the CRC-32 the
	// unit holds and the one of its data, as "0x" and 8 hex digits.
	Stored   string `json:"stored,omitempty"`
	Computed string `json:"computed,omitempty"`
	// Skipped is the number of bytes skipped from the fault to the next
	// unit.
	Skipped int64 `json:"skipped,omitempty"`
}

// damageOf returns the Damage record of d.
func damageOf(d *kvs.Damage) Damage {
	r := Damage{Offset: d.Offset, Skipped: d.Skipped}
	if d.ID != 0 {
		r.Element = d.ID.Name()
	}
	if d.Err != nil {
		r.Cause = strings.TrimPrefix(d.Err.Error(), "mkv: ")
	}
	if errors.Is(d.Err, mkv.ErrChecksum) {
		r.Stored, r.Computed = fmt.Sprintf("0x%08x", d.Stored), fmt.Sprintf("0x%08x", d.Computed)
	}
	return r
}

// Text is the damage in one line, for a table or a message: "CRC-32
// mismatch in Cluster at offset 549084 (stored 0x..., computed 0x...)".
func (d *Damage) Text() string {
	var b strings.Builder
	b.WriteString(d.Cause)
	if d.Element != "" {
		b.WriteString(" in " + d.Element)
	}
	fmt.Fprintf(&b, " at offset %d", d.Offset)
	switch {
	case d.Stored != "":
		fmt.Fprintf(&b, " (stored %s, computed %s)", d.Stored, d.Computed)
	case d.Skipped > 0:
		fmt.Fprintf(&b, " (%d bytes skipped)", d.Skipped)
	}
	return b.String()
}

// Key names the error for counting: its code, or its ID when it has no code.
func (e *Error) Key() string {
	switch {
	case e.Code != "":
		return e.Code
	case e.ID != 0:
		return "ERROR_ID " + strconv.Itoa(e.ID)
	}
	return "unknown"
}

// Tag is a SimpleTag: a string Value or a Binary one, and nested Tags.
type Tag struct {
	Name   string  `json:"name"`
	Value  *string `json:"value,omitempty"`
	Binary []byte  `json:"binary,omitempty"`
	Tags   []Tag   `json:"tags,omitempty"`
}

// Track is what a fragment holds of one track.
type Track struct {
	Number    uint64 `json:"number"`
	Type      string `json:"type"`
	CodecID   string `json:"codecId,omitempty"`
	Blocks    int    `json:"blocks"`
	Frames    int    `json:"frames"`
	Keyframes int    `json:"keyframes"`
	// Bytes is the sum of the track's frame sizes, when the frames were
	// read (0 otherwise).
	Bytes int64 `json:"bytes,omitempty"`
}

// RecordOf returns the Record of what a fragment carries: its position,
// damage, number, timestamps, in-band error, tags and tracks. Stream,
// DurationMillis and the tracks' Bytes are left empty: FromFragment adds
// them.
func RecordOf(f *kvs.Fragment) Record {
	r := Record{
		Index: f.Index, Offset: f.Offset, Size: f.Size, Partial: f.Partial,
		FragmentNumber:    f.Number.String(),
		ContinuationToken: f.ContinuationToken,
		ServerTimestamp:   formatTimestamp(f.ServerTimestamp),
		ProducerTimestamp: formatTimestamp(f.ProducerTimestamp),
	}
	if f.HasMillisBehindNow {
		v := f.MillisBehindNow
		r.MillisBehindNow = &v
	}
	if len(f.Damage) > 0 {
		r.Damaged = make([]Damage, len(f.Damage))
		for i, d := range f.Damage {
			r.Damaged[i] = damageOf(d)
		}
	}
	if e := f.Err; e != nil {
		r.Error = &Error{Code: e.Code, ID: e.ID, Message: e.Message}
	}
	if len(f.Tags) > 0 {
		r.Tags = make([]Tag, len(f.Tags))
		for i := range f.Tags {
			r.Tags[i] = tagOf(&f.Tags[i].SimpleTag)
		}
	}
	if len(f.Tracks) > 0 {
		r.Tracks = make([]Track, len(f.Tracks))
		for i := range f.Tracks {
			t := &f.Tracks[i]
			r.Tracks[i] = Track{
				Number: t.Number, Type: t.Type.String(), CodecID: t.CodecID,
				Blocks: t.Blocks, Frames: t.Frames, Keyframes: t.Keyframes,
			}
		}
	}
	return r
}

// FromFragment returns the Record of a fragment of stream: RecordOf, with
// the stream, and the track bytes and the duration from f.Frames, which
// only needs each frame's metadata (kvs.WithoutFrameData is enough); with
// no frames they are 0.
func FromFragment(stream string, f *kvs.Fragment) Record {
	r := RecordOf(f)
	r.Stream = stream
	r.DurationMillis = framesSpan(f.Frames).Milliseconds()
	if len(f.Frames) > 0 {
		bytes := map[uint64]int64{}
		for i := range f.Frames {
			bytes[f.Frames[i].Track] += int64(f.Frames[i].Size)
		}
		for i := range r.Tracks {
			r.Tracks[i].Bytes = bytes[r.Tracks[i].Number]
		}
	}
	return r
}

func formatTimestamp(t tags.Timestamp) string {
	if t.IsZero() {
		return ""
	}
	return t.Time().UTC().Format(TimeLayout)
}

func tagOf(t *mkv.SimpleTag) Tag {
	j := Tag{Name: t.Name}
	if t.Binary != nil {
		j.Binary = t.Binary
	} else {
		v := t.Value
		j.Value = &v
	}
	if len(t.Tags) > 0 {
		j.Tags = make([]Tag, len(t.Tags))
		for i := range t.Tags {
			j.Tags[i] = tagOf(&t.Tags[i])
		}
	}
	return j
}

// framesSpan is how long a fragment's frames last: for each track, from its
// first frame to the end of its last (its Duration, or the track's mean
// frame spacing when the block gives none); the longest track's.
func framesSpan(frames []kvs.Frame) time.Duration {
	type span struct {
		first, last, lastDur time.Duration
		n                    int
	}
	spans := map[uint64]*span{}
	for i := range frames {
		fr := &frames[i]
		s := spans[fr.Track]
		if s == nil {
			s = &span{first: fr.Timestamp, last: fr.Timestamp}
			spans[fr.Track] = s
		}
		s.n++
		s.first = min(s.first, fr.Timestamp)
		if fr.Timestamp >= s.last {
			s.last, s.lastDur = fr.Timestamp, fr.Duration
		}
	}
	var longest time.Duration
	for _, s := range spans {
		d := s.last - s.first
		switch {
		case s.lastDur > 0:
			d += s.lastDur
		case s.n > 1:
			d += d / time.Duration(s.n-1)
		}
		longest = max(longest, d)
	}
	return longest
}

// CustomTags returns the tags that are not KVS's own (AWS_KINESISVIDEO_*):
// those the producer added.
func (r *Record) CustomTags() []Tag {
	var out []Tag
	for _, t := range r.Tags {
		if !strings.HasPrefix(t.Name, tags.Prefix) {
			out = append(out, t)
		}
	}
	return out
}

// Producer returns the producer timestamp, or the zero time when there is
// none.
func (r *Record) Producer() time.Time { return parseTime(r.ProducerTimestamp) }

// Server returns the server timestamp, or the zero time when there is none.
func (r *Record) Server() time.Time { return parseTime(r.ServerTimestamp) }

// Duration returns DurationMillis as a time.Duration.
func (r *Record) Duration() time.Duration { return time.Duration(r.DurationMillis) * time.Millisecond }

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
