package tags

import (
	"errors"
	"fmt"
	"strconv"
)

// FragmentError is an error that KVS reports in band, as tags of a unit of
// the response (usually one without a Cluster), with HTTP status 200.
// GetMedia writes ERROR_CODE (text) and ERROR_ID (integer);
// GetMediaForFragmentList writes EXCEPTION_ERROR_CODE and EXCEPTION_MESSAGE.
// Any of them alone still makes an error; absent parts are zero.
type FragmentError struct {
	// Code is the text code, such as "FRAGMENT_NOT_FOUND".
	Code string
	// ID is the integer code, such as 4000; 0 when absent or not a number.
	ID int
	// IDText is the ERROR_ID tag as written, kept when it is not a number.
	IDText string
	// Message is the EXCEPTION_MESSAGE, if any.
	Message string
	// FragmentNumber is the number of the fragment the error is about, if
	// the unit carried one.
	FragmentNumber FragmentNumber
}

// meanings are the error IDs the GetMedia documentation lists, and 3000,
// which GetMediaForFragmentList writes for FRAGMENT_NOT_FOUND.
var meanings = map[int]string{
	3000: "fragment not found",
	3002: "error writing to the stream",
	4000: "requested fragment is not found",
	4500: "access denied for the stream's KMS key",
	4501: "stream's KMS key is disabled",
	4502: "validation error on the stream's KMS key",
	4503: "KMS key specified in the stream is unavailable",
	4504: "invalid usage of the KMS key specified in the stream",
	4505: "invalid state of the KMS key specified in the stream",
	4506: "unable to find the KMS key specified in the stream",
	5000: "internal error",
}

// Meaning returns what the documentation says the error ID means, or "" for
// an ID it does not list.
func (e *FragmentError) Meaning() string { return meanings[e.ID] }

// IsNotFound reports whether the error says the fragment does not exist.
func (e *FragmentError) IsNotFound() bool {
	return e.ID == 3000 || e.ID == 4000 || e.Code == "FRAGMENT_NOT_FOUND" || e.Code == "ResourceNotFoundException"
}

func (e *FragmentError) Error() string {
	s := "tags: in-band KVS error"
	if e.FragmentNumber != "" {
		s += " for fragment " + string(e.FragmentNumber)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	switch {
	case e.ID != 0:
		s += fmt.Sprintf(" (%d", e.ID)
		if m := e.Meaning(); m != "" {
			s += ": " + m
		}
		s += ")"
	case e.IDText != "":
		s += fmt.Sprintf(" (%q)", e.IDText)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, &FragmentError{ID: 4000}) or
// errors.Is(err, &FragmentError{Code: "FRAGMENT_NOT_FOUND"}) match on the
// fields the target sets.
func (e *FragmentError) Is(target error) bool {
	var t *FragmentError
	if !errors.As(target, &t) {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.ID == 0 || t.ID == e.ID)
}

// Set records the value of an error tag, and returns false for a key that
// is not one. Values are NUL-trimmed; an ERROR_ID that is not an integer is
// kept in IDText.
func (e *FragmentError) Set(k Key, value string) bool {
	value = TrimNUL(value)
	switch k {
	case KeyErrorCode, KeyExceptionErrorCode:
		e.Code = value
	case KeyErrorID:
		e.IDText = value
		if id, err := strconv.Atoi(value); err == nil {
			e.ID = id
		}
	case KeyExceptionMessage:
		e.Message = value
	default:
		return false
	}
	return true
}

// ParseMillis parses MILLIS_BEHIND_NOW: a non-negative decimal integer.
func ParseMillis(s string) (int64, error) {
	v, err := strconv.ParseInt(TrimNUL(s), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("tags: invalid %s %q", NameMillisBehindNow, s)
	}
	return v, nil
}
