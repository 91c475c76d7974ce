package tags

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrTimestamp is the cause of a malformed timestamp.
var ErrTimestamp = errors.New("tags: invalid timestamp")

// Timestamp is a KVS timestamp: decimal seconds since the Unix epoch with
// up to nanosecond precision, usually milliseconds ("1511852109.126"). It is
// parsed exactly, digit by digit, never through a float64, and keeps its
// text. Producers that use relative time write small values ("0.000",
// "5.000"): those are kept as they are, as offsets from the epoch.
// The zero Timestamp means "absent".
type Timestamp struct {
	text string
	sec  int64
	nsec int32
}

// ParseTimestamp parses decimal seconds: digits, optionally a point and 1
// to 9 more digits. Trailing NUL padding is removed.
func ParseTimestamp(s string) (Timestamp, error) {
	s = TrimNUL(s)
	bad := func() (Timestamp, error) { return Timestamp{}, fmt.Errorf("%w: %q", ErrTimestamp, s) }
	var sec int64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' || sec > (math.MaxInt64-9)/10 {
			return bad()
		}
		sec = sec*10 + int64(c-'0')
	}
	if i == 0 {
		return bad()
	}
	var nsec int32
	if i < len(s) {
		frac := s[i+1:]
		if len(frac) == 0 || len(frac) > 9 {
			return bad()
		}
		for j := 0; j < 9; j++ {
			nsec *= 10
			if j < len(frac) {
				c := frac[j]
				if c < '0' || c > '9' {
					return bad()
				}
				nsec += int32(c - '0')
			}
		}
	}
	return Timestamp{text: s, sec: sec, nsec: nsec}, nil
}

// Time returns the timestamp as a UTC time.
func (t Timestamp) Time() time.Time { return time.Unix(t.sec, int64(t.nsec)).UTC() }

// Duration returns the timestamp as a duration since the epoch; it is exact
// until the year 2262.
func (t Timestamp) Duration() time.Duration {
	return time.Duration(t.sec)*time.Second + time.Duration(t.nsec)
}

// Seconds returns the whole seconds and the nanoseconds of the timestamp.
func (t Timestamp) Seconds() (sec int64, nsec int32) { return t.sec, t.nsec }

// String returns the text the timestamp was parsed from.
func (t Timestamp) String() string { return t.text }

// IsZero reports whether t is the zero Timestamp, which stands for a
// missing tag (a parsed "0.000" is not zero).
func (t Timestamp) IsZero() bool { return t.text == "" }
