package tags_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/tags"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name string
		want tags.Key
	}{
		{"AWS_KINESISVIDEO_FRAGMENT_NUMBER", tags.KeyFragmentNumber},
		{"AWS_KINESISVIDEO_SERVER_TIMESTAMP", tags.KeyServerTimestamp},
		{"AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP", tags.KeyServerTimestamp},
		{"AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", tags.KeyProducerTimestamp},
		{"AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP\x00", tags.KeyProducerTimestamp},
		{"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", tags.KeyMillisBehindNow},
		{"AWS_KINESISVIDEO_CONTINUATION_TOKEN", tags.KeyContinuationToken},
		{"AWS_KINESISVIDEO_ERROR_CODE", tags.KeyErrorCode},
		{"AWS_KINESISVIDEO_ERROR_ID", tags.KeyErrorID},
		{"AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE", tags.KeyExceptionErrorCode},
		{"AWS_KINESISVIDEO_EXCEPTION_MESSAGE", tags.KeyExceptionMessage},
		{"aws_kinesisvideo_fragment_number", tags.KeyOther},
		{"ENCODER", tags.KeyOther},
		{"", tags.KeyOther},
	}
	for _, tt := range tests {
		if got := tags.Lookup(tt.name); got != tt.want {
			t.Errorf("Lookup(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFragmentNumber(t *testing.T) {
	for _, bad := range []string{"", "12a", "-1", "1.5", " 1", string(make([]byte, 129))} {
		if _, err := tags.ParseFragmentNumber(bad); !errors.Is(err, tags.ErrFragmentNumber) {
			t.Errorf("ParseFragmentNumber(%q) error = %v, want ErrFragmentNumber", bad, err)
		}
	}
	long := "9"
	for len(long) < 128 {
		long += "0"
	}
	if _, err := tags.ParseFragmentNumber(long); err != nil {
		t.Errorf("128 digits: %v", err)
	}
	n, err := tags.ParseFragmentNumber("91343852333181432392682062607743920146159169392\x00\x00")
	if err != nil || n != "91343852333181432392682062607743920146159169392" {
		t.Fatalf("NUL-padded number: %q, %v", n, err)
	}
	tests := []struct {
		a, b tags.FragmentNumber
		want int
	}{
		{"9", "10", -1}, // string order says +1
		{"10", "9", 1},
		{"00010", "10", 0},
		{"91343852333181432392682062607743920146159169392", "91343852333181432397633822764885441725874549018", -1},
		{"913438523331814323926820626077439201461591693920", "91343852333181432397633822764885441725874549018", 1},
		{"5", "5", 0},
	}
	for _, tt := range tests {
		if got := tt.a.Compare(tt.b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		sec  int64
		nsec int32
	}{
		{"1511852109.126", 1511852109, 126000000},
		{"1511852109.1", 1511852109, 100000000},
		{"0.000", 0, 0},
		{"5.000\x00", 5, 0},
		{"1537574915.281", 1537574915, 281000000},
		{"12", 12, 0},
		{"1.000000001", 1, 1},
		// 0.1 + 0.2 style values that a float64 would round.
		{"1511852109.129", 1511852109, 129000000},
		{"9007199254740993.001", 9007199254740993, 1000000},
		// JSON numbers as AWS services write them.
		{"1.735442939457E9", 1735442939, 457000000},
		{"1.586040338006e+9", 1586040338, 6000000},
		{"1511852109", 1511852109, 0},
		{"15118521091260e-4", 1511852109, 126000000},
		{"1e9", 1000000000, 0},
		{"1.0000000001", 1, 0}, // below the nanosecond: truncated
		{"-1.25", -2, 750000000},
	}
	for _, tt := range tests {
		ts, err := tags.ParseTimestamp(tt.in)
		if err != nil {
			t.Fatalf("ParseTimestamp(%q): %v", tt.in, err)
		}
		sec, nsec := ts.Seconds()
		if sec != tt.sec || nsec != tt.nsec {
			t.Errorf("ParseTimestamp(%q) = %d s %d ns, want %d s %d ns", tt.in, sec, nsec, tt.sec, tt.nsec)
		}
		if ts.IsZero() || ts.Text() != tags.TrimNUL(tt.in) {
			t.Errorf("ParseTimestamp(%q) kept text %q", tt.in, ts.Text())
		}
	}
	ts, _ := tags.ParseTimestamp("1511852109.126")
	if got, want := ts.Time(), time.Date(2017, 11, 28, 6, 55, 9, 126e6, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got := ts.Duration(); got != 1511852109126*time.Millisecond {
		t.Errorf("Duration() = %v", got)
	}
	if got := ts.String(); got != "2017-11-28T06:55:09.126Z" {
		t.Errorf("String() = %q, want the date", got)
	}
	if got := (tags.Timestamp{}).Time(); !got.IsZero() {
		t.Errorf("zero Timestamp's Time() = %v, want the zero time.Time", got)
	}
	for _, bad := range []string{"", ".5", "5.", "1.2.3", "1e", "1e+", "1E9.5", "--1", "+1", "99999999999999999999", "1e400", "1,5", "abc", " 1"} {
		if _, err := tags.ParseTimestamp(bad); !errors.Is(err, tags.ErrTimestamp) {
			t.Errorf("ParseTimestamp(%q) error = %v, want ErrTimestamp", bad, err)
		}
	}
	if !(tags.Timestamp{}).IsZero() {
		t.Error("zero Timestamp is not IsZero")
	}
}

func TestTimestampJSON(t *testing.T) {
	var page struct {
		Fragments []struct {
			ProducerTimestamp tags.Timestamp
			ServerTimestamp   tags.Timestamp
		}
	}
	in := `{"Fragments":[
		{"ProducerTimestamp":1.735442939457E9,"ServerTimestamp":1735442940},
		{"ProducerTimestamp":1735442939.457,"ServerTimestamp":null},
		{"ProducerTimestamp":"1735442939.457"}]}`
	if err := json.Unmarshal([]byte(in), &page); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 12, 29, 3, 28, 59, 457e6, time.UTC)
	for i, f := range page.Fragments {
		if !f.ProducerTimestamp.Time().Equal(want) {
			t.Errorf("fragment %d: ProducerTimestamp %v, want %v", i, f.ProducerTimestamp, want)
		}
	}
	if sec, nsec := page.Fragments[0].ServerTimestamp.Seconds(); sec != 1735442940 || nsec != 0 {
		t.Errorf("integer timestamp: %d s %d ns", sec, nsec)
	}
	if !page.Fragments[1].ServerTimestamp.IsZero() || !page.Fragments[2].ServerTimestamp.IsZero() {
		t.Error("null and absent timestamps are not zero")
	}
	if !page.Fragments[0].ProducerTimestamp.Equal(page.Fragments[1].ProducerTimestamp) {
		t.Error("1.735442939457E9 and 1735442939.457 are not Equal")
	}
	out, err := json.Marshal(page.Fragments[1])
	if err != nil || string(out) != `{"ProducerTimestamp":1735442939.457,"ServerTimestamp":null}` {
		t.Errorf("Marshal = %s, %v", out, err)
	}
	var bad tags.Timestamp
	if err := json.Unmarshal([]byte(`"soon"`), &bad); !errors.Is(err, tags.ErrTimestamp) {
		t.Errorf("Unmarshal of a non-number: %v, want ErrTimestamp", err)
	}
}

func TestFromTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2017, 11, 28, 6, 55, 9, 126e6, time.UTC), "1511852109.126"},
		{time.Unix(1511852109, 0), "1511852109.000"},
		{time.Unix(1511852109, 126000500), "1511852109.1260005"},
		{time.Unix(-2, 750e6), "-1.250"},
		{time.Time{}, ""},
	}
	for _, tt := range tests {
		ts := tags.FromTime(tt.in)
		if ts.Text() != tt.want {
			t.Errorf("FromTime(%v) = %q, want %q", tt.in, ts.Text(), tt.want)
		}
		if !tt.in.IsZero() && !ts.Time().Equal(tt.in) {
			t.Errorf("FromTime(%v).Time() = %v", tt.in, ts.Time())
		}
		if back, err := tags.ParseTimestamp(ts.Text()); err == nil && !back.Equal(ts) {
			t.Errorf("FromTime(%v) does not parse back: %v", tt.in, back)
		}
	}
}

func TestFragmentError(t *testing.T) {
	var e tags.FragmentError
	for _, kv := range [][2]string{
		{"AWS_KINESISVIDEO_ERROR_CODE", "FRAGMENT_NOT_FOUND\x00"},
		{"AWS_KINESISVIDEO_ERROR_ID", "4000"},
	} {
		if !e.Set(tags.Lookup(kv[0]), kv[1]) {
			t.Fatalf("Set(%s) refused", kv[0])
		}
	}
	if e.Set(tags.KeyFragmentNumber, "1") {
		t.Error("Set accepted a key that is not an error tag")
	}
	e.FragmentNumber = "123"
	if got, want := e.Error(), "tags: in-band KVS error for fragment 123: FRAGMENT_NOT_FOUND (4000: requested fragment is not found)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var err error = fmt.Errorf("wrapped: %w", &e)
	var fe *tags.FragmentError
	if !errors.As(err, &fe) || fe.ID != 4000 || !fe.IsNotFound() {
		t.Errorf("errors.As: %v", fe)
	}
	if !errors.Is(err, &tags.FragmentError{ID: 4000}) || errors.Is(err, &tags.FragmentError{ID: 5000}) {
		t.Error("errors.Is does not match on the ID")
	}

	partial := tags.FragmentError{}
	partial.Set(tags.KeyErrorID, "not-a-number")
	if partial.ID != 0 || partial.IDText != "not-a-number" || partial.Error() == "" {
		t.Errorf("partial error: %+v %q", partial, partial.Error())
	}
	exc := tags.FragmentError{}
	exc.Set(tags.KeyExceptionErrorCode, "ResourceNotFoundException")
	exc.Set(tags.KeyExceptionMessage, "gone")
	if got, want := exc.Error(), "tags: in-band KVS error: ResourceNotFoundException: gone"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for id, want := range map[int]string{3002: "error writing to the stream", 4503: "KMS key specified in the stream is unavailable", 5000: "internal error", 4242: ""} {
		if got := (&tags.FragmentError{ID: id}).Meaning(); got != want {
			t.Errorf("Meaning(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestParseMillis(t *testing.T) {
	if v, err := tags.ParseMillis("15858\x00"); err != nil || v != 15858 {
		t.Errorf("ParseMillis = %d, %v", v, err)
	}
	for _, bad := range []string{"", "-1", "1.5", "x"} {
		if _, err := tags.ParseMillis(bad); err == nil {
			t.Errorf("ParseMillis(%q) accepted", bad)
		}
	}
}
