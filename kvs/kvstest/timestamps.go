package kvstest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kvsmkv/kvsmkv/tags"
)

// control is the state of the control plane's answers, guarded by
// Server.mu.
type control struct {
	form    TimestampForm
	answers int // answers with timestamps, so that mixed forms vary
}

// TimestampForm is how the emulator writes the timestamps of its JSON
// answers (ListFragments, DescribeStream, ListStreams): every form is a
// JSON number of epoch seconds, as the model's timestamp members are, and
// AWS's services write them in more than one.
type TimestampForm int

// The timestamp forms.
const (
	// TimestampMixed cycles through the other forms, value by value and
	// answer by answer, so that clients meet all of them (the default).
	TimestampMixed TimestampForm = iota
	// TimestampDecimal writes 1511852108.513.
	TimestampDecimal
	// TimestampExponent writes 1.511852108513E9, as KVS's Java does.
	TimestampExponent
	// TimestampInteger writes an integer, 1511852108, scaled by an exponent
	// when the time has a fraction of a second: 1511852108513E-3.
	TimestampInteger
)

// timestamps writes the timestamps of one answer in the server's form.
type timestamps struct {
	form TimestampForm
	n    int
}

// number formats t, a time as seconds and nanoseconds since the epoch.
func (ts *timestamps) number(t tags.Timestamp) json.Number {
	form := ts.form
	if form == TimestampMixed {
		form = TimestampDecimal + TimestampForm(ts.n%3)
		ts.n++
	}
	sec, nsec := t.Seconds()
	frac := strings.TrimRight(fmt.Sprintf("%09d", nsec), "0")
	whole := strconv.FormatInt(sec, 10)
	switch {
	case form == TimestampExponent && sec > 0:
		digits := strings.TrimRight(whole[1:]+frac, "0")
		if digits == "" {
			digits = "0"
		}
		return json.Number(fmt.Sprintf("%s.%sE%d", whole[:1], digits, len(whole)-1))
	case form == TimestampInteger && frac == "":
		return json.Number(whole)
	case form == TimestampInteger && sec >= 0:
		return json.Number(strings.TrimLeft(whole+frac, "0") + "E-" + strconv.Itoa(len(frac)))
	case frac == "":
		return json.Number(whole + ".0")
	}
	return json.Number(whole + "." + frac)
}

// ParseTimestampForm reads a timestamp form's name: mixed, decimal,
// exponent or integer.
func ParseTimestampForm(name string) (TimestampForm, error) {
	f, ok := timestampForms[name]
	if !ok {
		return 0, fmt.Errorf("kvstest: unknown timestamp form %q (mixed, decimal, exponent, integer)", name)
	}
	return f, nil
}

// timestampForms name the forms for the admin endpoint and the command's
// flags.
var timestampForms = map[string]TimestampForm{"mixed": TimestampMixed, "decimal": TimestampDecimal, "exponent": TimestampExponent, "integer": TimestampInteger}
