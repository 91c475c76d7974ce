package kvs_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// Read a damaged archive: resynchronising, each fault is reported on the
// fragment it hit, with where and why, and the fragments after it come
// out intact. Here junk sits between the first unit and the second, whose
// first byte is lost: the fault is reported on a Continued fragment of the
// first unit, the second unit is gone, and the units after it are read as
// they were (one Index earlier).
func ExampleWithResync() {
	data, err := os.ReadFile("../examples/kvsdump/sample.mkv")
	if err != nil {
		log.Fatal(err)
	}
	var units []int64 // where each unit starts
	for f, err := range kvs.NewReader(bytes.NewReader(data), kvs.WithoutFrameData()).All() {
		if err != nil {
			log.Fatal(err)
		}
		units = append(units, f.Offset)
	}
	damaged := bytes.Clone(data[:units[1]])
	damaged = append(damaged, "junk between units"...)
	damaged = append(damaged, 0) // no element ID starts with 0x00
	damaged = append(damaged, data[units[1]+1:]...)

	r := kvs.NewReader(bytes.NewReader(damaged), kvs.WithResync())
	for f, err := range r.All() {
		if err != nil {
			log.Fatal(err) // input cut off, or a budget
		}
		switch {
		case f.Err != nil:
			fmt.Printf("%d at %d: %s, in-band error %s\n", f.Index, f.Offset, f.State(), f.Err.Code)
			continue
		case f.State() != kvs.Damaged:
			fmt.Printf("%d at %d: %s, %d frames\n", f.Index, f.Offset, f.State(), len(f.Frames))
			continue
		}
		for _, d := range f.Damage {
			fmt.Printf("%d at %d: %s (continued %v): offset %d, %v, %d bytes skipped, junk %v\n",
				f.Index, f.Offset, f.State(), f.Continued, d.Offset, d.Err, d.Skipped, errors.Is(d, mkv.ErrUnexpected))
		}
	}
	fmt.Println("skipped:", r.Skipped())
	// Output:
	// 0 at 0: intact, 80 frames
	// 0 at 4028: damaged (continued true): offset 4028, unexpected element, 4046 bytes skipped, junk true
	// 1 at 8074: intact, in-band error FRAGMENT_NOT_FOUND
	// 2 at 8490: intact, 80 frames
	// skipped: 4046
}
