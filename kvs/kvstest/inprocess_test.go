package kvstest_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// TestIngest feeds a stream in process while GetMedia follows it: every
// block written is served before the next is, fragments are cut at
// Clusters, and producer timestamps count from the start given.
func TestIngest(t *testing.T) {
	srv := kvstest.NewServer()
	t.Cleanup(srv.Close)
	if err := srv.CreateStream("cam", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Ingest("nocam", time.Now()); !errors.Is(err, kvstest.ErrNoStream) {
		t.Errorf("Ingest of a missing stream: %v, want ErrNoStream", err)
	}
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	w, err := srv.Ingest("cam", start)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := kvsaws.NewFromConfig(srv.Config())
	next, stop := iter.Pull2(client.FollowFrames(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}))
	defer stop()

	mw, err := mkv.NewStreamWriter(w, mkv.WriterOptions{Tracks: []mkv.Track{{Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", Width: 64, Height: 64}}})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	var producer []time.Time
	for i := range 6 {
		at := time.Duration(i) * 100 * time.Millisecond
		data := []byte(fmt.Sprintf("frame %d", i))
		if err := mw.WriteFrame(1, at, i%3 == 0, data); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(data))
		// The block is in: GetMedia serves it now, not with the next.
		for len(got) < len(want) {
			ev, err, ok := next()
			if !ok {
				t.Fatalf("the follow ended after %d frames", len(got))
			}
			if err != nil {
				t.Fatalf("after %d frames: %v", len(got), err)
			}
			if ev.Kind == kvs.FrameEvent {
				got = append(got, string(ev.Frame.Data))
			}
			if ev.Kind == kvs.FragmentStartEvent {
				producer = append(producer, ev.Fragment.ProducerTimestamp.Time())
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frames mismatch (-want +got):\n%s", diff)
	}
	wantProducer := []time.Time{start, start.Add(300 * time.Millisecond)}
	if diff := cmp.Diff(wantProducer, producer); diff != "" {
		t.Errorf("producer timestamps of the fragments mismatch (-want +got):\n%s", diff)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := w.Write([]byte{0x1a}); err == nil {
		t.Error("Write after Close: no error")
	}
}

// TestIngestRefused writes media PutMedia would refuse: the Write fails.
func TestIngestRefused(t *testing.T) {
	srv := kvstest.NewServer()
	t.Cleanup(srv.Close)
	if err := srv.CreateStream("cam", 0); err != nil {
		t.Fatal(err)
	}
	w, err := srv.Ingest("cam", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A Segment whose Cluster comes before any Tracks.
	b := mkv.AppendElement(nil, mkv.IDEBML, mkv.AppendString(nil, mkv.IDDocType, "matroska"))
	b = mkv.AppendHeader(b, mkv.IDSegment, mkv.UnknownSize, 8)
	b = mkv.AppendElement(b, mkv.IDCluster, mkv.AppendUint(nil, mkv.IDTimecode, 0))
	if _, err := w.Write(b); err == nil {
		t.Fatal("a Cluster before Tracks: no error")
	}
	if _, err := w.Write(b); err == nil {
		t.Error("a Write after a refused one: no error")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a refused Write: no error")
	}
}
