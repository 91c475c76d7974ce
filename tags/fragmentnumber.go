package tags

import (
	"errors"
	"fmt"
	"strings"
)

// MaxFragmentNumberLength is the longest fragment number accepted: the KVS
// API allows 128 characters.
const MaxFragmentNumberLength = 128

// ErrFragmentNumber is the cause of a malformed fragment number.
var ErrFragmentNumber = errors.New("tags: invalid fragment number")

// FragmentNumber is a KVS fragment number: a decimal string of about 47
// digits, too long for any integer type. It keeps the text as KVS wrote it;
// Compare orders numbers by value, which string order gets wrong when their
// lengths differ.
type FragmentNumber string

// ParseFragmentNumber validates s: 1 to 128 decimal digits (trailing NUL
// padding removed).
func ParseFragmentNumber(s string) (FragmentNumber, error) {
	s = TrimNUL(s)
	if len(s) == 0 || len(s) > MaxFragmentNumberLength {
		return "", fmt.Errorf("%w: %d digits", ErrFragmentNumber, len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("%w: %q", ErrFragmentNumber, s)
		}
	}
	return FragmentNumber(s), nil
}

// Compare returns -1, 0 or +1 as n is numerically less than, equal to or
// greater than m. Leading zeros do not count.
func (n FragmentNumber) Compare(m FragmentNumber) int {
	a := strings.TrimLeft(string(n), "0")
	b := strings.TrimLeft(string(m), "0")
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}

// String returns the number's text.
func (n FragmentNumber) String() string { return string(n) }
