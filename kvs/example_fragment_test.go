package kvs_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// Pick a track by name and read a fragment's custom tag, as a consumer of
// Amazon Connect's live media streaming does.
func ExampleFragment_TrackByName() {
	var stream bytes.Buffer // a fragment as Amazon Connect writes one
	w, err := mkv.NewStreamWriter(&stream, mkv.WriterOptions{Tracks: []mkv.Track{
		{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_FROM_CUSTOMER", BitDepth: 16},
		{Number: 2, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_TO_CUSTOMER", BitDepth: 16},
	}})
	if err != nil {
		log.Fatal(err)
	}
	w.WriteFrame(1, 0, true, make([]byte, 640))
	w.AddTags([]mkv.SimpleTag{{Name: "ContactId", Value: "6c6a1f2e-0b5e-4a7d-9a4b-3d1f2c0e9b71"}})
	w.Close()

	frag, err := kvs.NewReader(&stream).Next()
	if err != nil {
		log.Fatal(err)
	}
	contact, _ := frag.Tag("ContactId")
	customer := frag.TrackByName("AUDIO_FROM_CUSTOMER")
	fmt.Printf("contact %s: track %d, %s %g Hz, %d channel, %d frame\n", contact, customer.Number, customer.CodecID, customer.SamplingRate, customer.Channels, customer.Frames)
	// Output:
	// contact 6c6a1f2e-0b5e-4a7d-9a4b-3d1f2c0e9b71: track 1, A_PCM/INT/LIT 8000 Hz, 1 channel, 1 frame
}
