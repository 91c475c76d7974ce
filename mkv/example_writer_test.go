package mkv_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// A streaming Writer writes live Matroska to a pipe or socket: each frame
// is out when WriteFrame returns, and nothing is written at Close but the
// tags.
func ExampleNewStreamWriter() {
	var pipe bytes.Buffer // os.Stdout, a net.Conn, an io.PipeWriter ...
	w, err := mkv.NewStreamWriter(&pipe, mkv.WriterOptions{Tracks: []mkv.Track{
		{Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", Width: 640, Height: 360},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if err := w.WriteFrame(1, time.Duration(i)*40*time.Millisecond, i == 0, []byte{byte(i)}); err != nil {
			log.Fatal(err)
		}
	}
	for ev, err := range mkv.NewDecoder(&pipe).All() {
		if err != nil {
			log.Fatal(err)
		}
		if ev.Kind == mkv.BlockKind {
			fmt.Println("block", ev.Block.Timecode, ev.Block.Keyframe, ev.Block.Frames[0])
		}
	}
	// Output:
	// block 0 true [0]
	// block 40 false [1]
	// block 80 false [2]
}
