package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// BenchmarkFollowLatency runs the emulator's live GetMedia fed by PutMedia
// at 30 frames a second (a keyframe, so a fragment, every half second) and
// follows it with FollowFrames. Every frame carries the time the producer
// handed it to PutMedia; the benchmark reports, over every frame, how long
// after that the follow loop received it (p50-ns, p99-ns, max-ns), and for
// every fragment how long after the next fragment began (which is when
// PutMedia, and so KVS, knows the fragment complete) the loop received its
// end (frag-p50-ns, frag-p99-ns, frag-max-ns). The figures include the
// emulator's ingest and the HTTP round trips on loopback: they bound from
// above the time from the emulator writing a frame to the loop receiving
// it. One op is one second of media.
func BenchmarkFollowLatency(b *testing.B) {
	const fps, gop = 30, 15
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.CreateStream("cam", time.Hour); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := kvsaws.NewFromConfig(srv.Config())
	events := client.FollowFrames(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow})

	frames := max(b.N, 1) * fps
	var mu sync.Mutex
	clusterAt := make([]time.Time, 0, frames/gop+1) // when each fragment began
	produced := make(chan error, 1)
	go func() {
		for srv.Requests(kvstest.GetMedia) == 0 {
			time.Sleep(time.Millisecond) // the follow is connected: NOW sees every frame
		}
		pr, pw := io.Pipe()
		go func() {
			p := &kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: "cam"}
			_, err := p.Produce(ctx, pr)
			produced <- err
		}()
		w, err := mkv.NewStreamWriter(pw, mkv.WriterOptions{Tracks: []mkv.Track{{
			Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", DefaultDuration: time.Second / fps, Width: 640, Height: 360,
		}}})
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		data := make([]byte, 3_000_000/8/fps) // ~3 Mbit/s
		tick := time.NewTicker(time.Second / fps)
		defer tick.Stop()
		for i := range frames {
			<-tick.C
			now := time.Now()
			if i%gop == 0 {
				mu.Lock()
				clusterAt = append(clusterAt, now)
				mu.Unlock()
			}
			binary.BigEndian.PutUint64(data, uint64(now.UnixNano()))
			if err := w.WriteFrame(1, time.Duration(i)*time.Second/fps, i%gop == 0, data); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()

	var frameLat, fragLat []time.Duration
	ended := 0
	b.ResetTimer()
	for ev, err := range events {
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		switch ev.Kind {
		case kvs.FrameEvent:
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(ev.Frame.Data)))
			frameLat = append(frameLat, now.Sub(sent))
		case kvs.FragmentEvent:
			// Fragment k is complete when fragment k+1 begins; the last
			// one when the producer's body ends, which is not timed.
			mu.Lock()
			if ended+1 < len(clusterAt) {
				fragLat = append(fragLat, now.Sub(clusterAt[ended+1]))
			}
			mu.Unlock()
			ended++
		}
		if ended == frames/gop+min(frames%gop, 1) {
			break
		}
	}
	b.StopTimer()
	cancel()
	if err := <-produced; err != nil && !errors.Is(err, context.Canceled) {
		b.Fatal(err)
	}
	if len(frameLat) != frames {
		b.Fatalf("%d frames received, %d produced", len(frameLat), frames)
	}
	report(b, frameLat, "")
	report(b, fragLat, "frag-")
}

// report reports the median, 99th percentile and maximum of durations.
func report(b *testing.B, d []time.Duration, prefix string) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) float64 { return float64(d[min(len(d)-1, int(q*float64(len(d))))]) }
	b.ReportMetric(at(0.50), prefix+"p50-ns")
	b.ReportMetric(at(0.99), prefix+"p99-ns")
	b.ReportMetric(float64(d[len(d)-1]), prefix+"max-ns")
}
