package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// fleet is the -fleet flag: n live streams named fleet-0 ... fleet-(n-1),
// each fed from media made on the fly, as a benchmark of many followers
// needs (see bench/cmd/fleet).
type fleet struct {
	n       int
	profile string // "video", "calls" or "idle"
	// putMedia feeds the streams through PutMedia, each over HTTP as a
	// camera would; by default they are fed in this process
	// (kvstest.Server.Ingest), which costs the emulator a third of the
	// CPU, so that a benchmark measures the follower, not the emulator.
	putMedia bool
}

// parseFleet reads a -fleet value: N[,video|calls|idle][,putmedia].
func parseFleet(v string) (fleet, error) {
	parts := strings.Split(v, ",")
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 0 {
		return fleet{}, fmt.Errorf("-fleet %q: want N[,video|calls|idle][,putmedia]", v)
	}
	f := fleet{n: n, profile: "video"}
	for _, p := range parts[1:] {
		switch p {
		case "video", "calls", "idle":
			f.profile = p
		case "putmedia":
			f.putMedia = true
		default:
			return fleet{}, fmt.Errorf("-fleet %q: %q is not video, calls, idle or putmedia", v, p)
		}
	}
	return f, nil
}

// fleetStream names the i-th stream of -fleet.
func fleetStream(i int) string { return "fleet-" + strconv.Itoa(i) }

// The shape of -fleet's media. Video: 25 frames a second, a keyframe
// every 2 s, about 400 kbit/s, the keyframe ten times the size of the
// frames between (50 frames of 2 s: 1 x 17,000 + 49 x 1,700 bytes).
// Calls: two tracks of 8 kHz 16-bit PCM (one per direction, as Amazon
// Connect streams a call), a 20 ms frame of each.
const (
	videoInterval = 40 * time.Millisecond
	videoGOP      = 50
	videoKeyframe = 17000
	videoFrame    = 1700
	callInterval  = 20 * time.Millisecond
	callFrame     = 8000 * 2 * 20 / 1000
)

// create makes the fleet's streams.
func (f fleet) create(srv *kvstest.Server) error {
	for i := range f.n {
		if err := srv.CreateStream(fleetStream(i), 0); err != nil {
			return err
		}
	}
	return nil
}

// run feeds the fleet's streams until ctx ends (an idle fleet is fed
// nothing). Each stream starts at a random phase of its frame interval
// and of its keyframe interval, as cameras switched on at different
// times do.
func (f fleet) run(ctx context.Context, srv *kvstest.Server, log io.Writer) {
	if f.profile == "idle" {
		return
	}
	var wg sync.WaitGroup
	for i := range f.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.feed(ctx, srv, fleetStream(i)); err != nil && ctx.Err() == nil {
				fmt.Fprintf(log, "kvsemu: -fleet %s: %v\n", fleetStream(i), err)
			}
		}()
	}
	wg.Wait()
}

// feed feeds one stream until ctx ends.
func (f fleet) feed(ctx context.Context, srv *kvstest.Server, stream string) error {
	if !f.putMedia {
		w, err := srv.Ingest(stream, time.Now())
		if err != nil {
			return err
		}
		err = f.write(ctx, w)
		w.Close()
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(f.write(ctx, pw)) }()
	p := kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: stream, Relative: true}
	_, err := p.Produce(ctx, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}

// write writes one stream's media to w as a producer makes it, each frame
// when its time comes. The first 8 bytes of every frame are the wall
// clock (Unix nanoseconds, big-endian) at which it is written, so that a
// follower can tell each frame's latency.
func (f fleet) write(ctx context.Context, w io.Writer) error {
	interval := videoInterval
	tracks := []mkv.Track{{Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", Width: 640, Height: 360, DefaultDuration: videoInterval}}
	if f.profile == "calls" {
		interval = callInterval
		tracks = []mkv.Track{
			{Number: 1, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_FROM_CUSTOMER", SamplingRate: 8000, Channels: 1, BitDepth: 16, DefaultDuration: callInterval},
			{Number: 2, Type: mkv.AudioTrack, CodecID: "A_PCM/INT/LIT", Name: "AUDIO_TO_CUSTOMER", SamplingRate: 8000, Channels: 1, BitDepth: 16, DefaultDuration: callInterval},
		}
	}
	wr, err := mkv.NewStreamWriter(w, mkv.WriterOptions{WritingApp: "kvsemu -fleet", Tracks: tracks})
	if err != nil {
		return err
	}
	frame := make([]byte, videoKeyframe)
	phase := rand.N(interval)
	n := rand.N(videoGOP) // the frame of its GOP the stream starts at
	select {
	case <-time.After(phase):
	case <-ctx.Done():
		return ctx.Err()
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		t := time.Duration(i) * interval
		if f.profile == "calls" {
			for track := uint64(1); track <= 2; track++ {
				if err := wr.WriteFrame(track, t, true, stamp(frame[:callFrame])); err != nil {
					return err
				}
			}
		} else {
			key := (n+i)%videoGOP == 0 || i == 0
			size := videoFrame
			if key {
				size = videoKeyframe
			}
			if err := wr.WriteFrame(1, t, key, stamp(frame[:size])); err != nil {
				return err
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stamp writes the wall clock into the first 8 bytes of frame.
func stamp(frame []byte) []byte {
	binary.BigEndian.PutUint64(frame, uint64(time.Now().UnixNano()))
	return frame
}
