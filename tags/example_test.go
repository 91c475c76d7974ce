package tags_test

import (
	"fmt"

	"github.com/kvsmkv/kvsmkv/tags"
)

// Fragment numbers compare by value, not as strings.
func ExampleFragmentNumber_Compare() {
	a, _ := tags.ParseFragmentNumber("9")
	b, _ := tags.ParseFragmentNumber("10")
	fmt.Println(a.Compare(b), a < b)
	// Output: -1 false
}

// Timestamps are exact: no float64 rounding of the milliseconds.
func ExampleParseTimestamp() {
	ts, err := tags.ParseTimestamp("1511852109.126")
	if err != nil {
		panic(err)
	}
	fmt.Println(ts, ts.Text())
	exp, _ := tags.ParseTimestamp("1.511852109126E9") // as AWS's JSON APIs may write it
	fmt.Println(exp.Equal(ts))
	// Output:
	// 2017-11-28T06:55:09.126Z 1511852109.126
	// true
}

// Both spellings of a tag name mean the same thing.
func ExampleLookup() {
	fmt.Println(tags.Lookup("AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP") == tags.Lookup("AWS_KINESISVIDEO_SERVER_TIMESTAMP"))
	fmt.Println(tags.Lookup("AWS_KINESISVIDEO_ERROR_ID"))
	// Output:
	// true
	// AWS_KINESISVIDEO_ERROR_ID
}

// An in-band error says what its ID means.
func ExampleFragmentError() {
	var e tags.FragmentError
	e.Set(tags.Lookup("AWS_KINESISVIDEO_ERROR_CODE"), "KMS_KEY_DISABLED")
	e.Set(tags.Lookup("AWS_KINESISVIDEO_ERROR_ID"), "4501")
	fmt.Println(e.Error())
	// Output: tags: in-band KVS error: KMS_KEY_DISABLED (4501: stream's KMS key is disabled)
}
