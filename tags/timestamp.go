package tags

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ErrTimestamp is the cause of a malformed timestamp.
var ErrTimestamp = errors.New("tags: invalid timestamp")

// Timestamp is a KVS timestamp: decimal seconds since the Unix epoch with
// up to nanosecond precision, as the AWS_KINESISVIDEO_*_TIMESTAMP tags write
// it ("1511852109.126") and as the KVS JSON APIs write it (any JSON number:
// 1511852109.126, 1511852109, 1.511852109126E9). It is parsed exactly,
// digit by digit, never through a float64, and keeps its text. Producers
// that use relative time write small values ("0.000", "5.000"): those are
// kept as they are, as offsets from the epoch. The zero Timestamp means
// "absent"; it is what JSON null decodes to.
type Timestamp struct {
	text string
	sec  int64
	nsec int32
}

// ParseTimestamp parses decimal seconds in the grammar of a JSON number: an
// optional minus sign, digits, optionally a point and more digits, and
// optionally an exponent ("e" or "E", a sign, digits). Digits below the
// nanosecond are dropped (truncated toward zero). Trailing NUL padding, as
// producers write tags, is removed.
func ParseTimestamp(s string) (Timestamp, error) {
	s = TrimNUL(s)
	bad := func() (Timestamp, error) { return Timestamp{}, fmt.Errorf("%w: %q", ErrTimestamp, s) }
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg, i = true, 1
	}
	// The significant digits, with the position of the decimal point.
	var digits []byte
	var buf [40]byte
	digits = buf[:0]
	intDigits, fracDigits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits = append(digits, s[i])
		intDigits++
	}
	if intDigits == 0 {
		return bad()
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits = append(digits, s[i])
			fracDigits++
		}
		if fracDigits == 0 {
			return bad()
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		j := i
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j == len(s) {
			return bad()
		}
		e, err := strconv.Atoi(s[i:])
		if err != nil || e > 400 || e < -400 {
			return bad()
		}
		exp, i = e, len(s)
	}
	if i != len(s) {
		return bad()
	}
	// digits x 10^(exp - fracDigits): whole seconds are the digits before
	// the shifted point, nanoseconds the nine after it.
	point := intDigits + exp
	var sec int64
	for k := 0; k < point; k++ {
		d := int64(0)
		if k < len(digits) {
			d = int64(digits[k] - '0')
		}
		if sec > (math.MaxInt64-9)/10 {
			return bad()
		}
		sec = sec*10 + d
	}
	var nsec int32
	for k := point; k < point+9; k++ {
		nsec *= 10
		if k >= 0 && k < len(digits) {
			nsec += int32(digits[k] - '0')
		}
	}
	if neg && (sec != 0 || nsec != 0) {
		// -1.25 is 2 seconds before the epoch plus 0.75.
		sec = -sec
		if nsec != 0 {
			sec--
			nsec = 1e9 - nsec
		}
	}
	return Timestamp{text: s, sec: sec, nsec: nsec}, nil
}

// FromTime returns the Timestamp of a time, written as KVS writes them:
// seconds, a point and the milliseconds, with more digits only when the
// time has them ("1511852109.126", "1511852109.126000500"). The zero
// time.Time gives the zero Timestamp.
func FromTime(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	sec, nsec := t.Unix(), int32(t.Nanosecond())
	frac := fmt.Sprintf("%09d", nsec)
	for len(frac) > 3 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	text := strconv.FormatInt(sec, 10) + "." + frac
	if sec < 0 && nsec != 0 {
		// sec is floored: -1.25 s is Unix(-2, 750000000).
		whole, rest := -(sec + 1), 1e9-nsec
		frac = fmt.Sprintf("%09d", rest)
		for len(frac) > 3 && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		text = "-" + strconv.FormatInt(whole, 10) + "." + frac
	}
	return Timestamp{text: text, sec: sec, nsec: nsec}
}

// Time returns the timestamp as a UTC time, or the zero time.Time when t
// is zero (absent).
func (t Timestamp) Time() time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(t.sec, int64(t.nsec)).UTC()
}

// Duration returns the timestamp as a duration since the epoch; it is exact
// until the year 2262.
func (t Timestamp) Duration() time.Duration {
	return time.Duration(t.sec)*time.Second + time.Duration(t.nsec)
}

// Seconds returns the whole seconds (floored) and the nanoseconds of the
// timestamp.
func (t Timestamp) Seconds() (sec int64, nsec int32) { return t.sec, t.nsec }

// Text returns the text the timestamp was parsed from, exactly.
func (t Timestamp) Text() string { return t.text }

// String returns the time in RFC 3339 with as many fraction digits as it
// has ("2017-11-28T06:55:08.513Z"), or "" when t is zero.
func (t Timestamp) String() string {
	if t.IsZero() {
		return ""
	}
	return t.Time().Format(time.RFC3339Nano)
}

// IsZero reports whether t is the zero Timestamp, which stands for a
// missing tag or value (a parsed "0.000" is not zero).
func (t Timestamp) IsZero() bool { return t.text == "" }

// Equal reports whether t and u are the same instant, however written.
func (t Timestamp) Equal(u Timestamp) bool {
	return t.IsZero() == u.IsZero() && t.sec == u.sec && t.nsec == u.nsec
}

// Compare returns -1, 0 or +1 as t is before, at or after u. The zero
// Timestamp is before every other.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.IsZero() || u.IsZero():
		if t.IsZero() == u.IsZero() {
			return 0
		}
		if t.IsZero() {
			return -1
		}
		return 1
	case t.sec != u.sec:
		if t.sec < u.sec {
			return -1
		}
		return 1
	case t.nsec != u.nsec:
		if t.nsec < u.nsec {
			return -1
		}
		return 1
	}
	return 0
}

// MarshalJSON writes the timestamp as a JSON number of seconds, in its own
// text when that is a plain decimal, or null when t is zero.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(t.text), nil
}

// UnmarshalJSON reads any JSON number of seconds (integer, decimal or with
// an exponent), exactly; a JSON string holding one; and null, which leaves
// t zero.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*t = Timestamp{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	ts, err := ParseTimestamp(s)
	if err != nil {
		return err
	}
	*t = ts
	return nil
}
