package mkv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// Decode a KVS GetMedia unit from a reader: the tag names and values, and
// the blocks with their frames.
func ExampleDecoder() {
	f, err := os.Open("testdata/tiny.mkv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	d := mkv.NewDecoder(f)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDTagName || ev.ID == mkv.IDTagString:
			fmt.Printf("%s %s\n", ev.ID.Name(), ev.Bytes)
		case ev.Kind == mkv.BlockKind:
			fmt.Printf("track %d at %d: %d frame(s), keyframe %v\n", ev.Block.Track, ev.Block.Timecode, len(ev.Block.Frames), ev.Block.Keyframe)
		}
	}
	// Output:
	// TagName CAMERA
	// TagString front-door
	// TagName MODEL
	// TagString x1
	// TagName CALIBRATION
	// TagName AWS_KINESISVIDEO_FRAGMENT_NUMBER
	// TagString 91343852333181432392682062607743920146159169392
	// TagName AWS_KINESISVIDEO_SERVER_TIMESTAMP
	// TagString 1511852109.126
	// TagName AWS_KINESISVIDEO_PRODUCER_TIMESTAMP
	// TagString 1511852108.513
	// track 1 at 0: 1 frame(s), keyframe true
	// track 1 at 33: 1 frame(s), keyframe false
	// track 1 at 66: 1 frame(s), keyframe false
	// TagName DETECTIONS
	// TagString 0
	// TagName AWS_KINESISVIDEO_MILLIS_BEHIND_NOW
	// TagString 1000
	// TagName AWS_KINESISVIDEO_CONTINUATION_TOKEN
	// TagString 91343852333181432392682062607743920146159169392
}

// Push bytes as they come, in chunks of any size; the handler sees each
// element as soon as it is complete.
func ExamplePushDecoder() {
	data, err := os.ReadFile("testdata/tiny.mkv")
	if err != nil {
		log.Fatal(err)
	}
	units, frames := 0, 0
	p := mkv.NewPushDecoder(func(ev *mkv.Event) error {
		switch {
		case ev.Kind == mkv.Start && ev.ID == mkv.IDEBML:
			units++
		case ev.Kind == mkv.BlockKind:
			frames += len(ev.Block.Frames)
		}
		return nil
	})
	for len(data) > 0 {
		n := min(100, len(data))
		if _, err := p.Write(data[:n]); err != nil {
			log.Fatal(err)
		}
		data = data[n:]
	}
	if err := p.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d unit(s), %d frame(s)\n", units, frames)
	// Output: 1 unit(s), 3 frame(s)
}

// A stream cut off inside an element delivers every complete element, then
// an error that says where.
func ExampleSyntaxError() {
	data, err := os.ReadFile("testdata/tiny.mkv")
	if err != nil {
		log.Fatal(err)
	}
	d := mkv.NewDecoder(bytes.NewReader(data[:500]))
	for {
		_, err := d.Next()
		if err != nil {
			fmt.Println(err)
			fmt.Println("cut off:", errors.Is(err, io.ErrUnexpectedEOF))
			break
		}
	}
	// Output:
	// mkv: offset 485: SimpleBlock(0xA3): unexpected EOF
	// cut off: true
}
