package kvsaws

import (
	"context"
	"fmt"
	"time"
)

// Span is where a stream's fragments are in time, as FragmentSpan found
// them.
type Span struct {
	// Fragments is how many fragments were listed: all of the stream's,
	// or the limit when Complete is false.
	Fragments int
	// Complete tells whether every fragment was listed.
	Complete bool
	// First and Last are the earliest and latest timestamps listed.
	First, Last time.Time
}

// String says where the fragments are, for a message about a time range
// that holds none: "its 12 fragments are from ... to ...", "among its
// first 1000 fragments listed, ...", or "the stream holds no fragment at
// all".
func (s Span) String() string {
	const layout = "2006-01-02T15:04:05.000Z07:00"
	from, to := s.First.UTC().Format(layout), s.Last.UTC().Format(layout)
	switch {
	case s.Fragments == 0:
		return "the stream holds no fragment at all"
	case !s.Complete:
		return fmt.Sprintf("among its first %d fragments listed, the earliest is at %s and the latest at %s", s.Fragments, from, to)
	}
	return fmt.Sprintf("its %d fragments are from %s to %s", s.Fragments, from, to)
}

// FragmentSpan lists stream's fragments over all time, limit of them at
// most (0: all), and returns the earliest and latest of their timestamps
// of typ (ProducerTimestamp or ServerTimestamp): where to look when a time
// range came back empty.
func (c *Client) FragmentSpan(ctx context.Context, stream string, typ FragmentSelectorType, limit int) (Span, error) {
	var s Span
	all := Range(typ, time.Unix(0, 0), time.Now().Add(24*time.Hour))
	for f, err := range c.ListFragments(ctx, stream, all) {
		if err != nil {
			return Span{}, err
		}
		if s.Fragments == limit && limit > 0 {
			return s, nil
		}
		at := f.ProducerTimestamp.Time()
		if typ == ServerTimestamp {
			at = f.ServerTimestamp.Time()
		}
		if s.Fragments == 0 || at.Before(s.First) {
			s.First = at
		}
		if s.Fragments == 0 || at.After(s.Last) {
			s.Last = at
		}
		s.Fragments++
	}
	s.Complete = true
	return s, nil
}

// DescribeEmpty says that stream's time range from start to end, by
// timestamps of typ, holds no fragment and, from FragmentSpan over the
// first limit fragments listed, where the stream's fragments are (left out
// when that listing fails). elsewhere reports whether the stream has
// fragments outside the range.
func (c *Client) DescribeEmpty(ctx context.Context, stream string, typ FragmentSelectorType, start, end time.Time, limit int) (msg string, elsewhere bool) {
	kind := "producer"
	if typ == ServerTimestamp {
		kind = "server"
	}
	msg = fmt.Sprintf("no fragment of %s in %s to %s (%s timestamps)", stream,
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), kind)
	span, err := c.FragmentSpan(ctx, stream, typ, limit)
	if err != nil {
		return msg, false
	}
	return msg + "; " + span.String(), span.Fragments > 0
}
