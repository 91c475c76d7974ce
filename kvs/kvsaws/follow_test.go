package kvsaws_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// plane is a scripted GetMedia data plane: it serves the units of a
// generated GetMedia stream from where the start selector says, and a
// plan may cut or alter each session's body.
type plane struct {
	units  [][]byte
	number []tags.FragmentNumber
	plan   func(call, first int, body []byte) []byte

	mu    sync.Mutex
	calls int
}

func newPlane(n int, plan func(call, first int, body []byte) []byte) *plane {
	g := kvsgen.Generator{Fragments: n, GetMedia: true, FPS: 10, VideoBitrate: 40_000, FragmentDuration: 500e6, Audio: true}
	p := &plane{plan: plan}
	for i := range n {
		p.units = append(p.units, g.Unit(i))
		p.number = append(p.number, tags.FragmentNumber((kvsgen.Generator{}).FragmentNumber(i)))
	}
	return p
}

func (p *plane) index(n tags.FragmentNumber) int {
	for i, m := range p.number {
		if m == n {
			return i
		}
	}
	return len(p.number)
}

func (p *plane) GetMedia(_ context.Context, _ string, in *kvsaws.GetMediaInput) (*kvsaws.MediaOutput, error) {
	sel := in.StartSelector
	first := 0
	switch sel.StartSelectorType {
	case kvsaws.StartAtContinuationToken:
		first = p.index(tags.FragmentNumber(sel.ContinuationToken)) + 1
	case kvsaws.StartAtFragmentNumber:
		first = p.index(sel.AfterFragmentNumber) + 1
	}
	p.mu.Lock()
	call := p.calls
	p.calls++
	p.mu.Unlock()
	var body []byte
	for _, u := range p.units[min(first, len(p.units)):] {
		body = append(body, u...)
	}
	if p.plan != nil {
		body = p.plan(call, first, body)
	}
	return &kvsaws.MediaOutput{Payload: io.NopCloser(bytes.NewReader(body))}, nil
}

func (p *plane) ListFragments(context.Context, string, *kvsaws.ListFragmentsInput) (*kvsaws.ListFragmentsOutput, error) {
	return nil, errors.New("not scripted")
}

func (p *plane) GetMediaForFragmentList(context.Context, string, *kvsaws.GetMediaForFragmentListInput) (*kvsaws.MediaOutput, error) {
	return nil, errors.New("not scripted")
}

type resolver struct{}

func (resolver) GetDataEndpoint(context.Context, *kinesisvideo.GetDataEndpointInput, ...func(*kinesisvideo.Options)) (*kinesisvideo.GetDataEndpointOutput, error) {
	return &kinesisvideo.GetDataEndpointOutput{DataEndpoint: aws.String("https://scripted")}, nil
}

func scripted(p *plane) *kvsaws.Client {
	return kvsaws.NewFromConfig(aws.Config{}, fastRetries, func(o *kvsaws.Options) {
		o.DataPlane, o.EndpointResolver = p, resolver{}
	})
}

// frameLog follows with FollowFrames until every fragment of p has ended
// (or been cut off), and returns the frames seen as "fragment:hash" and
// the fragments cut off.
func frameLog(t *testing.T, c *kvsaws.Client, p *plane) (frames []string, cut []tags.FragmentNumber, reconnects int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := map[tags.FragmentNumber]int{}
	ended := 0
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	for ev, err := range c.FollowFrames(ctx, "cam", start) {
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		switch ev.Kind {
		case kvs.FragmentStartEvent:
			started[ev.Fragment.Number]++
			if started[ev.Fragment.Number] > 1 {
				t.Fatalf("fragment %s started twice", ev.Fragment.Number)
			}
		case kvs.FrameEvent:
			frames = append(frames, fmt.Sprintf("%s:%x", ev.Fragment.Number, sha256.Sum256(ev.Frame.Data)))
		case kvs.FragmentEvent:
			if ev.Fragment.Partial {
				cut = append(cut, ev.Fragment.Number)
			}
			ended++
		case kvs.ReconnectEvent:
			if ev.Err == nil {
				t.Fatal("a reconnect without its reason")
			}
			reconnects++
		}
		if ended == len(p.units) {
			break
		}
	}
	return frames, cut, reconnects
}

// TestFollowFramesCuts cuts GetMedia bodies at random byte positions
// (inside frames, inside tags, between fragments): the frames received,
// in order, are exactly those of an uncut follow, each once.
func TestFollowFramesCuts(t *testing.T) {
	want, cut, _ := frameLog(t, scripted(newPlane(12, nil)), newPlane(12, nil))
	if len(want) == 0 || len(cut) != 0 {
		t.Fatalf("uncut follow: %d frames, cut %v", len(want), cut)
	}
	rng := rand.New(rand.NewPCG(7, 13))
	cuts := 10
	p := newPlane(12, func(call, first int, body []byte) []byte {
		if call < cuts {
			return body[:rng.IntN(len(body))]
		}
		return body
	})
	got, cut, reconnects := frameLog(t, scripted(p), p)
	if len(cut) != 0 {
		t.Errorf("fragments reported cut off although resent: %v", cut)
	}
	if reconnects < cuts {
		t.Errorf("%d reconnects, want at least %d", reconnects, cuts)
	}
	if len(got) != len(want) {
		t.Fatalf("%d frames with cuts, %d without", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d: %s, want %s", i, got[i], want[i])
		}
	}
}

// TestFollowFramesNotResent cuts fragment 3 in the middle, and the next
// session does not send it again: it is reported cut off, with the frames
// delivered before the cut, and the follow goes on with fragment 4.
func TestFollowFramesNotResent(t *testing.T) {
	p := newPlane(6, nil)
	cutAt := len(p.units[0]) + len(p.units[1]) + len(p.units[2]) + len(p.units[3])*2/3
	p.plan = func(call, first int, body []byte) []byte {
		switch call {
		case 0:
			return body[:cutAt]
		case 1:
			return body[len(p.units[3]):] // fragment 3 is gone
		}
		return body
	}
	got, cut, _ := frameLog(t, scripted(p), p)
	if len(cut) != 1 || cut[0] != p.number[3] {
		t.Fatalf("cut off: %v, want [%s]", cut, p.number[3])
	}
	in3, in4 := 0, 0
	for _, f := range got {
		switch {
		case bytes.HasPrefix([]byte(f), []byte(p.number[3]+":")):
			in3++
		case bytes.HasPrefix([]byte(f), []byte(p.number[4]+":")):
			in4++
		}
	}
	if in3 == 0 || in4 == 0 {
		t.Errorf("%d frames of the cut fragment, %d of the next", in3, in4)
	}
}

// corrupt returns a plan that zeroes the element ID of the n-th block of
// unit u (an invalid ID), at the same place in every serving.
func corrupt(t *testing.T, p *plane, u, n int) func(call, first int, body []byte) []byte {
	off := blockOffset(t, p, u, n, func(ev *mkv.Event) int64 { return ev.Offset })
	return patch(p, off, func(int) bool { return true }, func(byte) byte { return 0 })
}

// blockOffset returns the offset in the whole of p's units of the byte
// that at picks, as an offset in unit u, in the n-th block of unit u.
func blockOffset(t *testing.T, p *plane, u, n int, at func(ev *mkv.Event) int64) int64 {
	off := int64(0)
	for _, b := range p.units[:u] {
		off += int64(len(b))
	}
	blocks := 0
	for ev, err := range mkv.NewDecoder(bytes.NewReader(p.units[u])).All() {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == mkv.BlockKind {
			if blocks == n {
				return off + at(ev)
			}
			blocks++
		}
	}
	t.Fatalf("unit %d has no block %d", u, n)
	return 0
}

// patch returns a plan that changes the byte at offset off of p's units
// with change, in a copy of each serving that holds it and for whose call
// when returns true.
func patch(p *plane, off int64, when func(call int) bool, change func(byte) byte) func(call, first int, body []byte) []byte {
	return func(call, first int, body []byte) []byte {
		at := off
		for _, b := range p.units[:first] {
			at -= int64(len(b))
		}
		if at < 0 || !when(call) {
			return body
		}
		body = bytes.Clone(body)
		body[at] = change(body[at])
		return body
	}
}

// TestFollowMalformedEveryTime serves fragment 5 malformed every time: the
// follow delivers 0-4, then ends with a *FollowError within MaxFailures
// sessions instead of calling GetMedia forever; with SkipFailing it
// delivers fragment 5 marked Partial and goes on to the end.
func TestFollowMalformedEveryTime(t *testing.T) {
	p := newPlane(8, nil)
	p.plan = corrupt(t, p, 5, 3)
	c := scripted(p)
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	n := 0
	var ferr *kvsaws.FollowError
	for f, err := range c.Follow(context.Background(), "cam", start, func(o *kvsaws.FollowOptions) { o.MaxFailures = 3 }) {
		if err != nil {
			if !errors.As(err, &ferr) {
				t.Fatalf("after %d fragments: %v, want a *FollowError", n, err)
			}
			break
		}
		if f.Number != p.number[n] {
			t.Fatalf("fragment %d: %s", n, f.Number)
		}
		n++
	}
	var se *mkv.SyntaxError
	if n != 5 || ferr == nil || ferr.Fragment != p.number[5] || ferr.Failures != 3 || !errors.As(ferr, &se) {
		t.Fatalf("%d fragments, error %+v", n, ferr)
	}
	if p.calls != 3 {
		t.Errorf("%d GetMedia calls, want 3", p.calls)
	}

	p = newPlane(8, nil)
	p.plan = corrupt(t, p, 5, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	for f, err := range scripted(p).Follow(ctx, "cam", start, func(o *kvsaws.FollowOptions) { o.MaxFailures, o.SkipFailing = 2, true }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %v", f.Index, f.Number, f.Partial))
		if len(got) == 8 {
			break
		}
	}
	want := []string{}
	for i := range 8 {
		want = append(want, fmt.Sprintf("%d %s %v", i, p.number[i], i == 5))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("with SkipFailing:\n got %v\nwant %v", got, want)
	}
}

// TestFollowCheckpoint stops a follow after 3 fragments and starts another
// with the same file checkpoint: it goes on with fragment 3, none repeated.
func TestFollowCheckpoint(t *testing.T) {
	srv, numbers := emulator(t, 8)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	cp := kvsaws.NewFileCheckpointer(filepath.Join(t.TempDir(), "cp.json"))
	withCP := func(o *kvsaws.FollowOptions) { o.Checkpointer = cp }
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	var got []tags.FragmentNumber
	for f, err := range c.Follow(context.Background(), "cam", start, withCP) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Number)
		if len(got) == 3 {
			break
		}
	}
	pos, err := cp.Load(context.Background(), "cam")
	if err != nil || pos.FragmentNumber != numbers[1] {
		// The third fragment was being handled when the loop broke: only
		// the second is saved (at-least-once).
		t.Fatalf("saved position %+v, %v; want fragment %s", pos, err, numbers[1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for f, err := range c.Follow(ctx, "cam", start, withCP) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Number)
		if f.Number == numbers[len(numbers)-1] {
			break
		}
	}
	want := append(append([]tags.FragmentNumber{}, numbers[:3]...), numbers[2:]...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fragments across the restart:\n got %v\nwant %v", got, want)
	}
}

// TestFollowInvalidEndpoint answers one GetMedia with
// InvalidEndpointException: the client resolves the endpoint again and
// goes on, losing no fragment.
func TestFollowInvalidEndpoint(t *testing.T) {
	srv, numbers := emulator(t, 6)
	srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.GetMedia}, Status: 400, Type: kvsaws.CodeInvalidEndpoint})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for f, err := range c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}) {
		if err != nil || f.Number != numbers[n] {
			t.Fatalf("fragment %d: %v, %v", n, f, err)
		}
		n++
		if n == len(numbers) {
			break
		}
	}
	if got := srv.Requests(kvstest.GetDataEndpoint); got < 2 {
		t.Errorf("%d GetDataEndpoint calls, want the endpoint resolved again", got)
	}
}

// TestFollowIdlePolling follows a stream that has nothing new with the
// default pacing: the calls slow down, far under KVS's 5 a second.
func TestFollowIdlePolling(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s")
	}
	srv, _ := emulator(t, 2)
	c := kvsaws.NewFromConfig(srv.Config())
	ctx, cancel := context.WithTimeout(context.Background(), 3e9)
	defer cancel()
	for _, err := range c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("idle follow: %v", err)
		}
	}
	// Waits of 0.5, 1 and 2 s between sessions: 4 calls in 3 s.
	if n := srv.Requests(kvstest.GetMedia); n > 5 {
		t.Errorf("%d GetMedia calls in 3 s of an idle follow, want at most 5", n)
	}
}

// TestBatchRetriesCountProgress cuts one 30-fragment batch 20 times, each
// cut further in: every retry brings fragments, so the batch arrives whole
// although the retryer allows 6 attempts; a body that always breaks at its
// start ends with a *BatchError saying where.
func TestBatchRetriesCountProgress(t *testing.T) {
	srv, numbers := emulator(t, 30)
	var cuts []int64
	for i := range 20 {
		cuts = append(cuts, int64(2000+i*50))
	}
	for _, at := range cuts {
		srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: at})
	}
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	n := 0
	for f, err := range c.GetFragments(context.Background(), "cam", numbers) {
		if err != nil || f.Number != numbers[n] {
			t.Fatalf("fragment %d: %v", n, err)
		}
		n++
	}
	if n != 30 {
		t.Fatalf("%d fragments, want 30", n)
	}

	srv, numbers = emulator(t, 5)
	for range 10 {
		srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 10})
	}
	c = kvsaws.NewFromConfig(srv.Config(), fastRetries)
	var berr *kvsaws.BatchError
	for _, err := range c.GetFragments(context.Background(), "cam", numbers[:5]) {
		if err != nil && !errors.As(err, &berr) {
			t.Fatalf("got %v, want a *BatchError", err)
		}
	}
	if berr == nil || berr.Batch != 0 || berr.Fragment != numbers[0] || berr.NoProgress != 6 {
		t.Errorf("BatchError %+v", berr)
	}
}

var _ kvs.Option // the reader's options reach every body through Options.ReaderOptions

// TestFollowFramesReconnectReasons checks that every ReconnectEvent says
// why: ErrMediaEnded after a body that ended cleanly, the decoder's error
// (io.ErrUnexpectedEOF) after one cut inside a fragment.
func TestFollowFramesReconnectReasons(t *testing.T) {
	p := newPlane(4, nil)
	p.plan = func(call, first int, body []byte) []byte {
		switch call {
		case 0:
			return body[:len(p.units[0])] // ends cleanly after fragment 0
		case 1:
			return body[:len(p.units[1])/2] // cut inside fragment 1
		}
		return body
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reasons []error
	ended := 0
	for ev, err := range scripted(p).FollowFrames(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case kvs.ReconnectEvent:
			reasons = append(reasons, ev.Err)
		case kvs.FragmentEvent:
			ended++
		}
		if ended == len(p.units) {
			break
		}
	}
	if len(reasons) != 2 || !errors.Is(reasons[0], kvsaws.ErrMediaEnded) || !errors.Is(reasons[1], io.ErrUnexpectedEOF) {
		t.Errorf("reconnects %v, want [%v, a cut-off error]", reasons, kvsaws.ErrMediaEnded)
	}
}
