package kvs_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// small is a short generated stream; tests vary it.
var small = kvsgen.Generator{Fragments: 4, FragmentDuration: 200 * time.Millisecond, FPS: 15, VideoBitrate: 40_000, Audio: true}

// cmpTS compares tags.Timestamp values, which have unexported fields, with ==.
var cmpTS = cmpopts.EquateComparable(tags.Timestamp{})

func with(mod func(*kvsgen.Generator)) kvsgen.Generator {
	c := small
	mod(&c)
	return c
}

// TestGenerated reads generated streams of every kind and checks each
// fragment against what the generator wrote: number, timestamps, error,
// tags, tracks, and every frame's track, keyframe flag, time and bytes.
func TestGenerated(t *testing.T) {
	configs := map[string]kvsgen.Generator{
		"getmedia":   with(func(c *kvsgen.Generator) { c.GetMedia, c.ProducerTags = true, true }),
		"side-names": with(func(c *kvsgen.Generator) { c.SideSpelling, c.NULPadding = true, true }),
		"relative":   with(func(c *kvsgen.Generator) { c.RelativeProducerTime = true }),
		"xiph":       with(func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 3, mkv.XiphLacing }),
		"ebml":       with(func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 4, mkv.EBMLLacing }),
		"fixed":      with(func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 2, mkv.FixedLacing }),
		"blockgroups": with(func(c *kvsgen.Generator) {
			c.BlockGroups, c.KnownSizeCluster, c.CRC, c.Void = true, true, true, true
		}),
		"errors": with(func(c *kvsgen.Generator) {
			c.GetMedia = true
			c.Errors = map[int]kvsgen.ErrorUnit{
				0: {Code: "FRAGMENT_NOT_FOUND", ID: 3000},
				2: {Exception: true, Code: "ResourceNotFoundException", Message: "no such fragment"},
				3: {Code: "KMS_KEY_DISABLED"}, // a partial error: no ID
			}
		}),
	}
	for name, c := range configs {
		t.Run(name, func(t *testing.T) {
			data := c.Bytes()
			frags, err := readWhole(bytes.NewReader(data), kvs.WithDecoderOptions(mkv.WithCRC(true)))
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != c.Fragments {
				t.Fatalf("%d fragments, want %d", len(frags), c.Fragments)
			}
			var end int64
			for i, f := range frags {
				checkFragment(t, &c, i, f)
				if f.Offset != end {
					t.Errorf("fragment %d at offset %d, want %d", i, f.Offset, end)
				}
				end = f.Offset + f.Size
			}
			if end != int64(len(data)) {
				t.Errorf("fragments cover %d bytes of %d", end, len(data))
			}
		})
	}
}

func checkFragment(t *testing.T, c *kvsgen.Generator, i int, f *kvs.Fragment) {
	t.Helper()
	if f.Index != i || f.Partial || f.Continued {
		t.Errorf("fragment %d: Index %d Partial %v Continued %v", i, f.Index, f.Partial, f.Continued)
	}
	if want := tags.FragmentNumber((kvsgen.Generator{}).FragmentNumber(i)); f.Number != want {
		t.Errorf("fragment %d: number %q, want %q", i, f.Number, want)
	}
	if e, ok := c.Errors[i]; ok {
		want := &tags.FragmentError{Code: e.Code, ID: e.ID, Message: e.Message, FragmentNumber: f.Number}
		if e.ID != 0 {
			want.IDText = fmt.Sprint(e.ID)
		}
		if diff := cmp.Diff(want, f.Err); diff != "" {
			t.Errorf("fragment %d: error mismatch (-want +got):\n%s", i, diff)
		}
		if f.HasCluster || len(f.Frames) != 0 {
			t.Errorf("error fragment %d has a Cluster or frames", i)
		}
		return
	}
	if f.Err != nil {
		t.Errorf("fragment %d: unexpected error %v", i, f.Err)
	}
	producer, server := c.Times(i)
	if got := f.ProducerTimestamp.Duration(); got != producer || f.ProducerTimestamp.Text() != kvsgen.FormatTimestamp(producer) {
		t.Errorf("fragment %d: producer timestamp %v (%q), want %v", i, got, f.ProducerTimestamp, producer)
	}
	if got := f.ServerTimestamp.Duration(); got != server {
		t.Errorf("fragment %d: server timestamp %v, want %v", i, got, server)
	}
	if c.GetMedia {
		if !f.HasMillisBehindNow || f.MillisBehindNow != int64(1000+37*i) || f.ContinuationToken != (kvsgen.Generator{}).FragmentNumber(i) {
			t.Errorf("fragment %d: millis %v %d, token %q", i, f.HasMillisBehindNow, f.MillisBehindNow, f.ContinuationToken)
		}
	}
	video := f.Track(kvsgen.VideoTrackNumber)
	if video == nil || video.Type != mkv.VideoTrack || video.CodecID != "V_MPEG4/ISO/AVC" || video.Width != 640 || video.Height != 360 ||
		video.DefaultDuration != time.Second/time.Duration(c.FPS) || video.Name != "video" || video.Language != "und" {
		t.Errorf("fragment %d: video track %+v", i, video)
	}
	if audio := f.Track(kvsgen.AudioTrackNumber); audio == nil || audio.Type != mkv.AudioTrack || audio.SamplingRate != 48000 || audio.Channels != 2 || audio.BitDepth != 16 || audio.Language != "eng" {
		t.Errorf("fragment %d: audio track %+v", i, audio)
	}
	want := c.Frames(i)
	if len(f.Frames) != len(want) {
		t.Fatalf("fragment %d: %d frames, want %d", i, len(f.Frames), len(want))
	}
	lace := map[int16]int{} // position of a frame in its laced audio block
	for j, w := range want {
		got := f.Frames[j]
		ts := f.ClusterTimestamp + time.Duration(w.Timecode)*time.Millisecond
		if w.Track == kvsgen.AudioTrackNumber {
			lace[w.Timecode]++
		}
		if got.Track != w.Track || got.Keyframe != w.Keyframe || got.Timestamp != ts || !bytes.Equal(got.Data, w.Data) {
			t.Fatalf("fragment %d frame %d: track %d key %v at %v, %d bytes; want track %d key %v at %v, %d bytes",
				i, j, got.Track, got.Keyframe, got.Timestamp, len(got.Data), w.Track, w.Keyframe, ts, len(w.Data))
		}
	}
	if first := f.Frames[0]; !f.WallClock(&first).Equal(f.ProducerTimestamp.Time()) {
		t.Errorf("fragment %d: first frame's wall clock %v, want %v", i, f.WallClock(&first), f.ProducerTimestamp.Time())
	}
}

// TestTagsInOrder checks that every SimpleTag is kept in document order,
// nested ones as children, binary values as bytes, NUL padding removed,
// each marked before or after the Cluster.
func TestTagsInOrder(t *testing.T) {
	c := with(func(c *kvsgen.Generator) {
		c.ProducerTags, c.GetMedia, c.NULPadding, c.Fragments = true, true, true, 1
	})
	frags, err := readWhole(bytes.NewReader(c.Bytes()))
	if err != nil || len(frags) != 1 {
		t.Fatalf("%d fragments, %v", len(frags), err)
	}
	tag := func(name, value string, after bool) kvs.Tag {
		return kvs.Tag{SimpleTag: mkv.SimpleTag{Name: name, Value: value, Language: "und", Default: true}, AfterCluster: after}
	}
	camera := tag("CAMERA", "front-door", false)
	camera.Tags = []mkv.SimpleTag{tag("MODEL", "x1", false).SimpleTag}
	calibration := tag("CALIBRATION", "", false)
	calibration.Binary = []byte{0, 1, 2, 0xFF}
	want := []kvs.Tag{
		camera, calibration,
		tag("AWS_KINESISVIDEO_FRAGMENT_NUMBER", (kvsgen.Generator{}).FragmentNumber(0), false),
		tag("AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1511852109.126", false),
		tag("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1511852108.513", false),
		tag("DETECTIONS", "0", true),
		tag("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", "1000", true),
		tag("AWS_KINESISVIDEO_CONTINUATION_TOKEN", (kvsgen.Generator{}).FragmentNumber(0), true),
	}
	if diff := cmp.Diff(want, frags[0].Tags); diff != "" {
		t.Errorf("Tags mismatch (-want +got):\n%s", diff)
	}
}

// TestSplitsAndModes reads streams whole and cut every way, in both modes,
// and expects the same fragments: streaming must report the same tags and
// counts, and the frames it streamed must be those of the whole reading.
func TestSplitsAndModes(t *testing.T) {
	c := with(func(c *kvsgen.Generator) {
		c.GetMedia, c.ProducerTags, c.AudioPerBlock, c.AudioLacing = true, true, 3, mkv.EBMLLacing
		c.Errors = map[int]kvsgen.ErrorUnit{1: {Code: "FRAGMENT_NOT_FOUND", ID: 3000}}
	})
	data := c.Bytes()
	want, err := readWhole(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]func() io.Reader{
		"one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"data-err": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
		"random":   func() io.Reader { return &chunkReader{data, rand.New(rand.NewPCG(3, 4)), 97} },
	}
	for name, mk := range readers {
		got, err := readWhole(mk())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got, cmpTS); diff != "" {
			t.Fatalf("%s: fragments mismatch (-want +got):\n%s", name, diff)
		}
		streamed, frames, err := readStreaming(mk())
		if err != nil {
			t.Fatalf("%s streaming: %v", name, err)
		}
		for i := range want {
			w := *want[i]
			w.Frames = nil
			if diff := cmp.Diff(&w, streamed[i], cmpTS); diff != "" {
				t.Fatalf("%s streaming: fragment %d mismatch (-want +got):\n%s", name, i, diff)
			}
			if diff := cmp.Diff(want[i].Frames, frames[i], cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s streaming: frames of fragment %d mismatch (-want +got):\n%s", name, i, diff)
			}
		}
	}
}

// readStreaming reads with NextEvent, copying frames to compare them. It
// fails when a fragment's frames or end do not follow its start.
func readStreaming(r io.Reader) ([]*kvs.Fragment, [][]kvs.Frame, error) {
	rd := kvs.NewReader(r)
	var frags []*kvs.Fragment
	var frames [][]kvs.Frame
	var cur []kvs.Frame
	var open *kvs.Fragment
	for {
		ev, err := rd.NextEvent()
		if err == io.EOF {
			return frags, frames, nil
		}
		if err != nil {
			return frags, frames, err
		}
		switch {
		case ev.Kind == kvs.FragmentStartEvent:
			if open != nil {
				return frags, frames, fmt.Errorf("fragment %d starts before fragment %d ends", ev.Fragment.Index, open.Index)
			}
			open = ev.Fragment
			continue
		case ev.Fragment != open:
			return frags, frames, fmt.Errorf("%v event of fragment %d without its start", ev.Kind, ev.Fragment.Index)
		}
		if ev.Kind == kvs.FrameEvent {
			fr := *ev.Frame
			fr.Data = bytes.Clone(fr.Data)
			cur = append(cur, fr)
			continue
		}
		frags = append(frags, ev.Fragment)
		frames = append(frames, cur)
		cur, open = nil, nil
	}
}

type chunkReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1+r.rng.IntN(r.max))], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestTruncation cuts a GetMedia stream at every byte: fragments complete
// before the cut arrive whole; the cut one arrives Partial, with only
// complete frames, then a cut-off error. Unknown sizes make a cut between
// two elements of the first fragment look like an end (nothing says more
// was due); from the second on, the missing CONTINUATION_TOKEN does.
func TestTruncation(t *testing.T) {
	c := kvsgen.Generator{Fragments: 2, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600, GetMedia: true, ProducerTags: true}
	data := c.Bytes()
	full, err := readWhole(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	boundary := full[0].Offset + full[0].Size
	headerLen := ebmlHeaderLen(data)
	for cut := 1; cut < len(data); cut++ {
		got, err := readWhole(bytes.NewReader(data[:cut]))
		complete := 0
		for _, f := range full {
			if f.Offset+f.Size <= int64(cut) {
				complete++
			}
		}
		if len(got) < complete {
			t.Fatalf("cut at %d: %d fragments, want at least %d", cut, len(got), complete)
		}
		for i := range complete {
			if diff := cmp.Diff(full[i], got[i], cmpTS); diff != "" {
				t.Fatalf("cut at %d: fragment %d mismatch (-want +got):\n%s", cut, i, diff)
			}
		}
		mkvClean := pullEnds(data[:cut])
		switch {
		case int64(cut) == boundary:
			if err != nil || len(got) != 1 {
				t.Fatalf("cut between units: %d fragments, %v", len(got), err)
			}
			continue
		case mkvClean && int64(cut) < boundary && int64(cut) > headerLen:
			if err != nil {
				t.Fatalf("cut at %d, between elements of the first fragment: %v", cut, err)
			}
			continue
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d (boundary %d): error %v, want a cut-off; got %d fragments, last %+v", cut, boundary, err, len(got), got[len(got)-1])
		}
		w := full[complete]
		if len(got) == complete && int64(cut) < w.Offset+headerLen {
			continue // the cut is in the unit's EBML header: nothing of it is complete
		}
		if len(got) != complete+1 {
			t.Fatalf("cut at %d: %d fragments, want %d and a partial one", cut, len(got), complete)
		}
		p := got[complete]
		if !p.Partial || len(p.Frames) > len(w.Frames) {
			t.Fatalf("cut at %d: partial fragment Partial=%v with %d frames of %d", cut, p.Partial, len(p.Frames), len(w.Frames))
		}
		for j := range p.Frames {
			if !bytes.Equal(p.Frames[j].Data, w.Frames[j].Data) {
				t.Fatalf("cut at %d: partial frame %d differs", cut, j)
			}
		}
	}
}

// ebmlHeaderLen returns the length of the EBML header data starts with.
func ebmlHeaderLen(data []byte) int64 {
	d := mkv.NewDecoder(bytes.NewReader(data))
	for {
		ev, err := d.Next()
		if err != nil {
			return 0
		}
		if ev.Kind == mkv.End && ev.ID == mkv.IDEBML {
			return ev.DataOffset() + ev.Size
		}
	}
}

// pullEnds reports whether the mkv decoder sees a clean end in data.
func pullEnds(data []byte) bool {
	d := mkv.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := d.Next(); err != nil {
			return err == io.EOF
		}
	}
}

// blockingReader returns its data, then an error standing for a network
// read that would wait for the next fragment.
type blockingReader struct {
	data []byte
}

var errWouldBlock = errors.New("waiting for the next fragment")

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errWouldBlock
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestGetMediaCompletesAtToken checks that a GetMedia fragment is complete
// as soon as its CONTINUATION_TOKEN tags are read, before any byte of the
// next fragment, in both modes.
func TestGetMediaCompletesAtToken(t *testing.T) {
	c := kvsgen.Generator{Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600, GetMedia: true}
	data := c.Bytes()
	f, err := kvs.NewReader(&blockingReader{data}).Next()
	if err != nil || f.Partial || f.ContinuationToken == "" || f.Size != int64(len(data)) {
		t.Fatalf("Next: %+v, %v; want the whole fragment before waiting", f, err)
	}
	rd := kvs.NewReader(&blockingReader{data})
	for {
		ev, err := rd.NextEvent()
		if err != nil {
			t.Fatalf("NextEvent: %v before the fragment completed", err)
		}
		if ev.Kind == kvs.FragmentEvent {
			if ev.Fragment.Partial || ev.Fragment.ContinuationToken == "" {
				t.Fatalf("fragment %+v", ev.Fragment)
			}
			break
		}
	}
	if _, err := rd.NextEvent(); err != errWouldBlock {
		t.Errorf("after the fragment: %v, want the reader's error", err)
	}
}

// TestNoClusterNoTags checks that units without a Cluster, or without KVS
// tags, are fragments too.
func TestNoClusterNoTags(t *testing.T) {
	c := kvsgen.Generator{Fragments: 3, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600,
		Errors: map[int]kvsgen.ErrorUnit{1: {Exception: true, Code: "X"}}}
	data := c.Bytes()
	// A unit of only an EBML header and an empty Segment.
	bare := []byte{0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0x80}
	data = append(data, bare...)
	frags, err := readWhole(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 4 {
		t.Fatalf("%d fragments, want 4", len(frags))
	}
	if f := frags[1]; f.Err == nil || f.Err.Code != "X" || f.HasCluster {
		t.Errorf("error unit: %+v", f)
	}
	if f := frags[3]; f.Number != "" || f.HasCluster || len(f.Tags) != 0 || f.Size != int64(len(bare)) {
		t.Errorf("bare unit: %+v", f)
	}
}

// TestContinued checks that content after the CONTINUATION_TOKEN tags of a
// unit is not lost: it arrives as a Continued fragment of the same Index.
func TestContinued(t *testing.T) {
	c := kvsgen.Generator{Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 30, VideoBitrate: 9600, GetMedia: true}
	data := c.Bytes()
	// Tags holding one SimpleTag, after the token's Tags.
	extra := []byte{0x12, 0x54, 0xC3, 0x67, 0x8C, 0x73, 0x73, 0x89, 0x67, 0xC8, 0x86, 0x45, 0xA3, 0x83, 'E', 'N', 'D'}
	frags, err := readWhole(bytes.NewReader(append(data, extra...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 2 || frags[1].Index != 0 || !frags[1].Continued || len(frags[1].Tags) != 1 || frags[1].Tags[0].Name != "END" || frags[1].Number != frags[0].Number {
		t.Fatalf("got %d fragments: %+v", len(frags), frags)
	}
}

// TestMixingWays reads one stream by events and whole fragments in turn:
// Next gathers the frames NextEvent did not hand out, and every frame
// arrives exactly once one way or the other.
func TestMixingWays(t *testing.T) {
	c := with(func(c *kvsgen.Generator) { c.GetMedia = true })
	whole, err := readWhole(bytes.NewReader(c.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rd := kvs.NewReader(bytes.NewReader(c.Bytes()))
	var got [][]byte
	for i := range whole {
		// Fragment i: i frames as events, then the rest with Next.
		for range i {
			ev, err := rd.NextEvent()
			if err == nil && ev.Kind == kvs.FragmentStartEvent {
				ev, err = rd.NextEvent()
			}
			if err != nil || ev.Kind != kvs.FrameEvent {
				t.Fatalf("fragment %d: event %+v, %v", i, ev, err)
			}
			got = append(got, bytes.Clone(ev.Frame.Data))
		}
		f, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f.Index != i || len(f.Frames) != len(whole[i].Frames)-i {
			t.Fatalf("fragment %d: Next gave index %d with %d frames, want %d", i, f.Index, len(f.Frames), len(whole[i].Frames)-i)
		}
		for _, fr := range f.Frames {
			got = append(got, bytes.Clone(fr.Data)) // valid until the next call
		}
	}
	var want [][]byte
	for _, f := range whole {
		for _, fr := range f.Frames {
			want = append(want, fr.Data)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frames mismatch (-want +got):\n%s", diff)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after the last fragment: %v, want io.EOF", err)
	}
}

// TestPushReader pushes a stream in chunks of every size from 1 byte and
// gets the events NextEvent gives; a cut-off push ends with the partial
// fragment, then the typed error.
func TestPushReader(t *testing.T) {
	c := with(func(c *kvsgen.Generator) { c.GetMedia, c.ProducerTags, c.Audio = true, true, true })
	data := c.Bytes()
	trace := func(ev *kvs.Event) string {
		if ev.Kind == kvs.FrameEvent {
			return fmt.Sprintf("frame %d %d %v %x", ev.Fragment.Index, ev.Frame.Track, ev.Frame.Timestamp, sha256.Sum256(ev.Frame.Data))
		}
		f := ev.Fragment
		return fmt.Sprintf("fragment %d %s %d tags partial=%v", f.Index, f.Number, len(f.Tags), f.Partial)
	}
	var want []string
	for ev, err := range kvs.NewReader(bytes.NewReader(data)).Events() {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, trace(ev))
	}
	for _, chunk := range []int{1, 7, 100, 4096, len(data)} {
		var got []string
		p := kvs.NewPushReader(func(ev *kvs.Event) error {
			got = append(got, trace(ev))
			return nil
		})
		for b := data; len(b) > 0; {
			n := min(chunk, len(b))
			if _, err := p.Write(b[:n]); err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			b = b[n:]
		}
		if err := p.Close(); err != nil {
			t.Fatalf("chunk %d: Close: %v", chunk, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chunk %d: events mismatch (-want +got):\n%s", chunk, diff)
		}
	}

	// Cut in the middle of the second fragment's Cluster.
	cut := data[:len(c.Unit(0))+len(c.Unit(1))/2]
	var last *kvs.Fragment
	p := kvs.NewPushReader(func(ev *kvs.Event) error {
		if ev.Kind == kvs.FragmentEvent {
			last = ev.Fragment
		}
		return nil
	})
	if _, err := p.Write(cut); err != nil {
		t.Fatal(err)
	}
	err := p.Close()
	var se *mkv.SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Close after a cut: %v, want a *mkv.SyntaxError wrapping io.ErrUnexpectedEOF", err)
	}
	if last == nil || last.Index != 1 || !last.Partial {
		t.Errorf("last fragment before the error: %+v, want fragment 1, partial", last)
	}
	// A handler's error stops reading and comes back as it is.
	stop := errors.New("stop")
	p = kvs.NewPushReader(func(*kvs.Event) error { return stop })
	if _, err := p.Write(data); err != stop {
		t.Errorf("Write with a failing handler: %v, want its error", err)
	}
}

// TestEventKindString checks that event kinds print as words.
func TestEventKindString(t *testing.T) {
	for k, want := range map[kvs.EventKind]string{
		kvs.FrameEvent: "frame", kvs.FragmentEvent: "fragment", kvs.FragmentStartEvent: "fragment start",
		kvs.ReconnectEvent: "reconnect", 0: "EventKind(0)", 9: "EventKind(9)",
	} {
		if got := fmt.Sprint(k); got != want {
			t.Errorf("fmt.Sprint(EventKind(%d)) = %q, want %q", uint8(k), got, want)
		}
	}
}

// TestFragmentStart reads with both doors and checks that every fragment
// starts before its first frame and its end, with the tags before its
// Cluster and none of those after it; a unit without a Cluster (an
// in-band error) starts too, and Next after such a start returns it.
func TestFragmentStart(t *testing.T) {
	c := with(func(c *kvsgen.Generator) {
		c.GetMedia, c.ProducerTags, c.Audio = true, true, true
		c.Errors = map[int]kvsgen.ErrorUnit{1: {Code: "4000", ID: 7}}
	})
	data := c.Bytes()
	check := func(t *testing.T, events func(func(*kvs.Event) error) error) {
		t.Helper()
		var open *kvs.Fragment
		starts := 0
		err := events(func(ev *kvs.Event) error {
			switch ev.Kind {
			case kvs.FragmentStartEvent:
				if open != nil {
					return fmt.Errorf("fragment %d starts inside fragment %d", ev.Fragment.Index, open.Index)
				}
				open = ev.Fragment
				starts++
				var names []string
				for _, tg := range ev.Fragment.Tags {
					if tg.AfterCluster {
						return fmt.Errorf("fragment %d starts with tag %s, from after its Cluster", ev.Fragment.Index, tg.Name)
					}
					names = append(names, tg.Name)
				}
				want := []string{"CAMERA", "CALIBRATION", "AWS_KINESISVIDEO_FRAGMENT_NUMBER", "AWS_KINESISVIDEO_SERVER_TIMESTAMP", "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"}
				if ev.Fragment.Index == 1 {
					want = []string{"AWS_KINESISVIDEO_FRAGMENT_NUMBER", "AWS_KINESISVIDEO_ERROR_CODE", "AWS_KINESISVIDEO_ERROR_ID"}
				}
				if diff := cmp.Diff(want, names); diff != "" {
					return fmt.Errorf("fragment %d: tags at its start mismatch (-want +got):\n%s", ev.Fragment.Index, diff)
				}
			case kvs.FrameEvent, kvs.FragmentEvent:
				if ev.Fragment != open {
					return fmt.Errorf("%v of fragment %d before its start", ev.Kind, ev.Fragment.Index)
				}
				if ev.Kind == kvs.FragmentEvent {
					open = nil
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if starts != c.Fragments {
			t.Errorf("%d fragment starts, want %d", starts, c.Fragments)
		}
	}
	t.Run("NextEvent", func(t *testing.T) {
		check(t, func(handle func(*kvs.Event) error) error {
			for ev, err := range kvs.NewReader(bytes.NewReader(data)).Events() {
				if err != nil {
					return err
				}
				if err := handle(ev); err != nil {
					return err
				}
			}
			return nil
		})
	})
	t.Run("PushReader", func(t *testing.T) {
		check(t, func(handle func(*kvs.Event) error) error {
			p := kvs.NewPushReader(handle)
			if _, err := p.Write(data); err != nil {
				return err
			}
			return p.Close()
		})
	})
	t.Run("Next after a start", func(t *testing.T) {
		rd := kvs.NewReader(bytes.NewReader(data))
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
		ev, err := rd.NextEvent()
		if err != nil || ev.Kind != kvs.FragmentStartEvent || ev.Fragment.Index != 1 {
			t.Fatalf("NextEvent after fragment 0: %v, %v; want the start of fragment 1", ev, err)
		}
		f, err := rd.Next()
		if err != nil || f.Index != 1 || f.Err == nil {
			t.Fatalf("Next after the start of fragment 1: %+v, %v; want fragment 1 with its in-band error", f, err)
		}
	})
}
