package kvstest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

var start = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// TestPutMedia ingests a file with the Go producer: one BUFFERING,
// RECEIVED and PERSISTED ack per Cluster, the fragments listed with the
// Clusters' timestamps and served with the Clusters' frames.
func TestPutMedia(t *testing.T) {
	tests := []struct {
		name     string
		audio    bool
		relative bool
	}{
		{name: "video"},
		{name: "video and audio", audio: true},
		{name: "relative timecodes", relative: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvstest.NewServer()
			defer srv.Close()
			if err := srv.CreateStream("cam", time.Hour); err != nil {
				t.Fatal(err)
			}
			src := writeSource(t, 6, 3, 30, tt.audio, start)
			p := kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: "cam", Speed: 20}
			if tt.relative {
				// Cluster times from 0, the stream starting at start.
				src = writeSource(t, 6, 3, 30, tt.audio, time.Unix(0, 0))
				p.Relative, p.StartTimestamp = true, start
			}
			acks, err := p.Produce(context.Background(), bytes.NewReader(src.bytes))
			if err != nil {
				t.Fatal(err)
			}
			numbers := checkAcks(t, acks, len(src.frames))
			listed := srv.Fragments("cam")
			var got []string
			for i, f := range listed {
				got = append(got, string(f.FragmentNumber))
				want := tags.FromTime(start.Add(time.Duration(i) * 100 * time.Millisecond))
				if !f.ProducerTimestamp.Equal(want) {
					t.Errorf("fragment %d: producer timestamp %s, want %s", i, f.ProducerTimestamp, want)
				}
				if ms := f.FragmentLengthInMilliseconds; ms != 99 && ms != 100 {
					t.Errorf("fragment %d: %d ms, want 3 frames of 33.3 ms", i, ms)
				}
				if i > 0 && f.ServerTimestamp.Compare(listed[i-1].ServerTimestamp) <= 0 {
					t.Errorf("fragment %d: server timestamp %s not after %s", i, f.ServerTimestamp, listed[i-1].ServerTimestamp)
				}
			}
			if diff := cmp.Diff(numbers, got); diff != "" {
				t.Errorf("listed fragments mismatch (-acked +listed):\n%s", diff)
			}
			_, frames := fetch(t, srv, "cam", listed)
			if diff := cmp.Diff(src.frames, frames); diff != "" {
				t.Errorf("frames mismatch (-file +served):\n%s", diff)
			}
		})
	}
}

// TestPutMediaHTTPClient sends a file with a plain http.Client and reads
// the acks: one PERSISTED per Cluster.
func TestPutMediaHTTPClient(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.CreateStream("cam", time.Hour); err != nil {
		t.Fatal(err)
	}
	src := writeSource(t, 4, 2, 30, false, start)
	resp := putMedia(t, srv, "cam", io.MultiReader(bytes.NewReader(src.bytes)))
	defer resp.Body.Close()
	var acks []kvstest.Ack
	r := &ackReader{bufio.NewScanner(resp.Body)}
	for range 3 * len(src.frames) {
		acks = append(acks, r.next(t))
	}
	checkAcks(t, acks, len(src.frames))
	if rest, err := io.ReadAll(resp.Body); err != nil || len(bytes.TrimSpace(rest)) != 0 {
		t.Errorf("after the last ack: %q, %v", rest, err)
	}
}

// TestPutMediaErrors checks what PutMedia refuses: bad MKV gets an ERROR
// ack (4006) and the fragments before it are kept; a Cluster going back in
// time gets 4004; unknown streams and bad headers get error responses.
func TestPutMediaErrors(t *testing.T) {
	src := writeSource(t, 4, 2, 30, false, start)
	// Cut inside the third Cluster's second block, then garbage.
	third := src.blockEnds[2][0]
	bad := append(append([]byte(nil), src.bytes[:third+3]...), bytes.Repeat([]byte{0xff}, 64)...)
	// The first Cluster again after the second: timecodes go back.
	second := src.blockEnds[2][0] - 1
	for second > 0 && !bytes.HasPrefix(src.bytes[second:], []byte{0x1f, 0x43, 0xb6, 0x75}) {
		second--
	}
	first := bytes.Index(src.bytes, []byte{0x1f, 0x43, 0xb6, 0x75})
	back := append(append([]byte(nil), src.bytes[:second]...), src.bytes[first:second]...)

	tests := []struct {
		name  string
		input []byte
		id    int
		kept  int
	}{
		{name: "bad MKV", input: bad, id: kvstest.ErrorIDInvalidMKV, kept: 2},
		{name: "timecode back", input: back, id: kvstest.ErrorIDTimecodeLesser, kept: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvstest.NewServer()
			defer srv.Close()
			srv.CreateStream("cam", time.Hour)
			acks, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "cam", bytes.NewReader(tt.input), 0)
			if !isAckError(err, tt.id) {
				t.Fatalf("Produce: %v, want an ERROR ack %d", err, tt.id)
			}
			if n := len(srv.Fragments("cam")); n != tt.kept {
				t.Errorf("%d fragments kept, want %d (acks %+v)", n, tt.kept, acks)
			}
			persisted := 0
			for _, a := range acks {
				if a.EventType == kvstest.EventPersisted {
					persisted++
				}
			}
			if persisted != tt.kept {
				t.Errorf("%d PERSISTED acks, want %d", persisted, tt.kept)
			}
		})
	}

	srv := kvstest.NewServer()
	defer srv.Close()
	_, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "nope", bytes.NewReader(src.bytes), 0)
	var api *kvsaws.APIError
	if !errors.As(err, &api) || api.Code != kvsaws.CodeResourceNotFound {
		t.Errorf("unknown stream: %v", err)
	}
}

// TestPutMediaNoRetention checks that a stream without retention is
// acknowledged RECEIVED but not PERSISTED, and lists nothing.
func TestPutMediaNoRetention(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("cam", 0)
	src := writeSource(t, 3, 2, 30, false, start)
	acks, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "cam", bytes.NewReader(src.bytes), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acks {
		got = append(got, a.EventType)
	}
	want := []string{"BUFFERING", "RECEIVED", "BUFFERING", "RECEIVED", "BUFFERING", "RECEIVED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("acks mismatch (-want +got):\n%s", diff)
	}
	if n := len(srv.Fragments("cam")); n != 0 {
		t.Errorf("%d fragments listed, want 0", n)
	}
}

// TestLiveFrame checks that live GetMedia writes a frame as soon as
// PutMedia has delivered it, before the rest of its fragment is sent.
func TestLiveFrame(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("cam", time.Hour)
	src := writeSource(t, 3, 4, 30, false, start)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(ctx, srv.URL(), &kvsaws.GetMediaInput{
		StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()

	pr, pw := io.Pipe()
	defer pw.Close()
	resp := putMedia(t, srv, "cam", pr)
	defer resp.Body.Close()
	sent := 0
	sendTo := func(off int64) {
		if _, err := pw.Write(src.bytes[sent:off]); err != nil {
			t.Fatal(err)
		}
		sent = int(off)
	}
	r := kvs.NewReader(out.Payload)
	for i, end := range src.blockEnds[0] {
		sendTo(end) // up to this frame, and not a byte more
		ev, err := r.NextEvent()
		if err == nil && i == 0 && ev.Kind == kvs.FragmentStartEvent {
			ev, err = r.NextEvent() // the fragment's start comes with its first frame
		}
		if err != nil {
			t.Fatal(err)
		}
		got := frame{ev.Frame.Track, ev.Frame.Keyframe, string(ev.Frame.Data)}
		if ev.Kind != kvs.FrameEvent || got != src.frames[0][i] {
			t.Fatalf("event %d: %v %+v, want frame %d of the fragment being sent", i, ev.Kind, got, i)
		}
		if i == 0 && (ev.Fragment.Number == "" || ev.Fragment.ProducerTimestamp.IsZero()) {
			t.Errorf("first frame: fragment %q at %s, want the KVS tags before the Cluster", ev.Fragment.Number, ev.Fragment.ProducerTimestamp)
		}
	}
	sendTo(int64(len(src.bytes)))
	ev, err := r.NextEvent()
	if err != nil || ev.Kind != kvs.FragmentEvent || ev.Fragment.ContinuationToken == "" || !ev.Fragment.HasMillisBehindNow {
		t.Fatalf("after the fragment: %+v, %v; want it complete with its trailing tags", ev, err)
	}
}

// TestFollowNow follows a stream from NOW while a producer sends it: the
// follow receives every fragment from the one being sent when it started,
// in order, once, with all their frames.
func TestFollowNow(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("cam", time.Hour)
	const total, before = 8, 3
	src := writeSource(t, total, 3, 30, true, start)

	pr, pw := io.Pipe()
	defer pw.Close()
	resp := putMedia(t, srv, "cam", pr)
	defer resp.Body.Close()
	// Fragments 0..before-1 sent whole, fragment `before` begun.
	if _, err := pw.Write(src.bytes[:src.blockEnds[before][0]]); err != nil {
		t.Fatal(err)
	}
	acks := &ackReader{bufio.NewScanner(resp.Body)}
	for persisted := 0; persisted < before; {
		if acks.next(t).EventType == kvstest.EventPersisted {
			persisted++
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := kvsaws.NewFromConfig(srv.Config())
	type got struct {
		number tags.FragmentNumber
		frames []frame
	}
	results := make(chan got)
	errc := make(chan error, 1)
	go func() {
		for f, err := range client.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}) {
			if err != nil {
				errc <- err
				return
			}
			results <- got{f.Number, framesOf(f)}
		}
	}()
	for srv.PeakConnections(kvstest.GetMedia) == 0 {
		time.Sleep(time.Millisecond)
	}
	// The rest, a Cluster at a time, while the follow reads.
	sent := src.blockEnds[before][0]
	for c := before; c < total; c++ {
		end := int64(len(src.bytes))
		if c+1 < total {
			end = src.blockEnds[c+1][0]
		}
		if _, err := pw.Write(src.bytes[sent:end]); err != nil {
			t.Fatal(err)
		}
		sent = end
	}
	pw.Close()

	var numbers []tags.FragmentNumber
	var frames [][]frame
	for len(numbers) < total-before {
		select {
		case g := <-results:
			numbers = append(numbers, g.number)
			frames = append(frames, g.frames)
		case err := <-errc:
			t.Fatalf("Follow: %v after %d fragments", err, len(numbers))
		}
	}
	cancel()
	var want []tags.FragmentNumber
	for _, f := range srv.Fragments("cam")[before:] {
		want = append(want, f.FragmentNumber)
	}
	if diff := cmp.Diff(want, numbers); diff != "" {
		t.Errorf("followed fragments mismatch (-produced +followed):\n%s", diff)
	}
	if diff := cmp.Diff(src.frames[before:], frames); diff != "" {
		t.Errorf("followed frames mismatch (-produced +followed):\n%s", diff)
	}
}

// TestGetMediaStreamGone checks that a live GetMedia ends when its stream
// is deleted, and that a PutMedia into it then fails.
func TestGetMediaStreamGone(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("cam", time.Hour)
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(context.Background(), srv.URL(), &kvsaws.GetMediaInput{
		StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	for srv.PeakConnections(kvstest.GetMedia) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := srv.DeleteStream("cam"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(out.Payload); err != nil || len(b) != 0 {
		t.Errorf("body: %d bytes, %v", len(b), err)
	}
	if err := srv.DeleteStream("cam"); !errors.Is(err, kvstest.ErrNoStream) {
		t.Errorf("second delete: %v", err)
	}
	if err := srv.CreateStream("../x", time.Hour); !errors.Is(err, kvstest.ErrStreamName) {
		t.Errorf("bad name: %v", err)
	}
	srv.CreateStream("cam", time.Hour)
	if err := srv.CreateStream("cam", time.Hour); !errors.Is(err, kvstest.ErrStreamExists) {
		t.Errorf("second create: %v", err)
	}
}

// TestGetMediaIdle checks that live GetMedia at the edge of a stream that
// receives nothing ends after the idle limit.
func TestGetMediaIdle(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.SetLiveLimits(kvstest.LiveLimits{GetMediaIdle: 50 * time.Millisecond})
	srv.CreateStream("cam", time.Hour)
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(context.Background(), srv.URL(), &kvsaws.GetMediaInput{
		StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	if b, err := io.ReadAll(out.Payload); err != nil || len(b) != 0 {
		t.Errorf("body: %d bytes, %v", len(b), err)
	}
}

// TestPutMediaIdle checks that a PutMedia sending nothing gets IDLE acks,
// then is ended after the idle limit.
func TestPutMediaIdle(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.SetLiveLimits(kvstest.LiveLimits{IdleAck: 10 * time.Millisecond, PutMediaIdle: 100 * time.Millisecond})
	srv.CreateStream("cam", time.Hour)
	pr, pw := io.Pipe()
	defer pw.Close()
	resp := putMedia(t, srv, "cam", pr)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines {
		if l != `{"EventType":"IDLE"}` {
			t.Errorf("ack %q, want IDLE", l)
		}
	}
	if len(lines) < 2 {
		t.Errorf("%d acks, want IDLE acks until the idle limit", len(lines))
	}
}
