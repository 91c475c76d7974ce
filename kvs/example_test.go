package kvs_test

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// Read whole fragments of a GetMedia response: numbers, timestamps, tags
// and frames, and in-band errors as data.
func ExampleReader_All() {
	f, err := os.Open("../examples/kvsdump/sample.mkv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for frag, err := range kvs.NewReader(f).All() {
		if err != nil {
			log.Fatal(err)
		}
		if frag.Err != nil {
			fmt.Printf("%d: error %s %d\n", frag.Index, frag.Err.Code, frag.Err.ID)
			continue
		}
		first := frag.Frames[0]
		fmt.Printf("%d: %d frames from %s, first keyframe %v at %s, behind %d ms\n", frag.Index, len(frag.Frames),
			frag.ProducerTimestamp, first.Keyframe, frag.WallClock(&first).Format("15:04:05.000"), frag.MillisBehindNow)
	}
	// Output:
	// 0: 80 frames from 2017-11-28T06:55:08.513Z, first keyframe true at 06:55:08.513, behind 1000 ms
	// 1: 80 frames from 2017-11-28T06:55:09.513Z, first keyframe true at 06:55:09.513, behind 1037 ms
	// 2: error FRAGMENT_NOT_FOUND 4000
	// 3: 80 frames from 2017-11-28T06:55:11.513Z, first keyframe true at 06:55:11.513, behind 1111 ms
}

// Stream frames as they arrive; each fragment's end comes with all its tags.
func ExampleReader_NextEvent() {
	f, err := os.Open("../examples/kvsdump/sample.mkv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := kvs.NewReader(f)
	bytes := 0
	for {
		ev, err := r.NextEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FrameEvent:
			bytes += len(ev.Frame.Data) // valid until the next call: use or copy it now
		case kvs.FragmentEvent:
			fmt.Printf("fragment %d: %d bytes of frames, %d tags, token %v\n", ev.Fragment.Index, bytes, len(ev.Fragment.Tags), ev.Fragment.ContinuationToken != "")
			bytes = 0
		}
	}
	// Output:
	// fragment 0: 3016 bytes of frames, 8 tags, token true
	// fragment 1: 3016 bytes of frames, 8 tags, token true
	// fragment 2: 0 bytes of frames, 3 tags, token false
	// fragment 3: 3016 bytes of frames, 8 tags, token true
}

// Decide per fragment, before any of its frames, from the tags before its
// Cluster: here, read an Amazon Connect stream while its ContactId stays
// the first contact's, and stop at the next contact having read nothing
// of it.
func ExampleReader_NextEvent_whileTag() {
	g := kvsgen.Generator{Call: kvsgen.ConnectCall, Fragments: 5, CallChange: 3}
	r := kvs.NewReader(g.Reader())
	contact, samples := "", 0
	for ev, err := range r.Events() {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FragmentStartEvent:
			id, _ := ev.Fragment.Tag("ContactId")
			if contact == "" {
				contact = id
			}
			if id != contact {
				fmt.Printf("fragment %d is of contact %s: stop\n", ev.Fragment.Index, id)
				fmt.Printf("contact %s: %d samples from the customer\n", contact, samples)
				return
			}
		case kvs.FrameEvent:
			if ev.Fragment.Track(ev.Frame.Track).Name == "AUDIO_FROM_CUSTOMER" {
				samples += len(ev.Frame.Data) / 2
			}
		}
	}
	// Output:
	// fragment 3 is of contact 5ca1ab1f-0000-4000-8000-000000c0ffef: stop
	// contact 5ca1ab1e-0000-4000-8000-000000c0ffee: 48000 samples from the customer
}
