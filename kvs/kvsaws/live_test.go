package kvsaws_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestFollowFramesLive follows a stream from NOW with FollowFrames while a
// producer puts it with PutMedia: every frame sent after the follow
// started arrives, in order, once, each fragment started and ended once.
func TestFollowFramesLive(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.CreateStream("cam", time.Hour); err != nil {
		t.Fatal(err)
	}
	g := kvsgen.Generator{Fragments: 4, FPS: 20, FragmentDuration: 500 * time.Millisecond, Media: true, Audio: true, Start: time.Now()}
	var want [][32]byte
	for i := range g.Fragments {
		for _, f := range g.Frames(i) {
			want = append(want, sha256.Sum256(f.Data))
		}
	}
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	produced := make(chan error, 1)
	go func() {
		for srv.Requests(kvstest.GetMedia) == 0 {
			time.Sleep(time.Millisecond) // the follow has connected
		}
		p := &kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: "cam", Speed: 4}
		_, err := p.Produce(ctx, bytes.NewReader(g.Bytes()))
		produced <- err
	}()
	var got [][32]byte
	starts, ends := 0, 0
	for ev, err := range c.FollowFrames(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case kvs.FragmentStartEvent:
			starts++
		case kvs.FrameEvent:
			got = append(got, sha256.Sum256(ev.Frame.Data))
		case kvs.FragmentEvent:
			if ev.Fragment.Partial {
				t.Fatalf("fragment %s cut off", ev.Fragment.Number)
			}
			ends++
		}
		if ends == g.Fragments {
			break
		}
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if starts != g.Fragments || len(got) != len(want) {
		t.Fatalf("%d fragments started, %d frames; want %d and %d", starts, len(got), g.Fragments, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d differs from the one produced", i)
		}
	}
}
